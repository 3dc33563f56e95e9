"""Instrument: how consistently each dimension's questions measure one thing (Cronbach's alpha),
over every respondent of this installation's clients (never the demo). For admins."""

from __future__ import annotations

import streamlit as st

from app_pages.common import consultant_page, offered, open_store, plain, questionnaires
from assessment.reliability import (
    ACCEPTABLE,
    COLUMNS,
    GOOD,
    ITEM_TOTAL_FLAG,
    MIN_RESPONDENTS,
    InstallationAnswers,
    installation_answers,
    reliability,
    uploaded_answers,
)
from assessment.responses import ResponsesError
from assessment.store import database_url
from assessment.uploads import UploadError

INSTALLATION, FILE = "This installation's clients", "A responses file"

store = open_store()
shipped = questionnaires()

user = consultant_page(store, "Instrument")
if not user.is_admin:
    st.info("This page is for admins: it draws on the answers of every client of this "
            "installation.")
    st.stop()


@st.cache_data(ttl=60, max_entries=16, show_spinner="Reading every workshop's answers…")
def _answers(url: str, questionnaire_id: str) -> InstallationAnswers:
    return installation_answers(open_store(), shipped[questionnaire_id])


st.write("Does the questionnaire measure anything? Each dimension's questions should move "
         "together: someone who sees strong leadership commitment in one question should tend "
         "to see it in the others. These figures answer a board's \"how do you know?\".")
ids = list(shipped)
qid = offered(st.radio("Questionnaire", ids, horizontal=True, key="instrument_questionnaire",
                       format_func=lambda i: shipped[i].title), ids, ids[0])
q = shipped[qid]
listwise = st.toggle("Only respondents who answered every question of a dimension (listwise)",
                     value=False, key="instrument_listwise",
                     help="Off: each pair of questions is compared over everyone who answered "
                          "both (pairwise, as R's psych::alpha and pingouin do by default).")
source = offered(st.radio("Respondents", [INSTALLATION, FILE], horizontal=True,
                          key="instrument_source"), [INSTALLATION, FILE], INSTALLATION)
if source == FILE:
    upload = st.file_uploader("Responses file (the command line's format: CSV or XLSX)",
                              type=["csv", "xlsx"], key="instrument_file")
    if upload is None:
        st.stop()
    try:
        answers = uploaded_answers(upload.getvalue(), upload.name, q)
    except (UploadError, ResponsesError) as e:
        st.error("The file is refused, as the command line would refuse it:")
        st.text(str(e))
        st.stop()
    result = reliability(answers, q, listwise=bool(listwise))
    st.caption(f"{result.respondents} respondents in {plain(upload.name)}, read against "
               f"{plain(q.title)} version {plain(q.version)}.")
else:
    data = _answers(database_url(), qid)
    result = reliability(data.answers, q, listwise=bool(listwise))
    st.caption(f"{result.respondents} respondents in {data.workshops} workshop(s) of this "
               f"installation's clients; the demo client is left out. Answers are read against "
               f"{plain(q.title)} version {plain(q.version)}"
               + (f"; {data.left_out} stored answer(s) that no longer fit it are left out."
                  if data.left_out else "."))

st.markdown(
    f"**Cronbach's alpha** says how consistently a dimension's questions measure one thing: "
    f"near 1 when people who rate one question high rate the others high too, near 0 when the "
    f"answers are unrelated. **Good** from {GOOD}, **acceptable** from {ACCEPTABLE}, **weak** "
    f"below (published instruments report 0.7 to 0.9; Narver and Slater's MKTOR 0.88). No alpha "
    f"for a dimension with fewer than {MIN_RESPONDENTS} respondents: below that it is too "
    f"unstable to quote.")

table = result.table
dims = table[table["item"] == ""]
st.subheader("Per dimension")
st.dataframe(
    dims.assign(Dimension=dims["name"])[["Dimension", "n", "alpha", "verdict"]],
    hide_index=True, placeholder="—", column_config={
        "n": st.column_config.NumberColumn(
            "Respondents", help="Respondents who answered at least one of its questions "
                                "(listwise: all of them)"),
        "alpha": st.column_config.NumberColumn("Alpha", format="%.2f"),
        "verdict": "Verdict"})
for note in result.notes:
    st.caption(plain(note))

st.subheader("Per question")
st.markdown(
    f"**Item-total correlation** (corrected): how well a question goes with the sum of the "
    f"other questions of its dimension; below {ITEM_TOTAL_FLAG} it is flagged, as it may "
    f"measure something else or be read differently. **Alpha if deleted**: the dimension's "
    f"alpha without that question; higher than the dimension's alpha means the dimension would "
    f"be more consistent without it. Reverse-coded questions are turned round first.")
items = table[table["item"] != ""]
names = {d.id: d.name for d in q.dimensions}
st.dataframe(
    items.assign(Dimension=items["dimension"].map(names),
                 flag=items["flagged"].map({True: "⚑ below " + str(ITEM_TOTAL_FLAG),
                                            False: ""}))[
        ["Dimension", "item", "n", "alpha_if_deleted", "item_total_r", "flag", "name"]],
    hide_index=True, placeholder="—", column_config={
        "item": "Question",
        "Dimension": st.column_config.TextColumn("Dimension", width="medium"),
        "name": st.column_config.TextColumn("Text", width="large"),
        "n": st.column_config.NumberColumn("Answered", help="Respondents who answered it"),
        "alpha_if_deleted": st.column_config.NumberColumn("Alpha if deleted", format="%.2f"),
        "item_total_r": st.column_config.NumberColumn("Item-total r", format="%.2f"),
        "flag": "Flag"})

st.download_button(
    "Download as CSV", table.loc[:, list(COLUMNS)].to_csv(index=False, float_format="%.6f"),
    file_name=f"reliability-{qid}-{'listwise' if listwise else 'pairwise'}.csv",
    mime="text/csv", key="instrument_csv",
    help="The columns of `python -m assessment reliability`: one row per dimension, then one "
         "per question.")
