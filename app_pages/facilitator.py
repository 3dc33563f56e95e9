"""Facilitator: create or open a workshop, share the code, watch progress, close and reveal."""

from __future__ import annotations

import streamlit as st

from app_pages.common import (
    client_address,
    close_workshop,
    consultant_page,
    join_link,
    offered,
    open_store,
    open_workshop,
    opened_workshop,
    plain,
    questionnaires,
    sentence,
    show_address_warning,
)
from assessment.history import client_labels
from assessment.portfolio import SIZE_BANDS
from assessment.store import StoreError, User
from assessment.workshop import progress

store = open_store()
shipped = questionnaires()
REFRESH_SECONDS = 3
SHOWN_CLIENTS = 200  # a consultancy may have thousands: the search narrows the list


def client_label(client, name: str) -> str:  # selectbox options are plain text: no escaping
    return f"{name} (demo: invented data)" if client.is_demo else name


def open_existing(user: User) -> None:
    """The consultant's own clients (and the demo), and each one's workshops to open."""
    search = st.text_input("Find a client", max_chars=100, key="open_search",
                           placeholder="part of the name")
    clients = store.visible_clients(user, search=search.strip(), limit=SHOWN_CLIENTS)
    if not clients:
        st.info("No client matches." if search.strip() else
                "You have no clients yet: create a workshop for a new client in the next tab.")
        return
    by_id = {c.id: c for c in clients}
    labels = client_labels({c.id: c.name for c in clients})  # two "Acme"s: both reachable
    chosen = offered(st.selectbox("Client", list(by_id), key="open_client",
                                  format_func=lambda i: client_label(by_id[i], labels[i])),
                     by_id, next(iter(by_id)))
    if len(clients) == SHOWN_CLIENTS:
        st.caption(f"The first {SHOWN_CLIENTS} clients by name: type part of a name to find "
                   "others.")
    workshops = store.workshops_of(user, chosen)
    if not workshops:
        st.caption("This client has no workshops yet.")
    for w in workshops:
        c1, c2, c3 = st.columns([4, 2, 1], vertical_alignment="center")
        c1.markdown(f"**{plain(w.title)}** · {w.created_at:%d %b %Y}"
                    + (" · demo" if w.is_demo else ""))
        c2.caption(("answering open" if w.answering_open else "answering closed")
                   + (" · results revealed" if w.results_revealed else ""))
        if c3.button("Open", key=f"open_workshop_{w.id}"):
            open_workshop(w.id)
            st.rerun()


def create_new(user: User) -> None:
    clients = [c for c in store.visible_clients(user, limit=SHOWN_CLIENTS) if not c.is_demo]
    by_id = {c.id: c for c in clients}
    labels = client_labels({c.id: c.name for c in clients})
    with st.form("new_workshop"):
        existing = st.selectbox("Client", [None, *by_id], key="new_client_choice",
                                format_func=lambda i: "A new client…" if i is None
                                else labels[i])
        st.caption("For a new client:")
        c1, c2 = st.columns(2)
        name = c1.text_input("Client name", max_chars=200, key="new_client_name")
        sector = c2.text_input("Sector", max_chars=100, key="new_client_sector")
        size = c1.selectbox("Size (employees)", ["", *SIZE_BANDS], key="new_client_size")
        region = c2.text_input("Region", max_chars=100, key="new_client_region")
        title = st.text_input("Workshop title", value="Leadership workshop", max_chars=200,
                              key="new_title")
        chosen = st.multiselect("Questionnaires", list(shipped), default=list(shipped),
                                format_func=lambda i: shipped[i].title, key="new_questionnaires")
        submitted = st.form_submit_button("Create workshop", type="primary")
    if not submitted:
        return
    existing = offered(existing, by_id)
    chosen = offered(chosen, shipped)
    try:
        client_id = existing if existing is not None else store.create_client_for(
            user, name, sector, size, region).id
        workshop = store.create_workshop_for(user, client_id, title, chosen,
                                             address=client_address())
    except StoreError as e:
        st.error(sentence(e))
        return
    open_workshop(workshop.id)
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
    st.dataframe(board.assign(role=board["role"].str.capitalize()), hide_index=True,
                 column_config={"participant": "Participant", "role": "Role"} | {
                     t: st.column_config.ProgressColumn(t, min_value=0, max_value=100,
                                                        format="%d%%")
                     for t in titles})


user = consultant_page(store, "Facilitator")
workshop = opened_workshop(store, user)
if workshop is None:
    tab_open, tab_new = st.tabs(["Open a workshop", "New workshop"])
    with tab_open:
        open_existing(user)
    with tab_new:
        create_new(user)
    st.stop()

st.subheader(f"{plain(workshop.client_name)} · {plain(workshop.title)}")
if workshop.is_demo:
    st.warning("Demo workshop: the client and every answer are invented, to show the tool.")

show_address_warning()
c1, c2 = st.columns([1, 2])
c1.metric("Join code", workshop.code)
with c2:
    st.write("Join link to share:")
    st.code(join_link(workshop.code), language=None)
    if st.button("Show on the projector", icon=":material/qr_code_2:", key="to_projector",
                 help="The join code in large type, a QR code of the join link and the live "
                      "count of the room; no names unless you switch them on"):
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
if b5.button("Other workshops", key="close_workshop",
             help="Back to your clients and their workshops"):
    close_workshop()
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
