"""Home: what this is, and the two ways in: run a workshop or join one."""

import streamlit as st

from app_pages.common import client_address, open_store, plain, questionnaires, sentence
from assessment.demo import ensure_demo
from assessment.errors import StoreError

store = open_store()

st.title("Customer-centricity maturity")
st.markdown(
    "Most leadership teams say they put customers first; this workshop shows whether yours "
    "does. Each executive answers privately on their own device, the app scores maturity and "
    "shows where the team disagrees, and you leave with an agreed score to act on.")

left, right = st.columns(2, gap="large")
with left:
    st.subheader("Run a workshop")
    st.write("Create a workshop for a client, share the join code, watch progress live and "
             "reveal the team's results.")
    if st.button("Open the facilitator area", type="primary", key="go_facilitator"):
        st.switch_page("app_pages/facilitator.py")
with right:
    st.subheader("Join a workshop")
    st.write("Enter the code your facilitator gave you. Your answers are private.")
    code = st.text_input("Join code", max_chars=6, key="home_code",
                         placeholder="e.g. K7QM2X").strip().upper()
    if st.button("Join", key="home_join"):
        if not code:
            st.error("Enter the six-character code first.")
        else:
            try:
                store.find_workshop(code, client_address())
            except StoreError as e:
                st.error(sentence(e))
            else:
                # switch_page clears the address's query unless it is given the new one
                st.switch_page("app_pages/participant.py", query_params={"join": code})

st.divider()
if store.is_empty():
    st.info("This installation has no workshops yet. A demo client with a finished workshop "
            "shows what results look like.")
    if st.button("Create the demo workshop", key="create_demo"):
        ensure_demo(store, questionnaires())
        st.rerun()
else:
    demo = store.demo_workshop()  # one row: Home is every visitor's page
    if demo is not None:
        st.caption(f"To look around: sign in and open the demo workshop "
                   f"({plain(demo.client_name)}) in the facilitator area; every consultant sees "
                   f"it, marked as a demo. Its client and answers are invented.")
