"""Entry point: page config, the store opened once, and navigation between the pages."""

import streamlit as st

from app_pages.common import open_store

st.set_page_config(page_title="Customer-centricity maturity", page_icon="🧭", layout="wide")
open_store()

# A join link (/?join=CODE) or a participant's own link (?p=TOKEN) lands on the answering page,
# so the link that is shared can stay short.
arriving = "join" in st.query_params or "p" in st.query_params
pages = [
    st.Page("app_pages/home.py", title="Home", icon="🏠", default=not arriving),
    st.Page("app_pages/participant.py", title="Answer", icon="✍️", url_path="answer",
            default=arriving),
    st.Page("app_pages/facilitator.py", title="Facilitator", icon="🧑‍🏫"),
    st.Page("app_pages/results.py", title="Results", icon="📊"),
]
st.navigation(pages).run()
