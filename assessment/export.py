"""The Excel action plan (openpyxl), and reading an edited one back."""

from __future__ import annotations

import io
import math
import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
from openpyxl.chart import BarChart, Reference
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table, TableStyleInfo

from .planning import STATUSES, DimensionGap
from .uploads import UPLOAD, Limits, UploadError, check_xlsx

SHEETS = ("Summary", "Scores", "Action plan", "Trade-offs", "Responses", "Method")
PLAN_COLUMNS = ("Priority", "Dimension", "Action", "Why", "Effort", "Impact", "Phase", "Owner",
                "Due", "Status", "Measure of success")
EDITABLE = ("Owner", "Due", "Status")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters a workbook cannot hold (XML 1.0 control characters, U+FFFE, U+FFFF, and lone
# surrogates such as undecodable bytes in a command-line argument): removed, never a crash.
ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
MAX_CELL_TEXT = 32_767  # what one Excel cell holds
PROPERTIES = ("title", "subject", "creator", "keywords", "description", "lastModifiedBy",
              "category", "contentStatus", "identifier", "language", "version", "revision")
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
HEADER_FONT = Font(bold=True, color="FFFFFF")
TITLE_FONT = Font(bold=True, size=14, color="1F4E79")
WRAP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")


class WorkbookError(Exception):
    """An uploaded workbook that cannot be read back as this plan; the message says why."""


@dataclass(frozen=True)
class PlanReport:
    """Everything the workbook shows."""

    reference: str
    client: str
    title: str
    made: date
    participants: int
    scores: pd.DataFrame          # questionnaire, dimension, name, score, level, sd, agreement,
                                  # coverage, respondents (+ benchmark_percentile, _median)
    gaps: list[DimensionGap]
    plan: pd.DataFrame            # planning.plan_frame, edits applied
    allocations: pd.DataFrame     # label, mean_points, respondents
    stop_doing: list[str]
    responses: pd.DataFrame       # respondent, role, questionnaire, question, text, option,
                                  # value, comment
    benchmark_line: str = ""
    method: list[tuple[str, str]] = field(default_factory=list)


def safe(value):
    """A value fit for a cell: user text stays text, illegal characters go."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.date() if isinstance(value, pd.Timestamp) else value
    if isinstance(value, str):
        value = ILLEGAL.sub("", value)
        if len(value) > MAX_CELL_TEXT:
            value = value[: MAX_CELL_TEXT - 1] + "…"
        return value
    return value


def put(ws, row: int, column: int, value, number_format: str | None = None):
    """Write one cell; text that starts like a formula is stored as text, never as a formula."""
    cell = ws.cell(row=row, column=column)
    value = safe(value)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl would otherwise turn "=..." into a formula
        if value.startswith(FORMULA_START):
            cell.quotePrefix = True  # and Excel shows it as typed, with no formula behind it
    if number_format:
        cell.number_format = number_format
    return cell


def align(cell, alignment: Alignment, numbers: dict[int, int]):
    """cell.alignment = alignment, for the thousands of cells of a sheet.

    openpyxl finds an alignment's number in the workbook by hashing all its fields, twice, on
    every assignment, which costs more than writing the cell. Here the first assignment of each
    alignment goes through openpyxl and `numbers` (one dict per sheet) remembers the number;
    later cells get it written into their style array, which is what openpyxl's assignment
    stores (openpyxl is pinned; tests/test_export.py reads the alignments back)."""
    number = numbers.get(id(alignment))
    if number is None:
        cell.alignment = alignment
        numbers[id(alignment)] = cell._style.alignmentId
    else:
        if cell._style is None:  # a cell without any format yet
            cell._style = StyleArray()
        cell._style.alignmentId = number
    return cell


def header(ws, row: int, names, widths=None) -> None:
    for i, name in enumerate(names, start=1):
        cell = put(ws, row, i, name)
        cell.fill, cell.font = HEADER_FILL, HEADER_FONT
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for i, width in enumerate(widths or [], start=1):
        ws.column_dimensions[get_column_letter(i)].width = width


def fit_rows(ws, first_row: int = 2) -> None:
    """Row heights for wrapped text: spreadsheet programs do not grow rows for text written by
    a library, so long cells would spill over each other."""
    per_line = {column_index_from_string(letter): max(1, int((dim.width or 10) * 1.15))
                for letter, dim in ws.column_dimensions.items()}
    default = max(1, int(10 * 1.15))
    for row in ws.iter_rows(min_row=first_row):
        lines = 1
        for cell in row:
            value = cell.value
            if not isinstance(value, str):
                continue
            width = per_line.get(cell.column, default)
            if len(value) <= width and "\n" not in value:
                continue  # one line at most, wrapped or not: asking openpyxl its style costs
            if cell.alignment is not None and cell.alignment.wrap_text:
                lines = max(lines, sum(math.ceil(max(1, len(part)) / width)
                                       for part in value.split("\n")))
        if lines > 1:
            ws.row_dimensions[row[0].row].height = min(409, 15 * lines)


def _number(value):
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def workbook(report: PlanReport) -> openpyxl.Workbook:
    """The action plan workbook, sheets in SHEETS order."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    wb.properties.title = f"Customer-centricity action plan: {report.client}"
    wb.properties.identifier = report.reference
    _clean_properties(wb)
    _summary(wb.create_sheet("Summary"), report)
    _scores(wb.create_sheet("Scores"), report)
    _plan(wb.create_sheet("Action plan"), report)
    _tradeoffs(wb.create_sheet("Trade-offs"), report)
    _responses(wb.create_sheet("Responses"), report)
    _method(wb.create_sheet("Method"), report)
    for ws in wb.worksheets:
        # Printed (or turned into PDF) one page wide, landscape: how programme offices read it.
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.print_options.gridLines = False
    wb["Action plan"].print_title_rows = "1:1"
    return wb


def _clean_properties(wb: openpyxl.Workbook) -> None:
    """The document properties are XML too: what a cell cannot hold, they cannot either."""
    for name in PROPERTIES:
        value = getattr(wb.properties, name, None)
        if isinstance(value, str):
            setattr(wb.properties, name, safe(value))


def workbook_bytes(report: PlanReport) -> bytes:
    buffer = io.BytesIO()
    workbook(report).save(buffer)
    return buffer.getvalue()


def save_workbook(report: PlanReport, path: Path | str) -> None:
    """Write the whole file or nothing: the workbook is written beside the target, read back
    (every sheet, openpyxl read-only) and only then moved into place; WorkbookError if it
    cannot be read back, and no file is left behind."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        workbook(report).save(tmp)
        verify_workbook(tmp, str(path))
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def verify_workbook(path: Path | str, shown: str | None = None) -> None:
    """Open a written workbook again and read every row of every sheet; WorkbookError if not."""
    try:
        with open(path, "rb") as f:  # a file object: openpyxl would judge a path by its suffix
            wb = openpyxl.load_workbook(f, read_only=True, data_only=True)
            try:
                for ws in wb.worksheets:
                    for _ in ws.iter_rows(values_only=True):
                        pass
            finally:
                wb.close()
    except Exception as e:  # any kind: the file is not a workbook Excel or openpyxl can open
        raise WorkbookError(f"{shown or path}: the workbook written cannot be opened again "
                            f"({type(e).__name__}: {e}); nothing was written") from e


def _summary(ws, report: PlanReport) -> None:
    put(ws, 1, 1, "Customer-centricity maturity: action plan").font = TITLE_FONT
    facts = [("Client", report.client), ("Assessment", report.title),
             ("Date", report.made), ("Participants", report.participants),
             ("Benchmark", report.benchmark_line or "none chosen"),
             ("Reference", report.reference)]
    for i, (name, value) in enumerate(facts, start=3):
        put(ws, i, 1, name).font = Font(bold=True)
        put(ws, i, 2, value, "yyyy-mm-dd" if isinstance(value, date) else None).alignment = WRAP
    top = len(facts) + 4
    names = ["Questionnaire", "Dimension", "Score", "Level", "Benchmark median",
             "Benchmark percentile"]
    header(ws, top, names, [22, 46, 10, 18, 18, 20])
    # Dimension rows first and the overall rows after them, so the chart covers one block.
    rows = pd.concat([report.scores[report.scores["dimension"] != "overall"],
                      report.scores[report.scores["dimension"] == "overall"]])
    chart_rows = []
    for r, row in enumerate(rows.itertuples(), start=top + 1):
        put(ws, r, 1, row.questionnaire)
        put(ws, r, 2, row.name)
        put(ws, r, 3, _number(row.score), "0.00")
        put(ws, r, 4, row.level)
        put(ws, r, 5, _number(getattr(row, "benchmark_median", None)), "0.0")
        put(ws, r, 6, _number(getattr(row, "benchmark_percentile", None)), "0")
        if row.dimension != "overall":
            chart_rows.append(r)
    if chart_rows:
        # A native chart over the dimension rows (they are contiguous per questionnaire; the
        # chart spans the whole block, overall rows included, labelled as such).
        chart = BarChart()
        chart.type = "bar"
        chart.title = "Score by dimension"
        chart.y_axis.title = "Score"
        chart.y_axis.scaling.min = 1
        chart.y_axis.scaling.max = 5
        chart.legend = None
        first, last = top + 1, chart_rows[-1]
        chart.add_data(Reference(ws, min_col=3, min_row=top, max_row=last), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=2, min_row=first, max_row=last))
        chart.y_axis.majorUnit = 0.5
        chart.x_axis.scaling.orientation = "maxMin"  # first dimension at the top, as in the table
        chart.height, chart.width = max(8, 0.9 * len(chart_rows)), 20
        ws.add_chart(chart, f"A{top + len(rows) + 2}")


def _scores(ws, report: PlanReport) -> None:
    names = ["Questionnaire", "Dimension", "Score", "Level", "Target", "Gap", "SD", "Agreement",
             "Coverage", "Percentile", "Respondents"]
    header(ws, 1, names, [18, 36, 9, 18, 9, 9, 9, 11, 11, 11, 12])
    targets = {g.dimension: g for g in report.gaps}
    for r, row in enumerate(report.scores.itertuples(), start=2):
        gap = targets.get(row.dimension)
        put(ws, r, 1, row.questionnaire)
        put(ws, r, 2, row.name)
        put(ws, r, 3, _number(row.score), "0.00")
        put(ws, r, 4, row.level)
        put(ws, r, 5, gap.target if gap else None, "0.00")
        put(ws, r, 6, gap.gap if gap else None, "0.00")
        put(ws, r, 7, _number(row.sd), "0.00")
        put(ws, r, 8, _number(row.agreement), "0.00")
        put(ws, r, 9, _number(row.coverage), "0%")
        put(ws, r, 10, _number(getattr(row, "benchmark_percentile", None)), "0")
        put(ws, r, 11, int(row.respondents))
    ws.freeze_panes = "A2"


def _plan(ws, report: PlanReport) -> None:
    header(ws, 1, PLAN_COLUMNS, [9, 24, 40, 70, 8, 8, 14, 22, 12, 14, 50])
    plan = report.plan
    numbers: dict[int, int] = {}
    for r, row in enumerate(plan.itertuples(), start=2):
        values = [row.priority, row.dimension, row.action, row.why, row.effort, row.impact,
                  row.phase, row.owner, row.due, row.status, row.measure]
        for c, value in enumerate(values, start=1):
            cell = put(ws, r, c, value, "yyyy-mm-dd" if c == 9 else None)
            align(cell, WRAP if c in (2, 3, 4, 8, 11) else TOP, numbers)
    last = max(2, len(plan) + 1)
    fit_rows(ws)
    ws.freeze_panes = "A2"
    table = Table(displayName="ActionPlan", ref=f"A1:K{last}")
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    ws.add_table(table)
    status = DataValidation(type="list", formula1='"' + ",".join(STATUSES) + '"',
                            allow_blank=True, showErrorMessage=True,
                            errorTitle="Status", error="Choose one of: " + ", ".join(STATUSES))
    ws.add_data_validation(status)
    status.add(f"J2:J{max(last, 500)}")
    due = DataValidation(type="date", operator="greaterThan", formula1="36526",
                         allow_blank=True, showErrorMessage=True, errorTitle="Due",
                         error="Enter a date")
    ws.add_data_validation(due)
    due.add(f"I2:I{max(last, 500)}")
    rows = f"A2:K{max(last, 500)}"
    ws.conditional_formatting.add(rows, FormulaRule(
        formula=['AND($I2<>"",$I2<TODAY(),$J2<>"Done",$J2<>"Dropped")'],
        fill=PatternFill("solid", fgColor="F8D7DA"), font=Font(color="9C0006")))
    ws.conditional_formatting.add(rows, FormulaRule(
        formula=['$J2="Done"'], fill=PatternFill("solid", fgColor="D4EDDA")))


def _tradeoffs(ws, report: PlanReport) -> None:
    put(ws, 1, 1, "Where the team would put effort and money (mean points)").font = TITLE_FONT
    header(ws, 2, ["Priority", "Mean points", "Respondents"], [60, 14, 14])
    r = 3
    for row in report.allocations.itertuples():
        put(ws, r, 1, row.label)
        put(ws, r, 2, float(row.mean_points), "0.0")
        put(ws, r, 3, int(row.respondents))
        r += 1
    if report.allocations.empty:
        put(ws, r, 1, "No allocation answers.")
        r += 1
    r += 1
    put(ws, r, 1, "What we will stop doing or give up (the team's own words)").font = TITLE_FONT
    r += 1
    for text in report.stop_doing or ["No answers."]:
        put(ws, r, 1, text).alignment = WRAP
        r += 1


def _responses(ws, report: PlanReport) -> None:
    names = ["Respondent", "Role", "Questionnaire", "Question", "Question text", "Option",
             "Answer", "Comment"]
    header(ws, 1, names, [12, 12, 16, 10, 60, 22, 30, 40])
    frame = report.responses
    # Plain Python values column by column: iterating rows of Arrow-backed text columns costs
    # more than writing the cells.
    rows = zip(*(frame[name].to_numpy(dtype=object) for name in frame.columns), strict=True)
    numbers: dict[int, int] = {}
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            align(put(ws, r, c, value), WRAP if c in (5, 7, 8) else TOP, numbers)
    fit_rows(ws)
    ws.freeze_panes = "A2"


def _method(ws, report: PlanReport) -> None:
    header(ws, 1, ["Topic", "How it is computed"], [28, 120])
    rows = [("Reference", report.reference), *report.method]
    for r, (topic, text) in enumerate(rows, start=2):
        put(ws, r, 1, topic).font = Font(bold=True)
        put(ws, r, 2, text).alignment = WRAP
    fit_rows(ws)


# ---------------------------------------------------------------- reading an edited plan back

@dataclass(frozen=True)
class Change:
    action: str
    column: str
    old: object
    new: object


def read_plan(data: bytes | Path | str, reference: str, name: str | None = None,
              limits: Limits = UPLOAD) -> pd.DataFrame:
    """The Action plan sheet of an uploaded workbook: Action, Owner, Due, Status per row.

    The file is measured first (assessment.uploads) and refused before openpyxl reads it when
    it passes a limit; then it is read in read-only mode. Refuses a workbook made for another
    workshop, or one whose edited cells cannot be read. `name` (the uploaded file's name) is
    shown in messages about the file.
    """
    try:
        check_xlsx(data, name, limits)
    except UploadError as e:
        raise WorkbookError(f"{e.message} ({name})" if name else e.message) from e
    try:
        source = io.BytesIO(data) if isinstance(data, bytes) else data
        wb = openpyxl.load_workbook(source, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many kinds on a file that is not a workbook
        raise WorkbookError(f"this is not an Excel workbook ({type(e).__name__})") from None
    try:
        return _read_plan(wb, reference, limits)
    except WorkbookError:
        raise
    except Exception as e:  # a sheet openpyxl cannot parse: say so, never a traceback
        raise WorkbookError(f"this workbook cannot be read ({type(e).__name__})") from None
    finally:
        wb.close()


def _rows(ws, limits: Limits, min_row: int = 1, max_row: int | None = None, width: int = 0):
    """Rows of a read-only sheet, each exactly `width` (or the column limit) values wide."""
    ws.reset_dimensions()  # never trust the stated size: read what is there (checked before)
    width = width or limits.columns
    for number, cells in enumerate(ws.iter_rows(min_row=min_row, max_row=max_row,
                                                max_col=width, values_only=True),
                                   start=min_row):
        if number > limits.rows:
            raise WorkbookError(f"the sheet {ws.title!r} has more than {limits.rows:,} rows; "
                                f"the limit is {limits.rows:,}")
        yield number, tuple(cells) + (None,) * (width - len(cells))


def _read_plan(wb, reference: str, limits: Limits) -> pd.DataFrame:
    found = wb.properties.identifier or _method_reference(wb, limits)
    expected = safe(reference)  # the workbook holds the reference as written, cleaned
    if found != expected:
        raise WorkbookError(f"this workbook belongs to another plan ({found or 'no reference'}); "
                            f"this one is {expected}")
    if "Action plan" not in wb.sheetnames:
        raise WorkbookError("the workbook has no 'Action plan' sheet")
    ws = wb["Action plan"]
    first = next(_rows(ws, limits, max_row=1), (1, ()))[1]
    head = [str(c if c is not None else "").strip() for c in first]
    missing = [c for c in ("Action", *EDITABLE) if c not in head]
    if missing:
        raise WorkbookError(f"the Action plan sheet is missing column(s): {', '.join(missing)}")
    index = {name: head.index(name) for name in ("Action", *EDITABLE)}
    rows, problems = [], []
    for number, cells in _rows(ws, limits, min_row=2, width=max(index.values()) + 1):
        action = cells[index["Action"]]
        if action is None or str(action).strip() == "":
            continue
        owner = cells[index["Owner"]]
        due = cells[index["Due"]]
        status = cells[index["Status"]]
        if isinstance(due, datetime):
            due = due.date()
        elif due not in (None, ""):
            try:
                due = date.fromisoformat(str(due).strip()[:10])
            except ValueError:
                problems.append(f"row {number}, column Due: {due!r} is not a date")
                continue
        else:
            due = None
        status = str(status or "").strip()
        if status not in STATUSES:
            problems.append(f"row {number}, column Status: {status!r} is not one of "
                            f"{', '.join(STATUSES)}")
            continue
        rows.append({"action": str(action).strip(), "owner": str(owner or "").strip(),
                     "due": due, "status": status})
    if problems:
        raise WorkbookError("; ".join(problems[:10]))
    return pd.DataFrame(rows, columns=["action", "owner", "due", "status"])


def _method_reference(wb, limits: Limits) -> str:
    if "Method" not in wb.sheetnames:
        return ""
    for _, (topic, text) in _rows(wb["Method"], limits, min_row=2, width=2):
        if topic == "Reference":
            return str(text or "")
    return ""


def plan_changes(current: pd.DataFrame, uploaded: pd.DataFrame) -> list[Change]:
    """Edits to owner, due date and status, matched on the action title."""
    now = current.set_index("action")
    changes = []
    for row in uploaded.itertuples():
        if row.action not in now.index:
            continue  # a row the team added by hand: not part of this plan
        before = now.loc[row.action]
        for column, new in (("owner", row.owner), ("due", row.due), ("status", row.status)):
            old = before[column]
            old = old.date() if isinstance(old, pd.Timestamp) else old
            if (old or None) != (new or None):
                changes.append(Change(row.action, column, old, new))
    return changes
