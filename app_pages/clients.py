"""My clients: the clients I may see, their workshops over time, one client's history, and
importing a past assessment."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from app_pages.common import (
    client_filters,
    consultant_page,
    offered,
    open_store,
    plain,
    questionnaires,
    sentence,
)
from assessment import portfolio_charts
from assessment.errors import StoreError
from assessment.history import client_labels, history, plan_share
from assessment.importing import ImportRefused, import_assessment, preview
from assessment.portfolio import SIZE_BANDS

PAGE = 50

store = open_store()
shipped = questionnaires()
user = consultant_page(store, "My clients")

# ---------------------------------------------------------------- the list
search, chosen = client_filters(store, user, "clients")



def _page(number: int):
    return store.client_page(user, search.strip(), chosen["sector"], chosen["size_band"],
                             chosen["region"], limit=PAGE, offset=PAGE * (number - 1))


clients, total = _page(st.session_state.get("clients_page", 1))
total_pages = max(1, -(-total // PAGE))
if st.session_state.get("clients_page", 1) > total_pages:  # the filter left fewer pages
    st.session_state["clients_page"] = 1
    clients, total = _page(1)
if total_pages > 1:
    st.number_input(f"Page (of {total_pages})", min_value=1, max_value=total_pages,
                    key="clients_page")
workshops = store.workshops_by_client(user, [c.id for c in clients])


def _timeline(client_id: int) -> str:
    return " · ".join(f"{e.held_on:%Y-%m-%d} {e.status}" for e in workshops.get(client_id, []))


st.caption(f"{total} client(s) you may see" + (" match" if search or any(chosen.values())
                                                else ""))
if not clients:
    st.info("No clients yet. Add one below, or create a workshop on the Facilitator page.")
else:
    st.dataframe(pd.DataFrame({
        "Client": [c.name + ("  (demo: invented data)" if c.is_demo else "") for c in clients],
        "Sector": [c.sector for c in clients],
        "Size band": [c.size_band for c in clients],
        "Region": [c.region for c in clients],
        "Workshops (held, status)": [_timeline(c.id) for c in clients],
    }), hide_index=True, width="stretch")

with st.expander("Add a client"):
    with st.form("new_client", clear_on_submit=True):
        name = st.text_input("Client name", max_chars=200, key="clients_new_name")
        a, b, c = st.columns(3)
        new_sector = a.text_input("Sector", max_chars=100)
        new_size = b.selectbox("Size band (employees)", ["", *SIZE_BANDS], key="clients_new_size")
        new_region = c.text_input("Region", max_chars=100)
        if st.form_submit_button("Add client"):
            try:
                made = store.create_client_for(user, name, new_sector, new_size, new_region)
                st.session_state["clients_open"] = made.id
                st.rerun()
            except StoreError as e:
                st.error(sentence(e))

if not clients:
    st.stop()

# ---------------------------------------------------------------- one client
ids = [c.id for c in clients]
by_id = {c.id: c for c in clients}
if st.session_state.get("clients_open") not in ids:
    st.session_state["clients_open"] = ids[0]
labels = client_labels({c.id: c.name for c in clients})  # two "Acme"s: both reachable
picked = st.selectbox("Client", ids, key="clients_open",
                      format_func=lambda i: labels[i] + (" (demo)" if by_id[i].is_demo else ""))
try:
    client, entries, cached = store.history_frame(user, offered(picked, ids, ids[0]))
except StoreError as e:
    st.error(sentence(e))
    st.stop()
st.header(plain(client.name))
if client.is_demo:
    st.warning("Demo client: invented data to show the tool. It is read-only and never counts "
               "in comparisons or benchmarks.")

with st.expander("Sector, size band and region", expanded=not (client.sector or client.region)):
    with st.form(f"client_facts_{client.id}"):
        a, b, c = st.columns(3)
        sector = a.text_input("Sector", client.sector, max_chars=100)
        bands = ["", *SIZE_BANDS] + ([client.size_band] if client.size_band
                                     and client.size_band not in SIZE_BANDS else [])
        size_band = b.selectbox("Size band (employees)", bands,
                                index=bands.index(client.size_band or ""))
        region = c.text_input("Region", client.region, max_chars=100)
        if st.form_submit_button("Save", disabled=client.is_demo):
            try:
                store.update_client(user, client.id, sector, size_band, region)
                st.session_state["client_facts_saved"] = True  # said after the rerun
                st.rerun()
            except StoreError as e:
                st.error(sentence(e))
    if st.session_state.pop("client_facts_saved", False):
        st.success("Saved.")

st.subheader("History")
used = [q for q in dict.fromkeys(qid for e in entries for qid in e.questionnaire_ids)
        if q in shipped]
if not entries:
    st.info("No workshops yet for this client.")
elif not used:
    st.info("This client's workshops use questionnaires this installation does not have.")
else:
    qid = offered(st.selectbox("Questionnaire", used, key="history_questionnaire",
                               format_func=lambda i: shipped[i].title), used, used[0])
    q = shipped[qid]
    table = history(entries, cached, q)
    if table.empty:
        st.info("No completed workshop with this questionnaire yet: scores appear here once "
                "answering is closed (or a past assessment is imported).")
    else:
        st.caption("The agreed score where the team recorded one, else the computed score. "
                   "A change is within noise when it is smaller than the pooled standard "
                   "deviation of the two workshops' per-person scores (the team's own spread).")
        shown = pd.DataFrame({
            "Held": table["held_on"], "Workshop": table["title"], "Status": table["status"],
            "Dimension": table["name"], "Score": table["score"].round(2),
            "Level": table["level"],
            "Change": [("" if pd.isna(c) else f"{a} {c:+.2f}") for a, c in
                       zip(table["arrow"], table["change"], strict=True)],
            "Within noise": [{True: "yes", False: "no"}.get(w, "") for w in table["within_noise"]],
            "Noise (pooled SD)": ["" if pd.isna(n) else f"{n:.2f}" for n in table["noise"]],
            "Note": table["note"]})
        st.dataframe(shown, hide_index=True, width="stretch")
        st.altair_chart(portfolio_charts.over_time(table, q), width="stretch")
    done = plan_share(store.plan_done(user, client.id), [e.id for e in entries])
    st.markdown("**Share of plan actions done per workshop**")
    st.caption("Of the actions saved on the workshop's plan page (given an owner, due date, "
               "status or note there, or moved), without the dropped ones: an action never "
               "touched there is not counted.")
    st.dataframe(pd.DataFrame({
        "Held": [e.held_on for e in entries], "Workshop": [e.title for e in entries],
        "Status": [e.status for e in entries],
        "Done": [f"{d} of {n} saved action{'' if n == 1 else 's'} ({s:.0%})" if n
                 else "no plan saved" for d, n, s in
                 zip(done["done"], done["actions"], done["share"], strict=True)]}),
        hide_index=True, width="stretch")

# ---------------------------------------------------------------- importing
st.subheader("Import a past assessment")
if client.is_demo:
    st.caption("Not into the demo client: pick or add a client of your own.")
    st.stop()
st.caption("A file in the template format (CSV or XLSX; `python -m assessment template "
           "QUESTIONNAIRE` writes one): columns respondent, role, question, option, value, "
           "comment; one assessment per file. Every problem is listed by row, and nothing is "
           "written unless the whole file is sound.")
qids = list(shipped)
a, b, c = st.columns(3)
import_q = offered(a.selectbox("Questionnaire", qids, key="import_questionnaire",
                               format_func=lambda i: shipped[i].title), qids, qids[0])
held_on = b.date_input("Held on", value=date.today(), max_value=date.today(),
                       min_value=date(1990, 1, 1), key="import_date")
title = c.text_input("Title", value=f"{shipped[import_q].title} (imported)", max_chars=200,
                     key="import_title")
if st.session_state.pop("import_done", None):
    st.success("Imported: it is in the history above, marked imported.")
# A new key after each import empties the uploader, so one file is never imported twice.
upload = st.file_uploader("Responses file", type=["csv", "xlsx"],
                          key=f"import_file_{st.session_state.get('import_round', 0)}")
if upload is not None:
    checked = preview(upload.getvalue(), upload.name, shipped[import_q])
    if not checked.ok:
        st.error(f"{checked.total_problems} problem(s) in {plain(checked.source)}; nothing "
                 f"will be imported until they are fixed:")
        st.dataframe(pd.DataFrame({
            "Row": [p.row or "file" for p in checked.problems],
            "Column": [p.column for p in checked.problems],
            "Value": [p.value for p in checked.problems],
            "Problem": [p.message for p in checked.problems]}), hide_index=True,
            width="stretch")
        if checked.total_problems > len(checked.problems):
            st.caption(f"... and {checked.total_problems - len(checked.problems)} more.")
    else:
        names = {d.id: d.name for d in shipped[import_q].dimensions} | {"overall": "Overall"}
        st.success(f"{len(checked.people)} respondent(s), {len(checked.answer_rows):,} "
                   f"answer(s): ready to import.")
        st.dataframe(pd.DataFrame({
            "Dimension": checked.scores["dimension"].map(names),
            "Score": checked.scores["score"].round(2), "Level": checked.scores["level"],
            "Respondents": checked.scores["respondents"]}), hide_index=True)
        if st.button("Import", key="import_go", type="primary"):
            bar = st.progress(0.0, text="importing")
            try:
                import_assessment(store, user, client.id, checked, held_on, title,
                                  progress=lambda share, text: bar.progress(share, text=text))
                st.session_state["import_done"] = True
                st.session_state["import_round"] = st.session_state.get("import_round", 0) + 1
                st.rerun()
            except (ImportRefused, StoreError) as e:
                st.error(sentence(e))
