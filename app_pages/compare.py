"""Clients side by side (2 to 10 of mine), the portfolio overview, and the portfolio workbook."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages.common import client_filters, consultant_page, offered, open_store, questionnaires, sentence
from assessment import portfolio_charts
from assessment.errors import StoreError
from assessment.history import (
    MAX_COMPARED,
    MIN_COMPARED,
    ComparisonRefused,
    client_labels,
    compare,
    portfolio_overview,
)
from assessment.portfolio_export import gather, workbook_bytes

OFFERED = 300  # clients offered in the picker at once; the search narrows them down

store = open_store()
shipped = questionnaires()
user = consultant_page(store, "Clients side by side")

qids = list(shipped)
qid = offered(st.selectbox("Questionnaire", qids, key="compare_questionnaire",
                           format_func=lambda i: shipped[i].title), qids, qids[0])
q = shipped[qid]

search, chosen = client_filters(store, user, "compare")

found, _ = store.client_page(user, search.strip(), chosen["sector"], chosen["size_band"],
                             chosen["region"], limit=OFFERED)
candidates = {c.id: c for c in found if not c.is_demo}
# Clients picked before a filter changed stay picked.
kept = [i for i in st.session_state.get("compare_clients", []) if isinstance(i, int)]
for i in kept:
    if i not in candidates:
        try:
            candidates[i] = store.client_for(user, i)
        except StoreError:
            pass
# The browser stops at MAX_COMPARED picks; a forged message can send more, and Streamlit raises
# on that instead of drawing the page: keep the first ones.
if len(st.session_state.get("compare_clients") or []) > MAX_COMPARED:
    st.session_state["compare_clients"] = [i for i in kept if i in candidates][:MAX_COMPARED]
labels = client_labels({i: c.name for i, c in candidates.items()})  # two "Acme"s: both
picked = st.multiselect(f"Clients ({MIN_COMPARED} to {MAX_COMPARED})", list(candidates),
                        key="compare_clients", max_selections=MAX_COMPARED,
                        format_func=lambda i: labels[i])
picked = offered(picked, list(candidates))
st.caption("Each client's latest completed workshop (answering closed, or imported) with this "
           "questionnaire; the agreed score where there is one. The demo client is never "
           "compared (invented data).")

comparison = None
if len(picked) >= MIN_COMPARED:
    try:
        clients, latest, scores = store.latest_completed(user, picked, qid)
        comparison = compare(clients, latest, scores, q)
    except ComparisonRefused as e:
        st.error(sentence(f"Not compared: {e.reason}"))
    except StoreError as e:
        st.error(sentence(e))

if comparison is not None:
    table = comparison.table
    st.dataframe(pd.DataFrame({
        "Client": table["client"], "Workshop held": table["held_on"],
        **{comparison.names[d]: table[d].round(2) for d in comparison.dimensions}}),
        hide_index=True, width="stretch")
    st.altair_chart(portfolio_charts.side_by_side(comparison, q), width="stretch")
    st.markdown("**Heatmap: clients × dimensions**")
    st.altair_chart(portfolio_charts.heatmap(comparison, q), width="stretch")

    st.markdown("**Portfolio workbook**")
    made_for = (qid, tuple(picked))
    if st.button("Prepare the Excel workbook", key="compare_export"):
        bar = st.progress(0.0, text="gathering")
        try:
            report = gather(store, user, picked, q,
                            progress=lambda share, text: bar.progress(share, text=text))
            bar.progress(0.9, text="writing the workbook")
            st.session_state["compare_workbook"] = (made_for, workbook_bytes(report))
            bar.progress(1.0, text="ready")
        except (ComparisonRefused, StoreError) as e:
            st.error(sentence(e))
    ready = st.session_state.get("compare_workbook")
    if ready and ready[0] == made_for:  # a workbook of other picks is never offered
        st.download_button("Download the portfolio workbook", ready[1],
                           file_name=f"portfolio-{qid}.xlsx", key="compare_download",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml"
                                ".sheet")
elif len(picked) < MIN_COMPARED:
    st.info(f"Pick {MIN_COMPARED} to {MAX_COMPARED} clients to put side by side.")

st.subheader("Portfolio overview")
overview = portfolio_overview(store.portfolio_latest(user, qid, chosen["sector"],
                                                     chosen["size_band"], chosen["region"]), q)
st.caption(f"{overview.clients} of your clients (filters above apply; the demo never counts) "
           f"have a completed workshop with {q.title} version {q.version}."
           + (f" {overview.left_out} more answered another version and are left out."
              if overview.left_out else ""))
if overview.clients:
    left, right = st.columns([3, 2])
    left.markdown("**How many clients stand at each level, per dimension**")
    left.dataframe(overview.levels.drop(columns=["dimension"]).rename(
        columns={"name": "Dimension"}), hide_index=True, width="stretch")
    right.markdown("**Weakest dimension, how often**")
    right.dataframe(overview.weakest.drop(columns=["dimension"]).rename(
        columns={"name": "Dimension", "clients": "Clients"}), hide_index=True, width="stretch")
