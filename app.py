"""Entry point: page config, the store opened once, and navigation between the pages."""

import streamlit as st

from app_pages.common import open_store

# The sidebar "auto" on every page: the projector page folds it away for itself only.
st.set_page_config(page_title="Customer-centricity maturity", page_icon=":material/explore:",
                   layout="wide", initial_sidebar_state="auto")
open_store()

# A join link (/?join=CODE) or a participant's own link (?p=TOKEN) lands on the answering page,
# so the link that is shared can stay short.
arriving = "join" in st.query_params or "p" in st.query_params
pages = [
    st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=not arriving),
    st.Page("app_pages/participant.py", title="Answer", icon=":material/edit_note:", url_path="answer",
            default=arriving),
    st.Page("app_pages/facilitator.py", title="Facilitator", icon=":material/co_present:"),
    st.Page("app_pages/projector.py", title="Projector", icon=":material/qr_code_2:",
            url_path="projector"),
    st.Page("app_pages/results.py", title="Results", icon=":material/insights:"),
    st.Page("app_pages/plan.py", title="Change plan", icon=":material/checklist:"),
    st.Page("app_pages/clients.py", title="My clients", icon=":material/groups:", url_path="clients"),
    st.Page("app_pages/compare.py", title="Side by side", icon=":material/compare:", url_path="compare"),
    st.Page("app_pages/instrument.py", title="Instrument", icon=":material/query_stats:"),
]
st.navigation(pages).run()
