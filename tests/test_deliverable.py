"""Issue 10's acceptance: agreed scores drive the plan and the workbook, the workbook is a client
deliverable (LibreOffice reads every sheet and prints it), decisions and tiers are kept, and the
upload round trip brings owner, due date, status and notes back with a message that lists them.

`agreed_below_computed(store)` is meant for reuse (the PDF's acceptance test): a writable demo
workshop whose team agreed a Leadership commitment score 0.6 below the computed one, and its
report as the plan page builds it."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date, datetime

import openpyxl
import pandas as pd
import pytest
from test_export import col

from assessment.actions import load_actions
from assessment.demo import create_demo
from assessment.export import (
    PlanReport,
    change_rows,
    deliverable_name,
    describe_changes,
    plan_changes,
    read_plan,
    save_workbook,
)
from assessment.model import Decision
from assessment.planning import PRIORITY_MAX
from assessment.questionnaire import load_shipped
from assessment.report import HIDDEN_GROUP, Scored, build_report, score_file
from assessment.responses import parse_answers
from assessment.store import Store, StoreError
from assessment.workshop import results

SHIPPED = load_shipped()
LIBRARY = load_actions(dimensions={d.id for q in SHIPPED.values() for d in q.dimensions})
MADE = date(2026, 11, 30)
ERRORS = ("#VALUE!", "#NAME?", "#REF!", "#DIV/0!", "Err:", "#N/A", "#NUM!", "#NULL!")


@dataclass(frozen=True)
class AgreedCase:
    workshop: object
    report: PlanReport
    plan: pd.DataFrame
    agreed: float
    computed: float


def workshop_report(store: Store, workshop, **extra) -> tuple[PlanReport, pd.DataFrame]:
    """The report of a stored workshop, built as the plan page builds it."""
    scored = []
    for qid in workshop.questionnaire_ids:
        outcome = results(store.answer_frame(workshop.id, qid), SHIPPED[qid])
        scored.append(Scored(SHIPPED[qid], outcome.answers, outcome.scores))
    return build_report(
        scored, LIBRARY, reference=f"workshop {workshop.id} ({workshop.code})",
        client=workshop.client_name, title=workshop.title, made=MADE,
        targets=store.targets(workshop.id), edits=store.plan_edits(workshop.id),
        agreed=store.agreed_scores(workshop.id), notes=store.notes(workshop.id),
        decisions=store.decisions(workshop.id), **extra)


def agreed_below_computed(store: Store) -> AgreedCase:
    """A finished, writable demo workshop whose team agreed Leadership commitment 0.6 below the
    computed score (rationale recorded), with its report."""
    workshop = create_demo(store, SHIPPED, read_only=False)
    report, _ = workshop_report(store, workshop)
    row = report.scores.set_index(["questionnaire", "dimension"]).loc[("commitment",
                                                                       "leadership")]
    computed = float(row["computed_score"])
    agreed = round(computed - 0.6, 1)
    store.record_agreed_score(workshop.id, "commitment", "leadership", agreed,
                              "We rate ourselves more kindly than our customers would.", computed)
    report, plan = workshop_report(store, workshop)
    return AgreedCase(workshop, report, plan, agreed, computed)


def sheet_rows(path, name: str) -> list[list]:
    ws = openpyxl.load_workbook(path)[name]
    return [[c.value for c in row] for row in ws.iter_rows()]


def test_an_agreed_score_below_the_computed_drives_the_gap_and_both_show_in_the_workbook(
        store, tmp_path):
    case = agreed_below_computed(store)
    (gap,) = [g for g in case.report.gaps if g.dimension == "leadership"]
    assert (gap.score, gap.agreed) == (case.agreed, case.agreed)
    assert gap.computed == pytest.approx(case.computed)
    assert gap.gap == pytest.approx(max(0.0, gap.target - case.agreed))
    words = f"agreed {case.agreed:.1f}; computed {case.computed:.2f}"
    assert gap.score_text == words
    path = tmp_path / "plan.xlsx"
    save_workbook(case.report, path)
    scores = [r for r in sheet_rows(path, "Scores") if r[1] == "Leadership commitment"]
    (row,) = scores
    head = sheet_rows(path, "Scores")[0]
    values = dict(zip(head, row, strict=False))
    assert values["Score"] == pytest.approx(case.agreed)
    assert values["Computed"] == pytest.approx(case.computed)
    assert values["Agreed"] == pytest.approx(case.agreed)
    assert values["Score basis"] == words
    assert values["Gap"] == pytest.approx(gap.gap)
    assert values["Rationale"].startswith("We rate ourselves more kindly")
    summary = [r for r in sheet_rows(path, "Summary") if r[1] == "Leadership commitment"]
    assert summary and summary[0][2] == pytest.approx(case.agreed) and words in summary[0]
    method = {r[0]: r[1] for r in sheet_rows(path, "Method")}
    assert "agreed score" in method["Agreed score"] and "computed" in method["Agreed score"]


def test_the_default_plan_has_at_most_five_priorities_and_a_move_survives_a_new_store(store):
    workshop = create_demo(store, SHIPPED, read_only=False)
    _, plan = workshop_report(store, workshop)
    priorities = plan[plan["tier"] == "Priority"]
    assert 3 <= len(priorities) <= PRIORITY_MAX < len(plan)
    first, backlog = priorities["action_id"].iloc[0], \
        plan.loc[plan["tier"] == "Backlog", "action_id"].iloc[0]
    store.set_tier(workshop.id, first, "backlog", "Already under way")
    store.set_tier(workshop.id, backlog, "priority", "The board asked for it")
    store.save_plan_edits(workshop.id, [{"action_id": first, "owner": "Dana", "status":
                                         "In progress", "notes": "kept"}])
    again = Store(store.url)
    try:
        _, plan = workshop_report(again, workshop)
    finally:
        again.close()
    rows = plan.set_index("action_id")
    assert rows.loc[first, ["tier", "tier_reason", "owner", "notes"]].tolist() == [
        "Backlog", "Already under way", "Dana", "kept"]
    assert rows.loc[first, "why"] == "The team moved it to the backlog: Already under way."
    assert rows.loc[backlog, "tier"] == "Priority"
    store.set_tier(workshop.id, first, None)  # back to the rules
    _, plan = workshop_report(store, workshop)
    assert plan.set_index("action_id").loc[first, "tier"] == "Priority"


def test_tiers_and_decisions_are_checked_and_the_demo_stays_read_only(store):
    workshop = create_demo(store, SHIPPED, read_only=False)
    with pytest.raises(StoreError, match="not 'urgent'"):
        store.set_tier(workshop.id, "le-2-01", "urgent")
    first = store.add_decision(workshop.id, "  Stop the monthly cost pack ", "CFO",
                               "Stop the cost report")
    second = store.add_decision(workshop.id, "Give up pet projects")
    store.update_decision(workshop.id, second, "Give up two pet projects", "CEO")
    assert store.decisions(workshop.id) == [
        Decision("Stop the monthly cost pack", "CFO", "Stop the cost report", first),
        Decision("Give up two pet projects", "CEO", "", second)]
    store.remove_decision(workshop.id, first)
    assert [d.id for d in store.decisions(workshop.id)] == [second]
    with pytest.raises(StoreError, match="must not be empty"):
        store.add_decision(workshop.id, "   ")
    with pytest.raises(StoreError, match="no decision"):
        store.remove_decision(workshop.id, second + 1000)
    demo = create_demo(store, SHIPPED)  # read-only
    for call in (lambda: store.add_decision(demo.id, "x"),
                 lambda: store.set_tier(demo.id, "le-2-01", "dropped")):
        with pytest.raises(StoreError, match="read-only"):
            call()


# ---------------------------------------------------------------- the workbook through LibreOffice

HOSTILE_NOTE = "=1+2 revisit pricing before the board"
HOSTILE_RATIONALE = "+We overrate our speed"
HOSTILE_DECISION = "-Stop the monthly cost pack"
HOSTILE_OWNER = "@CFO"
PLAN_NOTE = "=SUM(A1) the board signs off in March"
ROLES = ["executive", "executive", "executive", "manager", "frontline"]


def tradeoff_answers() -> pd.DataFrame:
    """Five people (three executives, one manager, one from the front line) who rank the
    customer experience most vital yet give it 5 of 100 points: a say-do gap."""
    q = SHIPPED["tradeoffs"]
    rows = []
    for i, role in enumerate(ROLES):
        person = f"p{i}"
        for n, question in enumerate(q.scored_questions):
            rows.append({"assessment": "Board", "respondent": person, "role": role,
                         "question": question.id, "option": "",
                         "value": str(1 + (i + n) % 5), "comment": ""})
        for option, points in zip(["customer_experience", "cost_reduction", "new_products",
                                   "new_markets", "operational_efficiency", "people_capability"],
                                  [5, 45, 10, 10, 20, 10], strict=True):
            rows.append({"assessment": "Board", "respondent": person, "role": role,
                         "question": "tr_alloc", "option": option, "value": str(points),
                         "comment": ""})
        for rank, option in enumerate(["customer_experience", "cost_reduction",
                                       "operational_efficiency", "new_products",
                                       "new_markets", "people_capability"], start=1):
            rows.append({"assessment": "Board", "respondent": person, "role": role,
                         "question": "tr_rank", "option": option, "value": str(rank),
                         "comment": ""})
        rows.append({"assessment": "Board", "respondent": person, "role": role,
                     "question": "tr_stop", "option": "", "value": f"Stop report {i}",
                     "comment": ""})
    return parse_answers(pd.DataFrame(rows), q)


@pytest.fixture
def deliverable(tmp_path):
    """A client's workbook with an agreed score, notes, decisions and plan notes, all written
    the way an attacker would like them to be read (as formulas)."""
    q = SHIPPED["tradeoffs"]
    scored = [score_file(tradeoff_answers(), q)]
    computed = float(scored[0].scores.set_index("dimension").loc["tradeoffs", "score"])
    agreed = pd.DataFrame([{"questionnaire_id": "tradeoffs", "dimension_id": "tradeoffs",
                            "agreed_score": round(computed - 0.4, 1),
                            "rationale": HOSTILE_RATIONALE}])
    notes = pd.DataFrame([{"questionnaire_id": "tradeoffs", "dimension_id": "",
                           "text": HOSTILE_NOTE, "created_at": datetime(2026, 11, 30, 10, 5)}])
    common = dict(reference="workshop 3 (DELIV3)", client="Acme & Söhne / UK", title="Offsite",
                  made=MADE, agreed=agreed, notes=notes,
                  decisions=[Decision(HOSTILE_DECISION, HOSTILE_OWNER)])
    _, plan = build_report(scored, LIBRARY, **common)
    first = plan["action_id"].iloc[0]
    report, plan = build_report(scored, LIBRARY, edits={first: {"notes": PLAN_NOTE}}, **common)
    path = tmp_path / deliverable_name(report.client, report.made)
    save_workbook(report, path)
    return report, path, round(computed - 0.4, 1), computed


@pytest.mark.parametrize(("client", "name"), [
    ("Acme & Söhne / UK", "Acme-Sohne-UK-2026-11-30-action-plan.xlsx"),
    ("DEMO · Northwind Utilities (sample data)",
     "DEMO-Northwind-Utilities-sample-data-2026-11-30-action-plan.xlsx"),
    ("../../etc/passwd", "etc-passwd-2026-11-30-action-plan.xlsx"),
    ("株式会社", "client-2026-11-30-action-plan.xlsx"),
    ("", "client-2026-11-30-action-plan.xlsx"),
])
def test_the_workbook_is_named_after_the_client_and_date_in_safe_characters(client, name):
    assert deliverable_name(client, MADE) == name


def convert(path, tmp_path, target: str) -> list:
    out = tmp_path / target.split(":")[0]
    subprocess.run(["soffice", "--headless", "--convert-to", target, "--outdir", str(out),
                    str(path)], check=True, capture_output=True, timeout=300,
                   env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    return sorted(out.iterdir())


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice is not installed")
def test_libreoffice_reads_and_prints_the_deliverable_with_everything_the_client_needs(
        deliverable, tmp_path):
    report, path, agreed, computed = deliverable
    # the trailing -1 asks for one CSV per sheet (LibreOffice 7.2 and later)
    files = convert(path, tmp_path,
                    "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1")
    sheets = {f.stem.rsplit("-", 1)[-1] if "-" in f.stem else f.stem: f for f in files}
    text = {name: f.read_text(encoding="utf-8") for name, f in
            ((n, next(f for f in files if f.stem.endswith(n)))
             for n in ("Summary", "Scores", "Action plan", "Discussion", "Trade-offs",
                       "Responses", "Method"))}
    assert len(files) >= 7, sheets
    for name, body in text.items():
        for error in ERRORS:
            assert error not in body, (name, error)
    # user text that looks like a formula stays text, and reads as typed
    wb = openpyxl.load_workbook(path)
    assert not [c.coordinate for ws in wb for row in ws.iter_rows() for c in row
                if c.data_type == "f"]
    assert HOSTILE_NOTE in text["Discussion"] and HOSTILE_RATIONALE in text["Discussion"]
    assert HOSTILE_DECISION in text["Trade-offs"] and HOSTILE_OWNER in text["Trade-offs"]
    assert HOSTILE_DECISION in text["Summary"]
    # the agreed score, and the computed one beside it
    assert f"agreed {agreed:.1f}; computed {computed:.2f}" in text["Scores"]
    assert f"agreed {agreed:.1f}; computed {computed:.2f}" in text["Summary"]
    # the agenda: the questions the team disagreed most about, with the spread of answers
    top = report.agenda.iloc[0]
    assert top["text"] in text["Discussion"] and top["distribution"] in text["Discussion"]
    # the say-do gap and the ranking results
    tradeoffs = list(csv.reader(io.StringIO(text["Trade-offs"])))
    say_do = next(i for i, r in enumerate(tradeoffs) if r and r[0].startswith("Say–do gap"))
    assert tradeoffs[say_do + 2][0] == "Improving the customer experience"
    points = [float(r[1]) for r in tradeoffs[2:8]]
    assert points == sorted(points, reverse=True)  # most points first
    assert "Ranking results" in text["Trade-offs"]
    # the plan's Notes column, and the titles (never ids)
    plan = list(csv.reader(io.StringIO(text["Action plan"])))
    notes = plan[0].index("Notes")
    assert plan[1][notes] == PLAN_NOTE
    assert "Trade-offs: what are we prepared to give up?" in text["Scores"]
    scores = list(csv.reader(io.StringIO(text["Scores"])))
    assert "tradeoffs" not in [r[0] for r in scores]
    # no benchmark chosen: no benchmark columns, one line saying so
    assert "Percentile" not in scores[0] and "No benchmark was chosen" in text["Scores"]
    # a role held by fewer than three people is never shown
    responses = list(csv.reader(io.StringIO(text["Responses"])))
    role = responses[0].index("Role")
    assert {r[role] for r in responses[1:]} == {"executive", HIDDEN_GROUP}
    answer_text = responses[0].index("Answer text")
    assert any(r[answer_text] == "rank 1" for r in responses[1:])
    assert any(r[answer_text] == "5 points" for r in responses[1:])
    # printed: LibreOffice makes a PDF of it
    (pdf,) = [f for f in convert(path, tmp_path, "pdf") if f.suffix == ".pdf"]
    from pypdf import PdfReader

    printed = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    for needle in ("Priorities for the first 90 days", "Discussion agenda", HOSTILE_NOTE[:20],
                   "Say–do gap"):
        assert needle in printed, needle


def test_rows_are_tall_enough_for_their_wrapped_text(deliverable):
    """Printed, a wrapped cell never runs into the next row: every row holding text longer than
    its column has a height for its lines."""
    _, path, _, _ = deliverable
    wb = openpyxl.load_workbook(path)
    for ws in wb:
        widths = {k: v.width for k, v in ws.column_dimensions.items()}
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.alignment.wrap_text and \
                        len(c.value) > 1.15 * (widths.get(c.column_letter) or 10):
                    assert (ws.row_dimensions[c.row].height or 15) >= 30, (ws.title,
                                                                           c.coordinate)


# ---------------------------------------------------------------- the upload round trip

def test_owner_due_status_and_notes_changed_offline_come_back_and_the_message_lists_them(
        store, tmp_path):
    workshop = create_demo(store, SHIPPED, read_only=False)
    report, plan = workshop_report(store, workshop)
    path = tmp_path / "plan.xlsx"
    save_workbook(report, path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Action plan"]
    ws[f"{col('Owner')}2"] = "Dana (COO)"
    ws[f"{col('Due')}3"] = datetime(2027, 9, 30)
    ws[f"{col('Status')}4"] = "In progress"
    ws[f"{col('Notes')}5"] = "Board to sign off"
    ws[f"{col('Owner')}6"] = None  # a blank owner keeps the plan's
    wb.save(path)
    uploaded = read_plan(path.read_bytes(), f"workshop {workshop.id} ({workshop.code})")
    changes = plan_changes(plan, uploaded)
    titles = plan["action"].tolist()
    assert [(c.action, c.column, c.new) for c in changes] == [
        (titles[0], "owner", "Dana (COO)"), (titles[1], "due", date(2027, 9, 30)),
        (titles[2], "status", "In progress"), (titles[3], "notes", "Board to sign off")]
    message = describe_changes(changes, "Applied")
    assert message == (f"Applied 4 change(s): '{titles[0]}': owner Dana (COO); '{titles[1]}': "
                       f"due 2027-09-30; '{titles[2]}': status In progress; '{titles[3]}': "
                       f"notes Board to sign off.")
    store.save_plan_edits(workshop.id, change_rows(plan, changes))
    again = Store(store.url)
    try:
        _, after = workshop_report(again, workshop)
    finally:
        again.close()
    rows = after.set_index("action")
    assert rows.loc[titles[0], "owner"] == "Dana (COO)"
    assert rows.loc[titles[1], "due"] == date(2027, 9, 30)
    assert rows.loc[titles[2], "status"] == "In progress"
    assert rows.loc[titles[3], "notes"] == "Board to sign off"
    assert rows.loc[titles[4], "owner"] == plan.set_index("action").loc[titles[4], "owner"]
    # the same workbook uploaded again holds nothing new: what was shown was what was applied
    assert plan_changes(after, uploaded) == []
