"""Answer: a participant joins with the code and answers privately; every answer is saved at once."""

from __future__ import annotations

import streamlit as st

from app_pages.common import (
    client_address,
    offered,
    open_store,
    personal_link,
    plain,
    questionnaires,
    sentence,
    workshop_results,
)
from assessment.model import Question, Questionnaire
from assessment.store import ROLES, StoreError
from assessment.workshop import is_answered

store = open_store()
shipped = questionnaires()


def save(participant_id: int, questionnaire_id: str, question: Question, key: str,
         option: str = "") -> None:
    """Widget callback: write the widget's value to the store the moment it changes.

    The store checks the value (a client can send anything); what it refuses is reported under
    the question and the widget goes back to the stored answer.
    """
    value = st.session_state.get(key)
    question_key = f"{questionnaire_id}.{question.id}"
    if question.type == "ranking":
        order = list(value) if isinstance(value, (list, tuple)) else []
        rows = [(question.id, o, str(order.index(o) + 1) if o in order else "")
                for o in question.option_ids]
    else:
        rows = [(question.id, option, "" if value is None else value)]
    try:
        stored = store.save_answers(participant_id, questionnaire_id, rows)
    except StoreError as e:
        st.session_state[f"error.{question_key}"] = str(e)
        # The widget shows the stored answer again (set, not dropped: a dropped value would
        # leave the browser showing the refused one and sending it with the next change).
        st.session_state[key] = stored_value(question, st.session_state.get("given", {}),
                                             option)
        return
    st.session_state.pop(f"error.{question_key}", None)
    given = st.session_state.setdefault("given", {})
    given.update({(q, o): v for q, o, v in stored})


def stored_value(question: Question, given: dict, option: str = ""):
    """What the question's widget shows for the stored answer (option: one allocation box)."""
    if question.type == "allocation":
        points = given.get((question.id, option), "")
        return int(points) if points.isdigit() else 0
    if question.type == "ranking":
        ranked = [o for o in question.option_ids if given.get((question.id, o), "").isdigit()]
        return sorted(ranked, key=lambda o: int(given[(question.id, o)]))
    saved = given.get((question.id, ""), "")
    if question.type == "text":
        return saved
    if question.type == "choice":
        return saved if saved in question.option_ids else None
    if saved.lower() == "n/a":
        return "n/a" if question.allow_na else None
    return int(saved) if saved.isdigit() else None


def join_form() -> None:
    """Join with the code, a name and a role; the personal link then goes into the URL."""
    st.title("Join the workshop")
    code = st.query_params.get("join", "")
    try:
        workshop = store.find_workshop(code, client_address()) if code else None
    except StoreError as e:
        st.error(sentence(e))
        workshop = None
    if workshop is not None:
        st.write(f"**{plain(workshop.client_name)}** · {plain(workshop.title)}")
    with st.form("join"):
        code = st.text_input("Join code", value=code, max_chars=6, key="join_code")
        name = st.text_input("Your name", max_chars=80, key="join_name",
                             help="Shown to the facilitator only; the team sees results "
                                  "without names unless the facilitator chooses otherwise.")
        role = st.selectbox("Your role", ROLES, format_func=str.capitalize, key="join_role")
        submitted = st.form_submit_button("Join", type="primary")
    if submitted:
        try:
            _, token = store.join(code, name, role, client_address())
        except StoreError as e:
            st.error(sentence(e))
            return
        st.query_params.clear()
        st.query_params["p"] = token
        st.rerun()


@st.fragment
def render_question(question: Question, q: Questionnaire, pid: int, disabled: bool) -> None:
    """One question; a click on it reruns this question only (the answer is saved first)."""
    given = st.session_state.get("given", {})
    key = f"{q.id}.{question.id}"
    saved = given.get((question.id, ""), "")
    common = dict(key=key, disabled=disabled, on_change=save, args=(pid, q.id, question, key))
    with st.container(border=True):
        st.markdown(f"**{question.text}**")
        if question.help:
            st.caption(question.help)
        if question.type in ("level", "likert"):
            options = list(range(q.scale.min, q.scale.max + 1))
            if question.allow_na:
                options.append("n/a")
            if question.type == "level":
                labels = dict(zip(options, question.anchors, strict=False))
            else:
                labels = dict(zip(options, question.labels or q.scale.labels, strict=False))
            labels["n/a"] = "Not applicable to us"
            current = next((o for o in options if str(o) == saved.lower()), None)
            st.radio("Your answer", options, index=None if current is None else
                     options.index(current), format_func=lambda o: labels[o],
                     horizontal=question.type == "likert", label_visibility="collapsed",
                     **common)
        elif question.type == "choice":
            ids = list(question.option_ids)
            labels = {o.id: o.label for o in question.options}
            st.radio("Your answer", ids, index=ids.index(saved) if saved in ids else None,
                     format_func=lambda o: labels[o], label_visibility="collapsed", **common)
        elif question.type == "text":
            st.text_area("Your answer", value=saved, max_chars=2000, label_visibility="collapsed",
                         placeholder="Saved when you click outside the box", **common)
        elif question.type == "ranking":
            labels = {o.id: o.label for o in question.options}
            # Only whole-number ranks count: a stored value from an older version is ignored.
            ranked = sorted((o for o in question.option_ids
                             if given.get((question.id, o), "").isdigit()),
                            key=lambda o: int(given[(question.id, o)]))
            st.multiselect("Pick them in order, most vital first", list(question.option_ids),
                           default=ranked, format_func=lambda o: labels[o], **common)
        elif question.type == "allocation":
            total = 0
            columns = st.columns(2)
            for i, option in enumerate(question.options):
                points = given.get((question.id, option.id), "")
                points = int(points) if points.isdigit() else 0
                total += points
                option_key = f"{key}.{option.id}"
                with columns[i % 2]:
                    st.number_input(option.label, min_value=0, max_value=question.total, step=5,
                                    value=points, key=option_key, disabled=disabled,
                                    on_change=save, args=(pid, q.id, question, option_key,
                                                          option.id))
            left = question.total - total
            if left == 0:
                st.success(f"All {question.total} points allocated.")
            elif left > 0:
                st.info(f"{total} of {question.total} points allocated: {left} left to place.")
            else:
                st.warning(f"{total} points allocated: {-left} too many. Take some away.")
        error = st.session_state.get(f"error.{key}")
        if error:
            st.error(sentence(error))


def review(q: Questionnaire, given: dict, pages, go) -> None:
    st.subheader("Review")
    missing = [(i, x) for i, page in enumerate(pages) for x in page.question_ids
               if not is_answered(q.question(x), given)]
    if not missing:
        st.success("You have answered every question. Thank you. You can still change any "
                   "answer until the facilitator closes the workshop.")
        return
    st.write(f"{len(missing)} question(s) still open:")
    for i, qid in missing:
        cols = st.columns([5, 1])
        cols[0].write(f"{pages[i].title}: {q.question(qid).text}")
        cols[1].button("Go", key=f"goto.{qid}", on_click=go, args=(i,))


def team_results(q: Questionnaire) -> None:
    """The team's scores once revealed: aggregates only, and only from three participants."""
    from assessment.workshop import MIN_RESPONDENTS

    outcome = workshop_results(store, workshop.id, q.id)
    with st.expander("Team results, revealed by the facilitator", expanded=False):
        if outcome.participants < MIN_RESPONDENTS:
            st.info(f"Team results appear once at least {MIN_RESPONDENTS} people have answered.")
            return
        names = {d.id: d.name for d in q.dimensions} | {"overall": "Overall"}
        table = outcome.scores.assign(dimension=lambda f: f["dimension"].map(names))
        st.dataframe(table[["dimension", "score", "level", "respondents"]], hide_index=True,
                     placeholder="—", column_config={
                         "dimension": st.column_config.TextColumn("Dimension", width="medium"),
                         "score": st.column_config.NumberColumn("Score", format="%.2f"),
                         "level": "Level", "respondents": "People"})
        st.caption("Scores of the whole team. Nobody's individual answers are shown.")


token = st.query_params.get("p", "")
me = store.participant_by_token(token) if token else None
if token and me is None:
    st.error("This personal link is not recognised. Join again with the workshop's code.")
if me is None:
    join_form()
    st.stop()

workshop = store.workshop(me.workshop_id)
available = [shipped[i] for i in workshop.questionnaire_ids if i in shipped]
st.title(plain(workshop.title))
st.caption(f"{plain(workshop.client_name)} · answering as **{plain(me.name)}** ({me.role})")
with st.expander("Your personal link: continue on another device"):
    st.write("Open this link on any device to come back to exactly your answers. "
             "Keep it to yourself: it opens your answers.")
    st.code(personal_link(token), language=None)
if not workshop.answering_open:
    st.info("The facilitator has closed answering. Your answers are saved and shown below.")
if not available:
    st.warning("This workshop has no questionnaires that this installation knows.")
    st.stop()

ids = [x.id for x in available]
chosen = st.query_params.get("q", ids[0])
chosen = chosen if chosen in ids else ids[0]
picked = offered(st.radio("Questionnaire", ids, index=ids.index(chosen), horizontal=True,
                          format_func=lambda i: shipped[i].title, key="questionnaire_choice"),
                 ids, chosen)
if picked != chosen:
    st.query_params["q"] = picked
    st.query_params["s"] = "0"
q = shipped[picked]
if workshop.results_revealed:
    team_results(q)
given = store.answers_of(me.id, q.id)
st.session_state["given"] = given  # kept current by save(), read by each question's fragment
pages = list(q.pages())
done = sum(is_answered(x, given) for x in q.questions)
st.progress(done / len(q.questions), text=f"{done} of {len(q.questions)} answered")

try:
    section = int(st.query_params.get("s", "0"))
except ValueError:
    section = 0
section = min(max(section, 0), len(pages))


def go(index: int) -> None:
    st.query_params["s"] = str(index)


if section == len(pages):
    review(q, given, pages, go)
else:
    page = pages[section]
    st.subheader(f"{section + 1}. {page.title}")
    if section == 0:
        st.caption(q.description)
    for qid in page.question_ids:
        render_question(q.question(qid), q, me.id, not workshop.answering_open)

previous, _, following = st.columns([1, 3, 1])
if section > 0:
    previous.button("← Previous", key="previous", on_click=go, args=(section - 1,))
if section < len(pages):
    label = "Review →" if section == len(pages) - 1 else "Next →"
    following.button(label, key="next", type="primary", on_click=go, args=(section + 1,))

