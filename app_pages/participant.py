"""Answer: a participant joins with the code and answers privately; every answer is saved at once.

The journey covers the whole workshop: one progress figure for all its questionnaires, the
review at the end of each leading to the next one, and "you are done" only when every question
of every questionnaire is answered. Each question is a fragment: a click reruns that question
only, after its answer is saved; the figures at the top follow on the next full rerun (Next,
Previous, another questionnaire).
"""

from __future__ import annotations

import json
import math

import pandas as pd
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
from assessment.store import MAX_COMMENT, ROLES, StoreError
from assessment.workshop import is_answered

store = open_store()
shipped = questionnaires()

# The time left is estimated from the questions still open at this pace: reading five level
# descriptions and picking one takes most people 15 to 30 seconds.
SECONDS_PER_QUESTION = 20

# Phones: a smaller title, the questionnaire's description folded away, so that the first
# screen shows the first question. Style-only HTML takes no room on the page.
LAYOUT = """<style>
@media (max-width: 640px) {
  [data-testid=stMainBlockContainer] { padding-top: 3.5rem; }
  [data-testid=stMain] h1 { font-size: 1.6rem; padding-top: 0; }
  [data-testid=stMain] h3 { font-size: 1.2rem; }
  .st-key-intro_wide { display: none; }
}
@media (min-width: 641px) { .st-key-intro_narrow { display: none; } }
</style>"""


def lead(title: str) -> str:
    """A title that leads a count: 'Leadership commitment:', but 'What will we give up?' as it
    is (never '?:')."""
    return title if title.rstrip()[-1:] in "?!.:" else f"{title}:"


def ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def _write(participant_id: int, questionnaire_id: str, question: Question, rows) -> bool:
    """Save rows (question, option, value); a refusal is kept to be shown under the question."""
    question_key = f"{questionnaire_id}.{question.id}"
    try:
        stored = store.save_answers(participant_id, questionnaire_id, rows)
    except StoreError as e:
        st.session_state[f"error.{question_key}"] = str(e)
        return False
    st.session_state.pop(f"error.{question_key}", None)
    given = st.session_state.setdefault("given", {})
    given.update({(q, o): v for q, o, v in stored})
    return True


def save(participant_id: int, questionnaire_id: str, question: Question, key: str,
         option: str = "") -> None:
    """Widget callback: write the widget's value to the store the moment it changes.

    The store checks the value (a client can send anything); what it refuses is reported under
    the question and the widget goes back to the stored answer.
    """
    value = st.session_state.get(key)
    if not _write(participant_id, questionnaire_id, question,
                  [(question.id, option, "" if value is None else value)]):
        # The widget shows the stored answer again (set, not dropped: a dropped value would
        # leave the browser showing the refused one and sending it with the next change).
        st.session_state[key] = stored_value(question, st.session_state.get("given", {}),
                                             option)


def ranks_of(question: Question, given: dict) -> dict[str, int]:
    """The stored rank of each ranked option (a stored value that is not a rank is ignored)."""
    n = len(question.options)
    ranks = {o: int(given.get((question.id, o), "")) for o in question.option_ids
             if given.get((question.id, o), "").isdigit()}
    return {o: r for o, r in ranks.items() if 1 <= r <= n}


def save_rank(participant_id: int, questionnaire_id: str, question: Question,
              option: str | None) -> None:
    """Widget callback of one option's rank (option None: clear the ranking).

    A rank already held by another option moves: that option takes this one's old rank (or
    none), so the ranking stays an ordering; all the question's ranks are written together.
    """
    key = f"{questionnaire_id}.{question.id}"
    before = ranks_of(question, st.session_state.get("given", {}))
    ranks = dict(before)
    if option is None:
        ranks = {}
    elif option in question.option_ids:
        chosen = offered(st.session_state.get(f"{key}.{option}"),
                         range(1, len(question.options) + 1))
        old = ranks.pop(option, None)
        if chosen is not None:
            holder = next((o for o, r in ranks.items() if r == chosen), None)
            if holder is not None:
                if old is None:
                    del ranks[holder]
                else:
                    ranks[holder] = old
            ranks[option] = chosen
    rows = [(question.id, o, str(ranks[o]) if o in ranks else "") for o in question.option_ids]
    if _write(participant_id, questionnaire_id, question, rows):
        # Only the rows whose rank this change moved: another row's newer value, sent with
        # the same rerun, must not be overwritten before its own callback reads it.
        moved = [o for o in question.option_ids if ranks.get(o) != before.get(o)]
    else:
        ranks, moved = before, question.option_ids
    for o in moved:
        st.session_state[f"{key}.{o}"] = ranks.get(o)


def save_comment(participant_id: int, questionnaire_id: str, question: Question,
                 key: str) -> None:
    """Widget callback of a question's comment box: saved like an answer, checked by the store."""
    comments = st.session_state.setdefault("comments", {})
    error = f"error.{questionnaire_id}.{question.id}"
    value = st.session_state.get(key)
    try:
        stored = store.save_comment(participant_id, questionnaire_id, question.id, value)
    except StoreError as e:
        st.session_state[error] = str(e)
        st.session_state[key] = comments.get(question.id, "")
        return
    st.session_state.pop(error, None)
    comments[question.id] = stored


def catch_up(participant_id: int, q: Questionnaire, question: Question) -> None:
    """Save what a question's widgets show but this page never saved.

    Streamlit 1.67 sometimes sets a widget's new value without calling its callback: seen when
    a full rerun (Next) coalesces with fragment reruns still pending from quick clicks, under
    load. Each question therefore compares its widgets with what this page last saved (not
    with the database, so that an answer changed meanwhile on another device is not
    overwritten by this page's older view) and saves the difference.
    """
    if st.session_state.get("given_for") != q.id:
        return
    given = st.session_state.get("given", {})
    key = f"{q.id}.{question.id}"
    if question.type in ("allocation", "ranking"):
        for option in question.option_ids:
            box = f"{key}.{option}"
            if box in st.session_state and \
                    st.session_state[box] != stored_value(question, given, option):
                if question.type == "ranking":
                    save_rank(participant_id, q.id, question, option)
                else:
                    save(participant_id, q.id, question, box, option)
                given = st.session_state.get("given", {})
    elif key in st.session_state and st.session_state[key] is not None and \
            st.session_state[key] != stored_value(question, given):
        save(participant_id, q.id, question, key)
    comment = f"comment.{key}"
    if comment in st.session_state and st.session_state[comment] != \
            st.session_state.get("comments", {}).get(question.id, ""):
        save_comment(participant_id, q.id, question, comment)


def stored_value(question: Question, given: dict, option: str = ""):
    """What the question's widget shows for the stored answer (option: one allocation box)."""
    if question.type == "allocation":
        points = given.get((question.id, option), "")
        return int(points) if points.isdigit() else 0
    if question.type == "ranking":
        return ranks_of(question, given).get(option)
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
        st.session_state["scroll_to"] = ""
        st.rerun()


def ranking(question: Question, q: Questionnaire, pid: int, disabled: bool) -> None:
    """One row of rank buttons per option (1st, 2nd, ...): one tap gives a rank, and every
    option shows its own, on a phone too. A rank taken from another option swaps the two; a
    tap on the chosen rank takes it back."""
    key = f"{q.id}.{question.id}"
    ranks = ranks_of(question, st.session_state.get("given", {}))
    n = len(question.options)
    needed = question.ranks_needed
    st.caption((f"Rank all {n} options, 1st = most important." if needed == n else
                f"Rank at least your top {needed} (1st to {ordinal(needed)}); ranking the "
                f"others is optional.") + " Picking a rank that another option already has "
                                        "swaps the two.")
    for option in question.options:
        box = f"{key}.{option.id}"
        # A row already on the page keeps its state (save_rank sets it); a new one starts
        # from the stored rank.
        default = None if box in st.session_state else ranks.get(option.id)
        st.segmented_control(option.label, list(range(1, n + 1)), default=default,
                             format_func=ordinal, key=box, disabled=disabled,
                             on_change=save_rank, args=(pid, q.id, question, option.id))
    labels = {o.id: o.label for o in question.options}
    if ranks:
        order = sorted(ranks, key=ranks.get)
        st.caption("Your order: " + " · ".join(f"{ordinal(ranks[o])} {plain(labels[o])}"
                                              for o in order))
        st.button("Clear the ranking", key=f"{key}.clear", disabled=disabled,
                  on_click=save_rank, args=(pid, q.id, question, None))


@st.fragment
def render_question(question: Question, q: Questionnaire, pid: int, disabled: bool) -> None:
    """One question; a click on it reruns this question only (the answer is saved first)."""
    if not disabled:
        catch_up(pid, q, question)
    given = st.session_state.get("given", {})
    key = f"{q.id}.{question.id}"
    saved = given.get((question.id, ""), "")
    common = dict(key=key, disabled=disabled, on_change=save, args=(pid, q.id, question, key))
    with st.container(border=True, key=f"box.{key}"):
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
            ranking(question, q, pid, disabled)
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
        comment = st.session_state.get("comments", {}).get(question.id, "")
        with st.expander("Comment (optional)"):
            st.text_area("Your comment", value=comment, max_chars=MAX_COMMENT,
                         key=f"comment.{key}", disabled=disabled, label_visibility="collapsed",
                         placeholder="Anything the facilitator should know about this question "
                                     "or your answer. Saved when you click outside the box.",
                         on_change=save_comment, args=(pid, q.id, question, f"comment.{key}"))


def time_left(left: int) -> str:
    """The estimate shown before the end, from the questions still open."""
    minutes = math.ceil(left * SECONDS_PER_QUESTION / 60)
    about = "less than a minute" if left * SECONDS_PER_QUESTION < 60 else \
        f"about {minutes} minute{'s' if minutes != 1 else ''}"
    return (f"{about} left ({left} question{'s' if left != 1 else ''} at about "
            f"{SECONDS_PER_QUESTION} seconds each)")


def go(index: int) -> None:
    st.query_params["s"] = str(index)
    st.session_state["scroll_to"] = ""


def open_questionnaire(questionnaire_id: str, index: int = 0, question: str = "") -> None:
    """Callback: another questionnaire (and section); the page then starts at the top, or at
    the question asked for."""
    st.query_params["q"] = questionnaire_id
    st.query_params["s"] = str(index)
    st.session_state["questionnaire_choice"] = questionnaire_id
    st.session_state["scroll_to"] = f"{questionnaire_id}.{question}" if question else ""


def picked_questionnaire(ids: list[str]) -> None:
    """Callback of the questionnaire picker (a client may send a value it never offered: the
    picker then goes back to the open questionnaire)."""
    current = st.query_params.get("q", ids[0])
    picked = offered(st.session_state.get("questionnaire_choice"), ids)
    if picked is None:
        st.session_state["questionnaire_choice"] = current if current in ids else ids[0]
    elif picked != current:
        open_questionnaire(picked)


def answer_text(question: Question, q: Questionnaire, given: dict) -> str:
    """A participant's answer to a question in words, for the summary at the end."""
    if question.type == "ranking":
        ranks = ranks_of(question, given)
        labels = {o.id: o.label for o in question.options}
        return " · ".join(f"{ordinal(r)} {labels[o]}"
                          for o, r in sorted(ranks.items(), key=lambda x: x[1]))
    if question.type == "allocation":
        return " · ".join(f"{o.label}: {given.get((question.id, o.id), '') or 0}"
                          for o in question.options)
    saved = given.get((question.id, ""), "")
    if question.type == "choice":
        return next((o.label for o in question.options if o.id == saved), saved)
    if question.type == "text" or not saved:
        return saved
    if saved.lower() == "n/a":
        return "Not applicable to us"
    labels = question.anchors if question.type == "level" else question.labels or q.scale.labels
    point = int(saved) if saved.isdigit() else None
    if point is not None and 0 <= point - q.scale.min < len(labels):
        return f"{saved}: {labels[point - q.scale.min]}"
    return saved


def summary(available: list[Questionnaire], answered: dict) -> None:
    """What the participant answered, per questionnaire (plain-text tables)."""
    for x in available:
        given = answered.get(x.id, {})
        comments = store.comments_of(me.id, x.id)
        table = pd.DataFrame({
            "question": [question.text for question in x.questions],
            "answer": [answer_text(question, x, given) for question in x.questions],
            "comment": [comments.get(question.id, "") for question in x.questions]})
        with st.expander(f"Your answers: {x.title} ({len(x.questions)} questions)"):
            st.dataframe(table, hide_index=True, column_config={
                "question": st.column_config.TextColumn("Question", width="large"),
                "answer": st.column_config.TextColumn("Your answer", width="large"),
                "comment": st.column_config.TextColumn("Your comment")})


def review(q: Questionnaire, available: list[Questionnaire], still_open: dict,
           answered: dict) -> None:
    """The end of a questionnaire: the next one, what is still open everywhere, or the end."""
    st.subheader(f"Review: {q.title}")
    left = sum(len(v) for v in still_open.values())
    total = sum(len(x.questions) for x in available)
    if left == 0:
        st.success(f"**You are done.** You have answered every question of this workshop "
                   f"({total} of {total}). Thank you. You can still change any answer until "
                   f"the facilitator closes the workshop.")
        summary(available, answered)
        return
    mine = still_open[q.id]
    if mine:
        st.write(f"{len(mine)} question(s) of {q.title} still open.")
    else:
        st.write(f"All {len(q.questions)} questions of {q.title} answered.")
    ids = [x.id for x in available]
    here = ids.index(q.id)
    following = next((i for i in ids[here + 1:] + ids[:here] if still_open[i]), None)
    if following is not None:
        other = shipped[following]
        started = len(other.questions) - len(still_open[following])
        st.button(f"Next: {other.title}, {len(other.questions)} questions"
                  + (f" ({len(still_open[following])} still open)" if started else "") + " →",
                  key="next_questionnaire", type="primary", on_click=open_questionnaire,
                  args=(following,))
    st.write(f"{left} question(s) still open in this workshop. Go straight to any of them:")
    for x in available:
        missing = still_open[x.id]
        if not missing:
            continue
        pages = x.pages()
        section_of = {qid: i for i, page in enumerate(pages) for qid in page.question_ids}
        with st.expander(f"{lead(x.title)} {len(missing)} open", expanded=x.id == q.id):
            for question in missing:
                index = section_of[question.id]
                cols = st.columns([5, 1], vertical_alignment="center")
                cols[0].write(f"{pages[index].title}: {question.text}")
                cols[1].button("Go", key=f"goto.{x.id}.{question.id}",
                               on_click=open_questionnaire, args=(x.id, index, question.id))


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


def scroll(slot, target: str) -> None:
    """Bring the top of the page (or one question) into view: Streamlit keeps the scroll
    position across reruns, so a new section would otherwise open where the last one ended.

    The script goes in a slot at the top of the page, so it starts as soon as the rerun draws
    anything; it keeps the page at the top (or the question in view) until the run is over,
    then once more. st.html runs it in the page itself; a counter makes each one new."""
    count = st.session_state["scrolls"] = st.session_state.get("scrolls", 0) + 1
    selector = json.dumps(f".st-key-box-{target.replace('.', '-')}" if target else "")
    with slot:
        st.html(f"""<script>/* scroll {count} */
(() => {{
  const started = Date.now();
  const place = () => {{
    const target = {selector} && document.querySelector({selector});
    if (target) {{ target.scrollIntoView({{block: "start"}}); return; }}
    // whichever box scrolls the page (stMain in Streamlit 1.67), and the window
    for (let box = document.querySelector("[data-testid=stMainBlockContainer]"); box;
         box = box.parentElement)
      if (box.scrollTop) box.scrollTop = 0;
    window.scrollTo(0, 0);
  }};
  const running = () => document.querySelector("[data-testid=stApp]")
    ?.getAttribute("data-test-script-state") !== "notRunning";
  const watch = () => {{
    place();
    if (running() && Date.now() - started < 10000) setTimeout(watch, 50);
    else setTimeout(place, 100);
  }};
  watch();
}})();
</script>""", unsafe_allow_javascript=True)


token = st.query_params.get("p", "")
me = store.participant_by_token(token) if token else None
if token and me is None:
    st.error("This personal link is not recognised. Join again with the workshop's code.")
if me is None:
    join_form()
    st.stop()

workshop = store.workshop(me.workshop_id)
available = [shipped[i] for i in workshop.questionnaire_ids if i in shipped]
st.html(LAYOUT)
scroll_slot = st.empty()  # filled when this run opens a new section (see scroll())
if "scroll_to" in st.session_state:
    scroll(scroll_slot, st.session_state.pop("scroll_to"))
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

# What the last page showed but never saved (see catch_up), then every figure from the store:
# what was saved is what counts.
if st.session_state.get("given_for") in shipped and workshop.answering_open:
    for question in shipped[st.session_state["given_for"]].questions:
        catch_up(me.id, shipped[st.session_state["given_for"]], question)
answered = store.answers_by_questionnaire(me.id)
still_open = {x.id: [question for question in x.questions
                     if not is_answered(question, answered.get(x.id, {}))] for x in available}
ids = [x.id for x in available]
chosen = st.query_params.get("q", ids[0])
chosen = chosen if chosen in ids else ids[0]
if len(ids) > 1:
    # The address decides which one is open; the picker's callback changes the address, and
    # so do the review's buttons (which set the picker too). Its labels never change: the
    # browser would drop the selection shown if they did.
    st.radio("Questionnaire", ids, index=ids.index(chosen), horizontal=True,
             key="questionnaire_choice", label_visibility="collapsed",
             on_change=picked_questionnaire, args=(ids,),
             format_func=lambda i: shipped[i].title)
q = shipped[chosen]
if workshop.results_revealed:
    team_results(q)
given = answered.get(q.id, {})
st.session_state["given"] = given  # kept current by save(), read by each question's fragment
st.session_state["given_for"] = q.id
st.session_state["comments"] = store.comments_of(me.id, q.id)
total = sum(len(x.questions) for x in available)
left = sum(len(v) for v in still_open.values())
st.progress((total - left) / total,
            text=f"{'Whole workshop: ' if len(ids) > 1 else ''}{total - left} of {total} answered"
                 + (f" · {time_left(left)}" if left else ""))
if len(ids) > 1:
    st.caption(" · ".join(f"{lead(x.title)} {len(x.questions) - len(still_open[x.id])} of "
                          f"{len(x.questions)}" for x in available))
pages = list(q.pages())

try:
    section = int(st.query_params.get("s", "0"))
except ValueError:
    section = 0
section = min(max(section, 0), len(pages))

if section == len(pages):
    review(q, available, still_open, answered)
else:
    page = pages[section]
    st.subheader(f"{section + 1}. {page.title}")
    if section == 0:
        with st.container(key="intro_wide"):
            st.caption(q.description)
        with st.container(key="intro_narrow"), st.expander("About this questionnaire"):
            st.caption(q.description)
    for qid in page.question_ids:
        render_question(q.question(qid), q, me.id, not workshop.answering_open)

previous, _, following = st.columns([1, 3, 1])
if section > 0:
    previous.button("← Previous", key="previous", on_click=go, args=(section - 1,))
if section < len(pages):
    label = "Review →" if section == len(pages) - 1 else "Next →"
    following.button(label, key="next", type="primary", on_click=go, args=(section + 1,))
