"""Change plan: targets, the priorities and backlog with why, edits saved with what changed,
stop-doing decisions, Excel (and the PDF) out and the workbook back in."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from app_pages.common import (
    action_library,
    benchmarks,
    facilitator_page,
    offered,
    open_store,
    plain,
    questionnaires,
    sentence,
    workshop_results,
)
from app_pages.report_download import pdf_download
from assessment import charts
from assessment.errors import StoreError
from assessment.export import (
    Change,
    WorkbookError,
    change_rows,
    deliverable_name,
    describe_changes,
    plan_changes,
    read_plan,
    workbook_bytes,
)
from assessment.planning import PRIORITY_MAX, STATUSES
from assessment.report import Scored, build_report

store = open_store()
shipped = questionnaires()
library = action_library()

workshop = facilitator_page(store, "Change plan", "The plan is")


def flash(section: str, message: str, kind: str = "success") -> None:
    """A message shown under a section after the rerun that follows a save."""
    st.session_state[f"plan_flash_{section}"] = (kind, message)


def show_flash(section: str, editor: str | None = None) -> None:
    """With `editor`: the grid whose save made the message. While it still holds the edits
    just saved, the message is kept for one more run, the one the grid starts itself when it
    takes in the saved data (else the message showed for a blink and was gone)."""
    key = f"plan_flash_{section}"
    kind, message, shown = (*st.session_state.get(key, (None, "")), False)[:3]
    if not kind:
        return
    getattr(st, kind)(plain(message))
    pending = editor is not None and bool((st.session_state.get(editor) or {}).get(
        "edited_rows"))
    if pending and not shown:
        st.session_state[key] = (kind, message, True)
    else:
        del st.session_state[key]


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



@st.cache_data(max_entries=32, show_spinner=False)
def plan_report(_scored, answers_version: tuple, chosen: tuple, made: date, reference: str,
                client: str, title: str, targets: dict, edits: dict, agreed: pd.DataFrame,
                notes: pd.DataFrame, decisions: list):
    """build_report, made again only when the answers or the team's decisions have changed
    (every other rerun of this page reuses it); `_scored` follows from the answers' version."""
    return build_report(_scored, library, reference=reference, client=client, title=title,
                        made=made, benchmarks={every[i].questionnaire: every[i] for i in chosen},
                        targets=targets, edits=edits, agreed=agreed, notes=notes,
                        decisions=decisions)


decisions = store.decisions(workshop.id)
report, plan = plan_report(
    scored, store.answers_version(workshop.id), tuple(chosen), date.today(), reference,
    workshop.client_name, workshop.title, store.targets(workshop.id),
    store.plan_edits(workshop.id), store.agreed_scores(workshop.id), store.notes(workshop.id),
    decisions)

st.subheader("Targets")
targets = pd.DataFrame([{"dimension_id": g.dimension, "Dimension": g.name,
                         "Score": round(g.score, 2),
                         "Basis": g.score_text if g.agreed is not None else "computed",
                         "Level": g.level_name, "Target": round(g.target, 2),
                         "Gap": round(g.gap, 2), "Importance": round(g.importance, 2)}
                        for g in report.gaps])
edited_targets = st.data_editor(
    targets, key="targets_editor", hide_index=True,
    disabled=["Dimension", "Score", "Basis", "Level", "Gap", "Importance"],
    column_config={"dimension_id": None,
                   "Score": st.column_config.NumberColumn(
                       format="%.2f", help="The team's agreed score where one was recorded on "
                                           "the results page, else the computed score"),
                   "Basis": st.column_config.TextColumn(
                       "Score basis", help="'agreed 2.6; computed 3.24' where the team agreed "
                                           "a score"),
                   "Target": st.column_config.NumberColumn(min_value=1.0, max_value=5.0,
                                                           step=0.1, format="%.2f"),
                   "Gap": st.column_config.NumberColumn(format="%.2f"),
                   "Importance": st.column_config.NumberColumn(
                       format="%.2f", help="From the trade-off answers; 1 when none speaks for "
                                           "it")})
st.caption("Where the team recorded an agreed score (results page), targets, gaps, priorities "
           "and every export use it; the computed score stays beside it.")
if st.button("Save targets", key="save_targets", disabled=workshop.is_demo):
    before = targets.set_index("dimension_id")["Target"]
    names = targets.set_index("dimension_id")["Dimension"]
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
        flash("targets", f"Saved {len(changed)} target(s): " + "; ".join(
            f"{names[d]} {t:.2f}" for d, t in changed.items()) + "." if changed else
            "No target was changed: nothing to save.", "success" if changed else "info")
        st.rerun()
show_flash("targets")

st.subheader("The plan")
if plan.empty:
    st.success("Every dimension has reached its target: no actions needed.")
    st.stop()
priorities = plan[plan["tier"] == "Priority"]
m1, m2, m3, m4 = st.columns(4)
m1.metric("Priorities", len(priorities))
m2.metric("Backlog", int((plan["tier"] == "Backlog").sum()))
m3.metric("Quick wins", int(plan["quick_win"].sum()))
m4.metric("Actions", len(plan))
st.caption(f"The priorities carry the first 90 days: by the stated rules at most {PRIORITY_MAX}, "
           "two per dimension at most, never before an action they depend on (Method sheet). "
           "The rest is the backlog. Promote, demote or drop an action below.")
if len(priorities) > PRIORITY_MAX:
    st.warning(f"{len(priorities)} priorities: a leadership team can carry three to five. "
               f"Consider moving some to the backlog.")
shown = plan.assign(due=pd.to_datetime(plan["due"]))
GRID = ["priority", "tier", "action", "owner", "due", "status", "notes", "action_id"]
edited = st.data_editor(
    shown[GRID], key="plan_editor", hide_index=True, height=min(36 * (len(plan) + 1) + 3, 560),
    disabled=["priority", "tier", "action"], width="stretch",
    # Widths in pixels that add up to what the main column holds at 1,400 px with the sidebar
    # open (about 940): Action, Owner, Due, Status and Notes without sideways scrolling.
    column_config={
        "priority": st.column_config.NumberColumn("#", width=40),
        "tier": st.column_config.TextColumn("Tier", width=72),
        "action": st.column_config.TextColumn("Action", width=318),
        "owner": st.column_config.TextColumn("Owner", max_chars=200, width=150),
        "due": st.column_config.DateColumn("Due", format="YYYY-MM-DD", width=100),
        "status": st.column_config.SelectboxColumn("Status", options=list(STATUSES),
                                                   required=True, width=112),
        "notes": st.column_config.TextColumn("Notes", max_chars=2000, width=130),
        "action_id": None,
    })


def grid_changes(before: pd.DataFrame, after: pd.DataFrame) -> list[Change]:
    """What the facilitator changed in the grid, as the workbook's changes are listed."""
    old = before.set_index("action_id")
    out = []
    for row in after.itertuples():
        if row.action_id not in old.index:
            continue  # only the plan's own rows
        for column in ("owner", "due", "status", "notes"):
            a, b = old.loc[row.action_id, column], getattr(row, column)
            a = None if a is None or (not isinstance(a, str) and pd.isna(a)) else a
            b = None if b is None or (not isinstance(b, str) and pd.isna(b)) else b
            a = a.date() if isinstance(a, pd.Timestamp) else a
            b = b.date() if isinstance(b, pd.Timestamp) else b
            if (a or None) != (b or None):
                out.append(Change(old.loc[row.action_id, "action"], column, a, b))
    return out


if st.button("Save plan", type="primary", key="save_plan", disabled=workshop.is_demo):
    changes = grid_changes(shown[GRID], edited)
    try:
        store.save_plan_edits(workshop.id, change_rows(plan, changes))
    except (StoreError, TypeError, ValueError) as e:
        st.error(sentence(e))
    else:
        flash("plan", describe_changes(changes) if changes else
              "Nothing to save: no owner, due date, status or note was changed.",
              "success" if changes else "info")
        st.rerun()
show_flash("plan", editor="plan_editor")

with st.expander("Why each action is where it is, and the numbers behind it", expanded=False):
    st.dataframe(plan[["priority", "tier", "action", "why", "dimension", "effort", "impact",
                       "phase", "measure", "details"]], hide_index=True, column_config={
        "priority": st.column_config.NumberColumn("#", width="small"),
        "tier": "Tier", "action": st.column_config.TextColumn("Action", width="medium"),
        "why": st.column_config.TextColumn("Why", width="large"),
        "dimension": "Dimension", "effort": "Effort", "impact": "Impact", "phase": "Phase",
        "measure": st.column_config.TextColumn("Measure of success", width="medium"),
        "details": st.column_config.TextColumn("Details", width="large")})

st.markdown("**Promote, demote or drop an action**")
labels = dict(zip(plan["action_id"], plan["tier"] + " · " + plan["action"], strict=True))
CHOICES = {"priority": "Make it a priority", "backlog": "Move it to the backlog",
           "dropped": "Drop it", "rules": "As the rules say"}
c1, c2 = st.columns([3, 2])
moved = c1.selectbox("Action", list(labels), key="tier_action", format_func=labels.get)
moved = offered(moved, list(labels), list(labels)[0])
tier_choice = c2.radio("Move", list(CHOICES), key="tier_choice", format_func=CHOICES.get,
                       horizontal=True)
tier_choice = offered(tier_choice, list(CHOICES), "priority")
reason = st.text_input("Reason (kept with the plan)", max_chars=500, key="tier_reason")
if st.button("Move", key="move_action", disabled=workshop.is_demo):
    title = plan.set_index("action_id").loc[moved, "action"]
    try:
        store.set_tier(workshop.id, moved, None if tier_choice == "rules" else tier_choice,
                       reason)
    except StoreError as e:
        st.error(sentence(e))
    else:
        where = {"priority": "to the priorities", "backlog": "to the backlog",
                 "dropped": "out of the plan (dropped)",
                 "rules": "back to where the rules put it"}[tier_choice]
        flash("tier", f"Moved '{title}' {where}" + (f" (reason: {reason.strip()})"
                                                      if reason.strip() and tier_choice != "rules"
                                                      else "") + ".")
        st.rerun()
show_flash("tier")

st.subheader("Impact against effort")
st.altair_chart(charts.impact_effort(plan))

st.subheader("What we will stop doing")
st.caption("Only the team's decisions are listed here and in the exports. Participants' answers "
           "are inputs: adopt the ones the team agrees, in the team's words, with an owner.")
for d in decisions:
    st.text(f"• {d.text}" + (f" (owner: {d.owner})" if d.owner else ""))
if not decisions:
    st.info("No decision recorded yet.")
show_flash("decisions")
inputs = report.stop_doing_inputs
if inputs:
    with st.expander(f"What participants wrote ({len(inputs)} answers: inputs, not decisions)"):
        for text in inputs:
            st.text(f"• {text}")
if "decision_empty" in st.session_state:
    # An empty form after recording, so a second click does not record the same decision
    # twice. Set before the widgets are made, so the browser's copy is emptied too.
    st.session_state.pop(f"decision_text_{st.session_state.pop('decision_empty')}", None)
    st.session_state["decision_source"] = None
    st.session_state["decision_owner"] = ""
source = st.selectbox("Start from an answer", [None, *range(len(inputs))], key="decision_source",
                      format_func=lambda i: "(write a new decision)" if i is None else
                      (inputs[i] if len(inputs[i]) <= 90 else inputs[i][:89] + "…"))
source = offered(source, [None, *range(len(inputs))], None)
text = st.text_area("Decision, in the team's words", value="" if source is None else
                    inputs[source], max_chars=2000, key=f"decision_text_{source}")
owner = st.text_input("Owner", max_chars=200, key="decision_owner")
if st.button("Record the decision", key="add_decision", disabled=workshop.is_demo):
    try:
        store.add_decision(workshop.id, text, owner, "" if source is None else inputs[source])
    except StoreError as e:
        st.error(sentence(e))
    else:
        flash("decisions", f"Recorded the decision '{text.strip()}'"
              + (f", owner {owner.strip()}" if owner.strip() else "") + ".")
        st.session_state["decision_empty"] = source  # the form is emptied on the rerun
        st.rerun()
if decisions:
    with st.expander("Edit or remove a decision"):
        for d in decisions:
            e1, e2 = st.columns([3, 1])
            new_text = e1.text_input("Decision", value=d.text, max_chars=2000,
                                     key=f"decision_edit_{d.id}")
            new_owner = e2.text_input("Owner", value=d.owner, max_chars=200,
                                      key=f"decision_owner_{d.id}")
            b1, b2 = st.columns(2)
            try:
                if b1.button("Save", key=f"decision_save_{d.id}", disabled=workshop.is_demo):
                    store.update_decision(workshop.id, d.id, new_text, new_owner)
                    flash("decisions", f"Saved the decision '{new_text.strip()}'"
                          + (f", owner {new_owner.strip()}" if new_owner.strip() else "") + ".")
                    st.rerun()
                if b2.button("Remove", key=f"decision_remove_{d.id}", disabled=workshop.is_demo):
                    store.remove_decision(workshop.id, d.id)
                    flash("decisions", f"Removed the decision '{d.text}'.")
                    st.rerun()
            except StoreError as e:
                st.error(sentence(e))

st.subheader("Excel")
st.caption("The workbook for the client and the programme office: summary with the priorities, "
           "decisions and a chart; scores (agreed and computed); the action plan (filters, "
           "status list, overdue highlighting, notes); the discussion (agreed scores, agenda, "
           "notes); trade-offs, rankings and the say–do gap; anonymised responses; and how "
           "every number was computed.")
if st.button("Prepare the Excel workbook", key="prepare_xlsx"):
    st.session_state["plan_xlsx"] = (workshop.id, workbook_bytes(report))
prepared = st.session_state.get("plan_xlsx")
if prepared and prepared[0] == workshop.id:  # never a workbook made for another workshop
    st.download_button("Download the action plan (.xlsx)", prepared[1],
                       file_name=deliverable_name(workshop.client_name, report.made),
                       key="download_xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
pdf_download(store, workshop, report)  # the PDF report (app_pages/report_download.py)

upload = st.file_uploader("Upload an edited workbook to bring back owners, due dates, statuses "
                          "and notes", type=["xlsx"], key="plan_upload")
applied = st.session_state.get("plan_applied")
if upload is not None and applied and applied[0] == upload.file_id:
    # This very file was just applied: say what was saved (the plan now matches it).
    st.success(plain(applied[1]))
elif upload is not None:
    try:
        uploaded = read_plan(upload.getvalue(), reference, name=upload.name)  # bounded first
        changes = plan_changes(plan, uploaded)
    except WorkbookError as e:
        st.error(sentence(e))
        changes = None
    if changes == []:
        st.info("The workbook holds no changes to owner, due date, status or notes.")
    elif changes:
        st.dataframe(pd.DataFrame([{"Action": c.action, "Column": c.column.capitalize(),
                                    "Now": c.old, "In the workbook": c.new} for c in changes]),
                     hide_index=True, placeholder="—")
        if st.button(f"Apply {len(changes)} change(s)", type="primary", key="apply_upload",
                     disabled=workshop.is_demo):
            try:
                store.save_plan_edits(workshop.id, change_rows(plan, changes))
            except StoreError as e:
                st.error(sentence(e))
            else:
                st.session_state["plan_applied"] = (upload.file_id,
                                                    describe_changes(changes, "Applied"))
                st.rerun()
