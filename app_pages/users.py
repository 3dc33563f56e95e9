"""Users (admins only): the accounts, adding one, disabling or enabling, a new password; and
which consultant may see which client."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages.common import consultant_page, offered, open_store, plain, sentence
from assessment.history import client_labels
from assessment.store import StoreError
from assessment.store.accounts import MIN_PASSWORD

store = open_store()
SHOWN_CLIENTS = 200

user = consultant_page(store, "Users")
if not user.is_admin:
    st.info("Only admins manage users and who sees which client.")
    st.stop()

everyone = store.users()
st.dataframe(pd.DataFrame({
    "Username": [u.username for u in everyone],  # table cells are plain text
    "Role": ["admin" if u.is_admin else "consultant" for u in everyone],
    "Status": ["disabled" if u.disabled else "enabled" for u in everyone],
}), hide_index=True)

with st.expander("Add a user"):
    with st.form("add_user", clear_on_submit=True):
        username = st.text_input("Username (one word; an email address when sign-in goes "
                                 "through your identity provider)", max_chars=80,
                                 key="add_username")
        password = st.text_input(f"Password (at least {MIN_PASSWORD} characters)",
                                 type="password", max_chars=1024, key="add_password")
        again = st.text_input("Password again", type="password", max_chars=1024,
                              key="add_again")
        admin = st.checkbox("Admin: sees every client and manages users", key="add_admin")
        submitted = st.form_submit_button("Add user", type="primary")
    if submitted:
        if password != again:
            st.error("The two passwords differ.")
        else:
            try:
                made = store.add_user(username, password, admin=bool(admin))
            except StoreError as e:
                st.error(sentence(e))
            else:  # a rerun, so the table above lists the new account at once
                st.session_state["users_added"] = made.username
                st.rerun()
if st.session_state.get("users_added"):
    st.success(f"Added {plain(st.session_state.pop('users_added'))}. Give them the password in "
               "person or by another channel; they can change it on their Account page.")

names = {u.username: u for u in store.users()}
st.subheader("One user")
chosen = offered(st.selectbox("User", list(names), key="users_chosen"), names)
if chosen is not None:
    other = names[chosen]
    if other.disabled:
        if st.button("Enable", key="users_enable"):
            store.set_disabled(other.username, False)
            st.rerun()
    elif st.button("Disable (ends their sessions at once)", key="users_disable"):
        try:
            store.set_disabled(other.username, True)
        except StoreError as e:
            st.error(sentence(e))
        else:
            st.rerun()
    with st.form("reset_password", clear_on_submit=True):
        new = st.text_input("New password for this user", type="password", max_chars=1024,
                            key="reset_password")
        if st.form_submit_button("Set the password (ends their sessions)"):
            try:
                store.set_password(other.username, new)
            except StoreError as e:
                st.error(sentence(e))
            else:
                st.success(f"New password set for {plain(other.username)}.")

st.subheader("Who sees which client")
st.caption("Admins see every client; a consultant sees the clients they created or were given, "
           "and the demo.")
search = st.text_input("Find a client", max_chars=100, key="users_client_search")
clients = {c.id: c for c in store.visible_clients(user, search=search.strip(),
                                                  limit=SHOWN_CLIENTS) if not c.is_demo}
# Two clients called "Acme": each its own option, so access goes to the one picked.
labels = client_labels({i: c.name for i, c in clients.items()})
client_id = offered(st.selectbox("Client", list(clients), key="users_client",
                                 format_func=lambda i: labels[i]), clients)
if client_id is not None:
    given = store.client_users(client_id)
    st.write("Given to: " + (", ".join(plain(n) for n in given) if given else "nobody yet"))
    consultants = [n for n, u in names.items() if not u.is_admin]
    c1, c2 = st.columns(2)
    with c1:
        grant_to = offered(st.selectbox("Give to", [n for n in consultants if n not in given],
                                        key="users_grant_to"), consultants)
        if st.button("Give access", key="users_grant", disabled=grant_to is None):
            store.grant(user, client_id, grant_to)
            st.rerun()
    with c2:
        take_from = offered(st.selectbox("Take from", given, key="users_revoke_from"), given)
        if st.button("Take access away", key="users_revoke", disabled=take_from is None):
            store.revoke(user, client_id, take_from)
            st.rerun()
