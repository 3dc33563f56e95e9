"""Sign in (consultants only; participants need no account), and the signed-in consultant's
account: change my password, sign out."""

from __future__ import annotations

import streamlit as st

from app_pages.common import (
    FACILITATOR_PAGE,
    client_address,
    oidc_enabled,
    open_store,
    plain,
    sentence,
    sign_out,
    signed_in_user,
    start_session,
)
from assessment.store import Refused, StoreError
from assessment.store.accounts import MIN_PASSWORD

store = open_store()
FOR_WHOM = ("For consultants. Participants need no account: they join with the code or the "
            "link their facilitator gives them.")


def identity_provider() -> None:
    """Sign-in through the organisation's identity provider (OIDC, configured in secrets)."""
    auth = st.secrets["auth"]
    providers = [k for k, v in auth.items() if isinstance(v, dict)]  # named providers, if any
    provider = providers[0] if providers else None
    label = str(auth.get(provider, {}).get("label", provider) if provider else "") or "your account"
    if getattr(st.user, "is_logged_in", False):
        email = st.user.get("email")
        st.error(f"No account here is set up for {plain(email or 'this identity')}. Ask an admin "
                 "to add one with that email address as its username.")
        if st.button("Sign out of the identity provider", key="oidc_logout"):
            st.logout()
        return
    st.button(f"Sign in with {plain(label)}", type="primary", key="oidc_login",
              on_click=st.login, args=(provider,) if provider else ())


def password_form() -> None:
    if not store.has_users():
        st.info("No account exists yet. On the server, `make run` creates an admin called "
                "'admin' with a random password and prints it once; or create one yourself: "
                "`python -m assessment user add NAME --admin`.")
    with st.form("sign_in", clear_on_submit=True):
        username = st.text_input("Username", max_chars=80, key="signin_username")
        password = st.text_input("Password", type="password", max_chars=1024,
                                 key="signin_password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if not submitted:
        return
    try:
        user = store.authenticate(username, password, client_address())
    except Refused as e:
        st.error(sentence(e) + ". Repeated failed sign-ins lock an account for 15 minutes.")
        return
    except StoreError as e:
        st.error(sentence(e))
        return
    if user is None:
        st.error("Wrong username or password.")
        return
    start_session(store, user)
    st.switch_page(FACILITATOR_PAGE)


def change_password(user) -> None:
    with st.expander("Change my password"):
        with st.form("change_password", clear_on_submit=True):
            current = st.text_input("Current password", type="password", max_chars=1024,
                                    key="password_current")
            new = st.text_input(f"New password (at least {MIN_PASSWORD} characters, any "
                                "letters or symbols)", type="password", max_chars=1024,
                                key="password_new")
            again = st.text_input("New password again", type="password", max_chars=1024,
                                  key="password_again")
            submitted = st.form_submit_button("Change my password")
        if not submitted:
            return
        if new != again:
            st.error("The two new passwords differ.")
            return
        try:
            store.change_password(user, current, new, client_address())
        except StoreError as e:
            st.error(sentence(e))
            return
        start_session(store, user)  # every other session of this account has ended
        st.success("Password changed. You stay signed in here; other browsers are signed out.")


user = signed_in_user(store)
if user is None:
    st.title("Sign in")
    st.caption(FOR_WHOM)
    if oidc_enabled():
        identity_provider()
    else:
        password_form()
    st.stop()

st.title("Account")
st.write(f"Signed in as **{plain(user.username)}** "
         f"({'admin: every client, and the users' if user.is_admin else 'consultant'}).")
if st.button("Sign out", key="sign_out", icon=":material/logout:"):
    sign_out(store)
    st.rerun()
if not oidc_enabled():
    change_password(user)
