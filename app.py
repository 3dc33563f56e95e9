"""Entry point: page config, the store opened once, and navigation between the pages."""

import streamlit as st

from app_pages.common import open_store, plain, signed_in_user, sync_cookie

# The sidebar "auto" on every page: the projector page folds it away for itself only.
st.set_page_config(page_title="Customer-centricity maturity", page_icon=":material/explore:",
                   layout="wide", initial_sidebar_state="auto")
store = open_store()
user = signed_in_user(store)
sync_cookie()  # the session token into the browser's cookie (or out of it), hidden

# A join link (/?join=CODE) or a participant's own link (?p=TOKEN) lands on the answering page,
# so the link that is shared can stay short.
arriving = "join" in st.query_params or "p" in st.query_params
public = [
    st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=not arriving),
    st.Page("app_pages/participant.py", title="Answer", icon=":material/edit_note:", url_path="answer",
            default=arriving),
    st.Page("app_pages/signin.py", title="Account" if user else "Sign in",
            icon=":material/account_circle:" if user else ":material/login:", url_path="account"),
]
consultants = [
    st.Page("app_pages/facilitator.py", title="Facilitator", icon=":material/co_present:"),
    st.Page("app_pages/projector.py", title="Projector", icon=":material/qr_code_2:",
            url_path="projector"),
    st.Page("app_pages/results.py", title="Results", icon=":material/insights:"),
    st.Page("app_pages/plan.py", title="Change plan", icon=":material/checklist:"),
    st.Page("app_pages/clients.py", title="My clients", icon=":material/groups:", url_path="clients"),
    st.Page("app_pages/compare.py", title="Side by side", icon=":material/compare:", url_path="compare"),
]
admins = [st.Page("app_pages/users.py", title="Users", icon=":material/manage_accounts:",
                  url_path="users"),
          st.Page("app_pages/instrument.py", title="Instrument", icon=":material/query_stats:")]
# Every page has its address, so that a link to a consultant's page opens its sign-in prompt
# rather than "page not found"; the sidebar lists the consultants' pages only to a signed-in
# consultant (and Users and Instrument only to admins), so that participants see Home, Answer
# and Sign in.
navigation = st.navigation(public + consultants + admins, position="hidden")
with st.sidebar:
    for page in public + (consultants if user else []) + (admins if user and user.is_admin
                                                          else []):
        st.page_link(page)
    if user:
        st.caption(f"Signed in as {plain(user.username)}")
navigation.run()
