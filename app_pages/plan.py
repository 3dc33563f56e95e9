"""Change plan: targets, the ranked and explained plan, edits saved, Excel out and back in."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages.common import (
    action_library,
    benchmarks,
    facilitator_page,
    offered,
    open_store,
    questionnaires,
    sentence,
    workshop_results,
)
from app_pages.report_download import pdf_download
from assessment import charts
from assessment.errors import StoreError
from assessment.export import WorkbookError, plan_changes, read_plan, workbook_bytes
from assessment.planning import STATUSES
from assessment.report import Scored, build_report

store = open_store()
shipped = questionnaires()
library = action_library()

workshop = facilitator_page(store, "Change plan", "The plan is")

reference = f"workshop {workshop.id} ({workshop.code})"
scored = []
for qid in workshop.questionnaire_ids:
    if qid in shipped:
        outcome = workshop_results(store, workshop.id, qid)
        scored.append(Scored(shipped[qid], outcome.answers, outcome.scores))
if not any(s.scores["score"].notna().any() for s in scored):
    st.info("No scored answers yet: the plan follows from the results.")
    st.stop()

every = benchmarks()
fitting = [b.id for b in every.values() if b.kind == "scores" and any(
    b.questionnaire == s.questionnaire.id and b.questionnaire_version == s.questionnaire.version
    for s in scored)]
chosen = st.multiselect(
    "Aim for a benchmark's top quartile", fitting, key="plan_benchmarks",
    format_func=lambda i: every[i].provenance.title + (
        " (synthetic: illustration only)" if every[i].provenance.synthetic else ""),
    help="Without a benchmark each dimension aims one level up. Targets the team sets below "
         "take precedence.")
chosen = offered(chosen, fitting)
chosen_benchmarks = {every[i].questionnaire: every[i] for i in chosen}
for b in chosen_benchmarks.values():
    st.caption(f"Benchmark: {b.provenance.line()}")

report, plan = build_report(
    scored, library, reference=reference, client=workshop.client_name, title=workshop.title,
    benchmarks=chosen_benchmarks, targets=store.targets(workshop.id),
    edits=store.plan_edits(workshop.id))

st.subheader("Targets")
targets = pd.DataFrame([{"dimension_id": g.dimension, "Dimension": g.name,
                         "Score": round(g.score, 2), "Level": g.level_name,
                         "Target": round(g.target, 2), "Gap": round(g.gap, 2),
                         "Importance": round(g.importance, 2)} for g in report.gaps])
edited_targets = st.data_editor(
    targets, key="targets_editor", hide_index=True, disabled=["Dimension", "Score", "Level",
                                                              "Gap", "Importance"],
    column_config={"dimension_id": None,
                   "Target": st.column_config.NumberColumn(min_value=1.0, max_value=5.0,
                                                           step=0.1, format="%.2f"),
                   "Importance": st.column_config.NumberColumn(
                       help="From the trade-off answers; 1 when none speaks for it")})
if st.button("Save targets", key="save_targets", disabled=workshop.is_demo):
    before = targets.set_index("dimension_id")["Target"]
    try:
        changed = {}
        for row in edited_targets.itertuples():
            if row.dimension_id not in before.index:
                continue  # only the rows the page showed
            if row.Target is None or pd.isna(row.Target):
                raise StoreError("every dimension needs a target")
            if abs(float(row.Target) - before[row.dimension_id]) > 1e-9:
                changed[row.dimension_id] = float(row.Target)
        store.set_targets(workshop.id, changed)
    except (StoreError, TypeError, ValueError) as e:
        st.error(sentence(e))
    else:
        st.rerun()

st.subheader("The plan")
if plan.empty:
    st.success("Every dimension has reached its target: no actions needed.")
    st.stop()
m1, m2, m3 = st.columns(3)
m1.metric("Actions", len(plan))
m2.metric("Quick wins", int(plan["quick_win"].sum()))
m3.metric("In the first 90 days", int((plan["phase"] == "First 90 days").sum()))
shown = plan.assign(due=pd.to_datetime(plan["due"]))
edited = st.data_editor(
    shown[["priority", "dimension", "action", "why", "effort", "impact", "phase", "owner", "due",
           "status", "notes", "action_id"]],
    key="plan_editor", hide_index=True, height=min(38 * (len(plan) + 1), 600),
    disabled=["priority", "dimension", "action", "why", "effort", "impact", "phase"],
    column_config={
        "priority": st.column_config.NumberColumn("#", width="small"),
        "dimension": st.column_config.TextColumn("Dimension", width="small"),
        "action": st.column_config.TextColumn("Action", width="medium"),
        "why": st.column_config.TextColumn("Why", width="large",
                                           help="The reason for this place in the plan"),
        "effort": st.column_config.TextColumn("Effort", width="small"),
        "impact": st.column_config.NumberColumn("Impact", width="small"),
        "phase": st.column_config.TextColumn("Phase", width="small"),
        "owner": st.column_config.TextColumn("Owner", max_chars=200),
        "due": st.column_config.DateColumn("Due", format="YYYY-MM-DD"),
        "status": st.column_config.SelectboxColumn("Status", options=list(STATUSES),
                                                   required=True),
        "notes": st.column_config.TextColumn("Notes", max_chars=2000),
        "action_id": None,
    })
if st.button("Save plan", type="primary", key="save_plan", disabled=workshop.is_demo):
    try:
        store.save_plan_edits(workshop.id, [
            {"action_id": row.action_id, "owner": row.owner, "due": row.due,
             "status": row.status, "notes": row.notes}
            for row in edited.itertuples() if row.action_id in set(plan["action_id"])])
    except (StoreError, TypeError, ValueError) as e:
        st.error(sentence(e))
    else:
        st.success("Plan saved.")
        st.rerun()

st.subheader("Impact against effort")
st.altair_chart(charts.impact_effort(plan))

if report.stop_doing:
    st.subheader("What we will stop doing or give up")
    for text in report.stop_doing:
        st.text(f"• {text}")

st.subheader("Excel")
st.caption("The workbook programme owners run: summary with a chart, scores, the action plan "
           "(filters, status list, overdue highlighting), trade-offs, anonymised responses and "
           "how every number was computed.")
if st.button("Prepare the Excel workbook", key="prepare_xlsx"):
    st.session_state["plan_xlsx"] = workbook_bytes(report)
if st.session_state.get("plan_xlsx"):
    st.download_button("Download the action plan (.xlsx)", st.session_state["plan_xlsx"],
                       file_name=f"action-plan-{workshop.code}.xlsx", key="download_xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
pdf_download(store, workshop, report)  # the PDF report (app_pages/report_download.py)

upload = st.file_uploader("Upload an edited workbook to bring back owners, due dates and "
                          "statuses", type=["xlsx"], key="plan_upload")
if upload is not None:
    try:
        uploaded = read_plan(upload.getvalue(), reference, name=upload.name)  # bounded first
        changes = plan_changes(plan, uploaded)
    except WorkbookError as e:
        st.error(sentence(e))
        changes = None
    if changes == []:
        st.info("The workbook holds no changes to owner, due date or status.")
    elif changes:
        st.dataframe(pd.DataFrame([{"Action": c.action, "Column": c.column.capitalize(),
                                    "Now": c.old, "In the workbook": c.new} for c in changes]),
                     hide_index=True, placeholder="—")
        if st.button(f"Apply {len(changes)} change(s)", type="primary", key="apply_upload",
                     disabled=workshop.is_demo):
            current = plan.set_index("action")
            merged = {}
            for c in changes:
                row = merged.setdefault(c.action, {
                    "action_id": current.loc[c.action, "action_id"],
                    "owner": current.loc[c.action, "owner"],
                    "due": current.loc[c.action, "due"],
                    "status": current.loc[c.action, "status"],
                    "notes": current.loc[c.action, "notes"]})
                row[c.column] = c.new
            try:
                store.save_plan_edits(workshop.id, list(merged.values()))
            except StoreError as e:
                st.error(sentence(e))
            else:
                st.success(f"Applied {len(changes)} change(s).")
                st.rerun()
