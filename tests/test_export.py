"""The Excel action plan: structure, text that stays text, LibreOffice opens it, round trip."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from datetime import date, datetime

import openpyxl
import pandas as pd
import pytest
from openpyxl.utils import get_column_letter
from test_planning import DIMENSIONS, LIBRARY, SHIPPED

from assessment.actions import load_actions
from assessment.export import (
    PLAN_COLUMNS,
    SHEETS,
    WorkbookError,
    plan_changes,
    read_plan,
    save_workbook,
)
from assessment.report import build_report, score_file
from assessment.responses import parse_answers

HOSTILE = ["=HYPERLINK(\"http://evil\",\"click\")", "+1+1", "-2+3", "@SUM(A1)", "\tTabbed",
           "\rReturn", "bell\x07and\x01nul", "ordinary comment"]


def col(name: str) -> str:
    """The Action plan sheet's column letter of a heading."""
    return get_column_letter(PLAN_COLUMNS.index(name) + 1)


def answers_frame():
    q = SHIPPED["tradeoffs"]
    rows = []
    for i, person in enumerate(["ann", "bob", "cy"]):
        for n, question in enumerate(q.scored_questions):
            value = 2 if not question.reverse else 4
            rows.append({"assessment": "Board", "respondent": person, "role": "executive",
                         "question": question.id, "option": "", "value": str(value + (i % 2)
                                                                             * (1 if not question.reverse else -1)),
                         "comment": HOSTILE[(i * 3 + n) % len(HOSTILE)]})
        for option, points in zip(["customer_experience", "cost_reduction", "new_products",
                                   "new_markets", "operational_efficiency", "people_capability"],
                                  [10, 40, 10, 10, 20, 10], strict=True):
            rows.append({"assessment": "Board", "respondent": person, "role": "executive",
                         "question": "tr_alloc", "option": option, "value": str(points),
                         "comment": ""})
        rows.append({"assessment": "Board", "respondent": person, "role": "executive",
                     "question": "tr_stop", "option": "", "value": HOSTILE[i], "comment": ""})
    return parse_answers(pd.DataFrame(rows), q)


@pytest.fixture
def report(write):
    library = load_actions(write("actions.yaml", LIBRARY), dimensions=DIMENSIONS)
    q = SHIPPED["tradeoffs"]
    report, plan = build_report([score_file(answers_frame(), q)], library,
                                reference="workshop 7 (ABCDEF)", client="=cmd|' /C calc'!A0",
                                title="Board offsite", made=date(2026, 1, 15),
                                targets={"tradeoffs": 3.6})
    return report


@pytest.fixture
def library_plan(write):
    """A report whose plan has several actions (the test library covers ease and leadership)."""
    library = load_actions(write("actions.yaml", LIBRARY), dimensions=DIMENSIONS)
    q = SHIPPED["proposition"]
    rows = [{"respondent": p, "question": x.id, "value": "2" if not x.reverse else "4"}
            for p in ("ann", "bob") for x in q.scored_questions]
    scored = score_file(parse_answers(pd.DataFrame(rows), q), q)
    report, plan = build_report([scored], library, reference="workshop 9 (PLAN99)",
                                client="Acme", title="Offsite", made=date(2026, 1, 15))
    return report


@pytest.fixture
def book(report, tmp_path):
    path = tmp_path / "plan.xlsx"
    save_workbook(report, path)
    return path


def test_the_sheets_come_in_order_with_the_agreed_names(book):
    wb = openpyxl.load_workbook(book)
    assert wb.sheetnames == list(SHEETS)


def test_the_action_plan_sheet_is_a_filterable_table_with_a_frozen_header(library_plan, tmp_path):
    path = tmp_path / "plan.xlsx"
    save_workbook(library_plan, path)
    ws = openpyxl.load_workbook(path)["Action plan"]
    assert [c.value for c in ws[1]] == list(PLAN_COLUMNS)
    assert ws.freeze_panes == "D2"  # the header and the actions stay in view
    assert list(ws.tables) == ["ActionPlan"]
    assert ws.tables["ActionPlan"].ref == f"A1:{col('Details')}{ws.max_row}"
    status = [v for v in ws.data_validations.dataValidation if v.type == "list"]
    assert status and status[0].formula1 == '"Not started,In progress,Done,Dropped"'
    assert f"{col('Status')}2" in str(status[0].sqref)
    due = [ws.cell(row=r, column=PLAN_COLUMNS.index("Due") + 1) for r in range(2, ws.max_row + 1)]
    assert due and all(c.is_date and isinstance(c.value, datetime) for c in due)
    rules = [r.formula[0] for rng in ws.conditional_formatting for r in rng.rules]
    assert any("TODAY()" in f for f in rules) and any('"Done"' in f for f in rules)
    priorities = [ws.cell(row=r, column=1).value for r in range(2, ws.max_row + 1)]
    assert priorities == list(range(1, len(priorities) + 1))


def test_pandas_reads_every_sheet_and_the_plan_columns(library_plan, tmp_path):
    path = tmp_path / "plan.xlsx"
    save_workbook(library_plan, path)
    sheets = pd.read_excel(path, sheet_name=None)
    assert list(sheets) == list(SHEETS)
    plan = sheets["Action plan"]
    assert list(plan.columns) == list(PLAN_COLUMNS)
    assert plan["Status"].eq("Not started").all()
    assert plan["Why"].str.endswith(".").all() and plan["Details"].str.contains("gap").all()
    assert set(sheets["Scores"].columns) >= {"Dimension", "Score", "Level", "Target", "Gap",
                                             "SD", "Agreement", "Coverage", "Computed", "Agreed",
                                             "Rationale"}
    assert "Percentile" not in sheets["Scores"].columns  # no benchmark was chosen


def test_the_summary_has_a_native_chart_of_the_dimension_scores(book):
    ws = openpyxl.load_workbook(book)["Summary"]
    assert len(ws._charts) == 1
    values = [r[0].value for r in ws.iter_rows(min_col=1, max_col=1)]
    assert "Client" in values and "Participants" in values


def test_formula_like_and_control_character_text_stays_text(book):
    wb = openpyxl.load_workbook(book)
    cells = [c for ws in wb for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells if isinstance(c.value, str)}
    for text in HOSTILE[:4]:
        assert text in texts
    assert "bellandnul" in texts and not any("\x07" in t or "\x01" in t for t in texts)
    assert "=cmd|' /C calc'!A0" in texts  # the client's name, on the Summary sheet


def test_responses_are_anonymised_with_their_comments(book):
    responses = pd.read_excel(book, sheet_name="Responses")
    assert set(responses["Respondent"]) == {"R1", "R2", "R3"}
    assert "ann" not in responses.to_string()
    assert responses["Comment"].isin(HOSTILE + [None, float("nan")]).any()


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice is not installed")
def test_libreoffice_opens_every_sheet_with_no_error_cells(library_plan, tmp_path):
    path = tmp_path / "plan.xlsx"
    save_workbook(library_plan, path)
    out = tmp_path / "csv"
    # the trailing -1 asks for one CSV per sheet (LibreOffice 7.2 and later)
    subprocess.run(["soffice", "--headless", "--convert-to",
                    "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
                    "--outdir", str(out), str(path)], check=True, capture_output=True,
                   timeout=180, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    files = sorted(out.glob("*.csv"))
    assert len(files) == len(SHEETS), files
    for f in files:
        text = f.read_text(encoding="utf-8")
        for error in ("#VALUE!", "#NAME?", "#REF!", "#DIV/0!", "Err:", "#N/A"):
            assert error not in text, (f.name, error)
    plan = list(csv.reader(io.StringIO(next(f for f in files if "Action" in f.name)
                                       .read_text(encoding="utf-8"))))
    assert plan[0] == list(PLAN_COLUMNS)
    assert plan[1][PLAN_COLUMNS.index("Due")][:2] == "20"  # due dates come out as dates


def test_the_round_trip_applies_exactly_the_edited_cells(library_plan, tmp_path):
    path = tmp_path / "plan.xlsx"
    save_workbook(library_plan, path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Action plan"]
    ws[f"{col('Owner')}2"] = "Dana (COO)"
    ws[f"{col('Status')}3"] = "In progress"
    ws[f"{col('Due')}4"] = datetime(2026, 9, 30)
    wb.save(path)
    uploaded = read_plan(path.read_bytes(), "workshop 9 (PLAN99)")
    changes = plan_changes(library_plan.plan, uploaded)
    plan = library_plan.plan
    assert {(c.action, c.column, c.new) for c in changes} == {
        (plan.iloc[0]["action"], "owner", "Dana (COO)"),
        (plan.iloc[1]["action"], "status", "In progress"),
        (plan.iloc[2]["action"], "due", date(2026, 9, 30)),
    }


def test_a_workbook_from_another_workshop_is_refused(library_plan, tmp_path):
    path = tmp_path / "plan.xlsx"
    save_workbook(library_plan, path)
    with pytest.raises(WorkbookError, match="belongs to another plan"):
        read_plan(path.read_bytes(), "workshop 10 (OTHER1)")


@pytest.mark.parametrize(("cell", "value", "message"), [
    ("F2", "Maybe", "is not one of"),
    ("E2", "next week", "is not a date"),
])
def test_an_unreadable_edit_names_the_row_and_column(library_plan, tmp_path, cell, value, message):
    path = tmp_path / "plan.xlsx"
    save_workbook(library_plan, path)
    wb = openpyxl.load_workbook(path)
    wb["Action plan"][cell] = value
    wb.save(path)
    with pytest.raises(WorkbookError, match=f"row 2, column (Status|Due).*{message}"):
        read_plan(path.read_bytes(), "workshop 9 (PLAN99)")


def test_something_that_is_not_a_workbook_is_refused():
    with pytest.raises(WorkbookError, match="not an Excel workbook"):
        read_plan(b"PK\x03\x04 not really", "workshop 9 (PLAN99)")
