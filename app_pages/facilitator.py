"""Facilitator: create or open a workshop, share the code, watch progress, close and reveal."""

from __future__ import annotations

import streamlit as st

from app_pages.common import (
    client_address,
    join_link,
    offered,
    open_store,
    plain,
    questionnaires,
    sentence,
    show_address_warning,
    sign_in,
    sign_out,
    signed_in_workshop,
)
from assessment.store import StoreError
from assessment.workshop import progress

store = open_store()
shipped = questionnaires()
REFRESH_SECONDS = 3


def open_existing() -> None:
    # Workshops are opened by code and key, never picked from a list: the list of clients is
    # itself confidential.
    with st.form("open_workshop"):
        code = st.text_input("Join code", max_chars=6, key="open_code")
        key = st.text_input("Facilitator key", type="password", key="open_key",
                            help="Shown once when the workshop was created.")
        submitted = st.form_submit_button("Open workshop", type="primary")
    if submitted:
        try:
            if sign_in(store, code, key):
                st.rerun()
            st.error("That code and key do not open a workshop.")
        except StoreError as e:
            st.error(sentence(e))


def create_new() -> None:
    clients = store.clients()
    with st.form("new_workshop"):
        existing = st.selectbox("Client", [None, *clients], key="new_client_choice",
                                format_func=lambda c: "A new client…" if c is None else c.name)
        st.caption("For a new client:")
        c1, c2 = st.columns(2)
        name = c1.text_input("Client name", max_chars=200, key="new_client_name")
        sector = c2.text_input("Sector", max_chars=100, key="new_client_sector")
        size = c1.selectbox("Size (employees)", ["", "1-249", "250-999", "1,000-5,000",
                                                 "5,000+"], key="new_client_size")
        region = c2.text_input("Region", max_chars=100, key="new_client_region")
        title = st.text_input("Workshop title", value="Leadership workshop", max_chars=200,
                              key="new_title")
        chosen = st.multiselect("Questionnaires", list(shipped), default=list(shipped),
                                format_func=lambda i: shipped[i].title, key="new_questionnaires")
        submitted = st.form_submit_button("Create workshop", type="primary")
    if not submitted:
        return
    existing = offered(existing, clients)
    chosen = offered(chosen, shipped)
    try:
        client = existing or store.create_client(name, sector, size, region)
        workshop, key = store.create_workshop(client.id, title, chosen,
                                              address=client_address())
    except StoreError as e:
        st.error(sentence(e))
        return
    st.session_state["facilitator_workshop"] = workshop.id
    st.session_state["new_key"] = key
    st.rerun()


@st.fragment(run_every=REFRESH_SECONDS)
def progress_board(workshop_id: int, questionnaire_ids: tuple[str, ...]) -> None:
    """Participants x questionnaires, percent answered; refreshes itself."""
    people = store.participants(workshop_id)
    chosen = {i: shipped[i] for i in questionnaire_ids if i in shipped}
    if not people:
        st.info("Nobody has joined yet. Share the code or the link above.")
        return
    board = progress(store.answer_frame(workshop_id), people, chosen)
    titles = [q.title for q in chosen.values()]
    complete = int((board[titles] == 100).all(axis=1).sum())
    st.metric("Participants complete", f"{complete} of {len(people)}")
    st.dataframe(board, hide_index=True, column_config={
        t: st.column_config.ProgressColumn(t, min_value=0, max_value=100, format="%d%%")
        for t in titles})


st.title("Facilitator")
workshop = signed_in_workshop(store)
if workshop is None:
    tab_open, tab_new = st.tabs(["Open a workshop", "New workshop"])
    with tab_open:
        open_existing()
    with tab_new:
        create_new()
    st.stop()

st.subheader(f"{plain(workshop.client_name)} · {plain(workshop.title)}")
if workshop.is_demo:
    st.warning("Demo workshop: the client and every answer are invented, to show the tool.")
key = st.session_state.pop("new_key", None)
if key:
    st.success("Workshop created. Save the facilitator key now: it is shown only once, and "
               "you need it to open this workshop and its results again.")
    st.code(key, language=None)

show_address_warning()
c1, c2 = st.columns([1, 2])
c1.metric("Join code", workshop.code)
with c2:
    st.write("Join link to share:")
    st.code(join_link(workshop.code), language=None)
    if st.button("Show on the projector", icon=":material/qr_code_2:", key="to_projector",
                 help="The join code in large type, a QR code of the join link and the live "
                      "count of the room; no key, no names unless you switch them on"):
        st.switch_page("app_pages/projector.py")

b1, b2, b3, b4, b5 = st.columns(5)
if workshop.answering_open:
    if b1.button("Close answering", key="close_answering",
                  disabled=workshop.is_demo):
        store.set_answering_open(workshop.id, False)
        st.rerun()
else:
    b1.caption("Answering is closed.")
    if b1.button("Reopen answering", key="reopen_answering",
                  disabled=workshop.is_demo):
        store.set_answering_open(workshop.id, True)
        st.rerun()
if workshop.results_revealed:
    if b2.button("Hide results", key="hide_results", disabled=workshop.is_demo,
                 help="Participants no longer see the team results"):
        store.set_results_revealed(workshop.id, False)
        st.rerun()
elif b2.button("Reveal results", key="reveal_results", disabled=workshop.is_demo,
               help="Participants see the team's scores (never anyone's answers)"):
    store.set_results_revealed(workshop.id, True)
    st.rerun()
if b3.button("Open the results", type="primary", key="to_results"):
    st.switch_page("app_pages/results.py")
if b4.button("Open the plan", key="to_plan"):
    st.switch_page("app_pages/plan.py")
if b5.button("Sign out", key="sign_out"):
    sign_out()
    st.rerun()

st.subheader("Progress")
progress_board(workshop.id, workshop.questionnaire_ids)


def remove_participant() -> None:
    """Take someone out of the workshop with all their answers (a test entry, a prankster)."""
    people = {p.id: p for p in store.participants(workshop.id)}
    with st.expander("Remove a participant and their answers"):
        if not people:
            st.caption("Nobody has joined yet.")
            return
        with st.form("remove_participant"):
            chosen = st.selectbox("Participant", list(people), key="remove_who",
                                  format_func=lambda i: f"{people[i].name} ({people[i].role})")
            sure = st.checkbox("Yes, remove this person and every answer they gave",
                               key="remove_sure")
            submitted = st.form_submit_button("Remove", disabled=workshop.is_demo)
        chosen = offered(chosen, people)
        if submitted and chosen is not None:
            if not sure:
                st.warning("Tick the box to confirm first.")
                return
            try:
                removed = store.remove_participant(workshop.id, chosen)
            except StoreError as e:
                st.error(sentence(e))
                return
            st.success(f"Removed {plain(people[chosen].name)} and {removed} answer(s).")


remove_participant()
