"""Projector: the screen the room sees. The join code, a QR code of the join link, and how far
the room is, refreshing on its own.

For the signed-in consultant's opened workshop, yet it shows nothing confidential: no list of
clients, nobody's answers or scores, and no names unless the facilitator
switches them on. The client's name and the workshop's title are shown: the room is that
client's own team, and every participant sees both on the join form and while answering.
"""

from __future__ import annotations

import streamlit as st

from app_pages.common import (
    facilitator_page,
    join_link,
    open_store,
    plain,
    qr_image,
    questionnaires,
    show_address_warning,
)
from assessment.workshop import is_answered

store = open_store()
shipped = questionnaires()
REFRESH_SECONDS = 3

# Big type for the back of the room. Only constant CSS goes into this HTML: every text on the
# page is drawn by ordinary Streamlit elements, styled through the classes that st.container's
# key gives them (st-key-…). The sidebar starts collapsed (its toggle stays, to go back).
STYLE = """<style>
.st-key-projector-code h1 { font-size: 11rem; line-height: 1.0; letter-spacing: 0.12em;
  padding: 0; }
.st-key-projector-how p, .st-key-projector-how-then p { font-size: 2.2rem; line-height: 1.3; }
.st-key-projector-address p { font-size: 3rem; font-weight: 600; line-height: 1.2; }
.st-key-projector-count p { font-size: 3.2rem; font-weight: 600; line-height: 1.2; }
.st-key-projector-names p { font-size: 1.6rem; line-height: 1.4; }
.st-key-projector-room p { font-size: 1.4rem; }
</style>"""


@st.cache_data(max_entries=32, show_spinner=False)
def _room(url: str, workshop_id: int, questionnaire_ids: tuple[str, ...], version: tuple
          ) -> tuple[list[str], int, int, int]:
    """Names in order of joining, how many finished every questionnaire, answers given and
    answers expected (people x questions); recomputed only when an answer or a person changes."""
    people = store.participants(workshop_id)
    chosen = [shipped[i] for i in questionnaire_ids if i in shipped]
    frame = store.answer_frame(workshop_id)
    given: dict[int, dict[str, dict]] = {}
    for qid, pid, question, option, value in zip(
            frame["questionnaire_id"], frame["participant_id"], frame["question_id"],
            frame["option_id"], frame["value"], strict=True):
        given.setdefault(pid, {}).setdefault(qid, {})[(question, option)] = value
    per_person = len([x for q in chosen for x in q.questions])
    finished = answered = 0
    for person in people:
        mine = given.get(person.id, {})
        done = sum(is_answered(x, mine.get(q.id, {})) for q in chosen for x in q.questions)
        answered += done
        finished += bool(per_person) and done == per_person
    return [p.name for p in people], finished, answered, per_person * len(people)


@st.fragment(run_every=REFRESH_SECONDS)
def live_count(workshop_id: int, questionnaire_ids: tuple[str, ...]) -> None:
    """Who has joined and how far the room is; names only when the facilitator shows them."""
    names, finished, answered, expected = _room(store.url, workshop_id, questionnaire_ids,
                                                store.answers_version(workshop_id))
    share = round(100 * answered / expected) if expected else 0
    with st.container(key="projector-count"):
        if not names:
            st.markdown("Waiting for the first person to join…")
        else:
            st.markdown(f"{len(names)} joined · {finished} finished · {share}% of all answers")
    st.progress(share / 100)
    if st.session_state.get("projector_show_names") and names:
        with st.container(key="projector-names"):
            st.markdown(" · ".join(plain(n) for n in names))


st.set_page_config(initial_sidebar_state="collapsed")
workshop = facilitator_page(store, "Projector", "The projector view is", header=False)

st.html(STYLE)
show_address_warning()
link = join_link(workshop.code)
with st.container(key="projector-room"):
    st.markdown(f"{plain(workshop.client_name)} · {plain(workshop.title)}")
left, right = st.columns([3, 2], vertical_alignment="center", gap="large")
with left:
    with st.container(key="projector-how"):
        st.markdown("Join on your phone or laptop: scan the QR code, or open")
    with st.container(key="projector-address"):
        st.markdown(plain(link.split("?")[0].rstrip("/")))
    with st.container(key="projector-how-then"):
        st.markdown("and enter the code")
    with st.container(key="projector-code"):
        st.title(workshop.code, anchor=False)
with right:
    image, size = qr_image(link)
    st.image(image, width=size, alt=f"QR code of the join link {link}")
live_count(workshop.id, workshop.questionnaire_ids)

back, names = st.columns([1, 4], vertical_alignment="center")
if back.button("← Facilitator page", key="projector_back"):
    st.switch_page("app_pages/facilitator.py")
names.toggle("Show the names of who has joined", value=False, key="projector_show_names")
