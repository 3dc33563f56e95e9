"""The Excel action plan (openpyxl), and reading an edited one back."""

from __future__ import annotations

import io
import math
import os
import re
import unicodedata
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

from .perception import perception_sheet
from .planning import STATUSES, DimensionGap, score_text
from .uploads import UPLOAD, Limits, UploadError, check_xlsx

SHEETS = ("Summary", "Scores", "Action plan", "Discussion", "Trade-offs", "Responses", "Method")
# What a reader needs first (Action, Owner, Due, Status, Notes) before the background.
PLAN_COLUMNS = ("#", "Tier", "Action", "Owner", "Due", "Status", "Notes", "Why", "Dimension",
                "Effort", "Impact", "Phase", "Measure of success", "Details")
PLAN_WIDTHS = (5, 10, 40, 20, 12, 13, 36, 60, 24, 8, 8, 14, 44, 110)
EDITABLE = ("Owner", "Due", "Status", "Notes")
REQUIRED = ("Owner", "Due", "Status")  # Notes may be missing in a workbook from before it
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters a workbook cannot hold (XML 1.0 control characters, U+FFFE, U+FFFF, and lone
# surrogates such as undecodable bytes in a command-line argument): removed, never a crash.
ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
MAX_CELL_TEXT = 32_767  # what one Excel cell holds
BOLD_SHARE = 0.85  # of a column's characters that fit on a line in bold
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
    """Everything the workbook (and the PDF) shows; assessment.report.build_report makes it.

    `decisions` are assessment.model.Decision objects (`.text`, `.owner`): what the team will
    stop doing, as the facilitator recorded it. `stop_doing_inputs` are participants' raw
    answers: inputs, never to be shown as decisions."""

    reference: str
    client: str
    title: str
    made: date
    participants: int
    scores: pd.DataFrame          # questionnaire (id), title (questionnaire's), dimension, name,
                                  # score (the one the plan uses: agreed where recorded, else
                                  # computed), computed_score, agreed_score (NaN: none),
                                  # rationale ("" : none), level, sd, agreement, coverage,
                                  # respondents (+ benchmark_percentile, _median when chosen)
    gaps: list[DimensionGap]
    plan: pd.DataFrame            # planning.plan_frame, edits applied: tier (Priority, Backlog,
                                  # Dropped), why (one sentence), details (the numbers), ...
    allocations: pd.DataFrame     # label, mean_points, respondents; most points first
    responses: pd.DataFrame       # respondent, role, questionnaire, question, text, option,
                                  # answer, answer_text, comment
    benchmark_line: str = ""
    method: list[tuple[str, str]] = field(default_factory=list)
    decisions: list = field(default_factory=list)             # model.Decision
    agenda: pd.DataFrame | None = None      # report.discussion_agenda
    notes: pd.DataFrame | None = None       # report.discussion_notes
    say_do: pd.DataFrame | None = None      # report.say_do
    rankings: pd.DataFrame | None = None    # report.ranking_results
    stop_doing_inputs: list[str] = field(default_factory=list)

    @property
    def benchmark_chosen(self) -> bool:
        return bool(self.benchmark_line) or "benchmark_percentile" in self.scores.columns

    @property
    def priorities(self) -> pd.DataFrame:
        """The plan's priorities (the short list), in order."""
        return self.plan[self.plan["tier"] == "Priority"] if "tier" in self.plan else self.plan


NO_BENCHMARK = ("No benchmark was chosen: targets are one level up (or the team's own), and no "
                "comparison with other organisations is shown.")


def deliverable_name(client: str, made: date, kind: str = "action-plan", suffix: str = "xlsx"
                     ) -> str:
    """`<client>-<yyyy-mm-dd>-<kind>.<suffix>` in safe characters only (ASCII letters, digits
    and single hyphens; accents dropped, anything else a hyphen), the client cut to 60."""
    text = unicodedata.normalize("NFKD", str(client or "")).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:60].strip("-") or "client"
    return f"{slug}-{made:%Y-%m-%d}-{kind}.{suffix}"


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
            if len(value) <= width * BOLD_SHARE and "\n" not in value:
                continue  # one line at most, wrapped or not: asking openpyxl its style costs
            if cell.font is not None and cell.font.b:
                width = max(1, int(width * BOLD_SHARE))  # bold letters are wider
            elif len(value) <= width and "\n" not in value:
                continue
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
    _discussion(wb.create_sheet("Discussion"), report)
    _tradeoffs(wb.create_sheet("Trade-offs"), report)
    _responses(wb.create_sheet("Responses"), report)
    perception_sheet(wb, report)  # the perception gap by role, when a group can be compared
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


def _title(ws, row: int, text: str):
    cell = put(ws, row, 1, text)
    cell.font = TITLE_FONT
    return cell


def _has_agreed(report: PlanReport) -> bool:
    return "agreed_score" in report.scores and bool(report.scores["agreed_score"].notna().any())


def _basis(row) -> str:
    """'agreed 2.6; computed 3.24', or 'computed' where no score was agreed."""
    agreed = getattr(row, "agreed_score", None)
    if agreed is None or pd.isna(agreed):
        return "computed"
    return score_text(row.score, getattr(row, "computed_score", row.score), agreed)


def _summary(ws, report: PlanReport) -> None:
    _title(ws, 1, "Customer-centricity maturity: action plan")
    facts = [("Client", report.client), ("Assessment", report.title),
             ("Date", report.made), ("Participants", report.participants),
             ("Benchmark", report.benchmark_line or NO_BENCHMARK),
             ("Reference", report.reference)]
    for i, (name, value) in enumerate(facts, start=3):
        label = put(ws, i, 1, name)
        label.font, label.alignment = Font(bold=True), TOP
        put(ws, i, 2, value, "yyyy-mm-dd" if isinstance(value, date) else None).alignment = WRAP
    r = len(facts) + 4
    _title(ws, r, "Priorities for the first 90 days")
    header(ws, r + 1, ["Owner", "Action", "Due"])
    r += 2
    for row in report.priorities.itertuples():
        put(ws, r, 1, row.owner).alignment = WRAP
        put(ws, r, 2, row.action).alignment = WRAP
        put(ws, r, 3, row.due, "yyyy-mm-dd").alignment = TOP
        r += 1
    if report.priorities.empty:
        put(ws, r, 1, "No actions: every dimension has reached its target.")
        r += 1
    r += 1
    _title(ws, r, "What we will stop doing")
    header(ws, r + 1, ["Owner", "Decision"])
    r += 2
    for decision in report.decisions:
        put(ws, r, 1, decision.owner).alignment = WRAP
        put(ws, r, 2, decision.text).alignment = WRAP
        r += 1
    if not report.decisions:
        put(ws, r, 1, "No decision recorded.")
        r += 1
    top = r + 1
    benchmark = report.benchmark_chosen
    names = ["Questionnaire", "Dimension", "Score", "Level", "Score basis"]
    if benchmark:
        names += ["Benchmark median", "Benchmark percentile"]
    header(ws, top, names, [24, 46, 12, 18, 28, 18, 20])
    # Dimension rows first and the overall rows after them, so the chart covers one block.
    rows = pd.concat([report.scores[report.scores["dimension"] != "overall"],
                      report.scores[report.scores["dimension"] == "overall"]])
    chart_rows = []
    for r, row in enumerate(rows.itertuples(), start=top + 1):
        put(ws, r, 1, getattr(row, "title", row.questionnaire)).alignment = WRAP
        put(ws, r, 2, row.name).alignment = WRAP
        put(ws, r, 3, _number(row.score), "0.00").alignment = TOP
        put(ws, r, 4, row.level).alignment = TOP
        put(ws, r, 5, _basis(row)).alignment = TOP
        if benchmark:
            put(ws, r, 6, _number(getattr(row, "benchmark_median", None)), "0.0").alignment = TOP
            put(ws, r, 7, _number(getattr(row, "benchmark_percentile", None)), "0").alignment = TOP
        if row.dimension != "overall":
            chart_rows.append(r)
    fit_rows(ws, 1)
    if chart_rows:
        # A native chart over the dimension rows (they are contiguous per questionnaire; the
        # chart spans the whole block, overall rows included, labelled as such).
        chart = BarChart()
        chart.type = "bar"
        chart.title = "Score by dimension (agreed where recorded)" if _has_agreed(report) \
            else "Score by dimension"
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
    benchmark = report.benchmark_chosen
    names = ["Questionnaire", "Dimension", "Score", "Score basis", "Computed", "Agreed",
             "Rationale", "Level", "Target", "Gap", "SD", "Agreement", "Coverage", "Respondents"]
    widths = [20, 30, 8, 26, 10, 8, 40, 14, 8, 8, 8, 11, 10, 12]
    if benchmark:
        names += ["Percentile", "Benchmark median"]
        widths += [11, 11]
    header(ws, 1, names, widths)
    targets = {(g.questionnaire, g.dimension): g for g in report.gaps}
    numbers: dict[int, int] = {}
    for r, row in enumerate(report.scores.itertuples(), start=2):
        gap = targets.get((row.questionnaire, row.dimension))
        values = [
            (getattr(row, "title", row.questionnaire), None), (row.name, None),
            (_number(row.score), "0.00"), (_basis(row), None),
            (_number(getattr(row, "computed_score", row.score)), "0.00"),
            (_number(getattr(row, "agreed_score", None)), "0.0#"),
            (getattr(row, "rationale", "") or None, None), (row.level, None),
            (gap.target if gap else None, "0.00"), (gap.gap if gap else None, "0.00"),
            (_number(row.sd), "0.00"), (_number(row.agreement), "0.00"),
            (_number(row.coverage), "0%"), (int(row.respondents), None)]
        if benchmark:
            values += [(_number(getattr(row, "benchmark_percentile", None)), "0"),
                       (_number(getattr(row, "benchmark_median", None)), "0.0")]
        for c, (value, fmt) in enumerate(values, start=1):
            align(put(ws, r, c, value, fmt), WRAP if c in (1, 2, 4, 7) else TOP, numbers)
    if not benchmark:
        put(ws, len(report.scores) + 3, 1, NO_BENCHMARK)
    fit_rows(ws)
    ws.freeze_panes = "A2"


def _plan(ws, report: PlanReport) -> None:
    header(ws, 1, PLAN_COLUMNS, PLAN_WIDTHS)
    plan = report.plan
    numbers: dict[int, int] = {}
    wrapped = {PLAN_COLUMNS.index(c) + 1 for c in ("Action", "Owner", "Notes", "Why",
                                                    "Dimension", "Measure of success",
                                                    "Details")}
    due_column = PLAN_COLUMNS.index("Due") + 1
    for r, row in enumerate(plan.itertuples(), start=2):
        values = [row.priority, getattr(row, "tier", ""), row.action, row.owner, row.due,
                  row.status, getattr(row, "notes", ""), row.why, row.dimension, row.effort,
                  row.impact, row.phase, row.measure, getattr(row, "details", "")]
        for c, value in enumerate(values, start=1):
            cell = put(ws, r, c, value, "yyyy-mm-dd" if c == due_column else None)
            align(cell, WRAP if c in wrapped else TOP, numbers)
    last = max(2, len(plan) + 1)
    end = get_column_letter(len(PLAN_COLUMNS))
    fit_rows(ws)
    ws.freeze_panes = "D2"
    # Printed: what a reader acts on (up to Dimension); effort, measures and the numbers
    # behind each Why stay in the file.
    ws.print_area = f"A1:{get_column_letter(PLAN_COLUMNS.index('Dimension') + 1)}{last}"
    table = Table(displayName="ActionPlan", ref=f"A1:{end}{last}")
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    ws.add_table(table)
    d, st = get_column_letter(due_column), get_column_letter(PLAN_COLUMNS.index("Status") + 1)
    status = DataValidation(type="list", formula1='"' + ",".join(STATUSES) + '"',
                            allow_blank=True, showErrorMessage=True,
                            errorTitle="Status", error="Choose one of: " + ", ".join(STATUSES))
    ws.add_data_validation(status)
    status.add(f"{st}2:{st}{max(last, 500)}")
    due = DataValidation(type="date", operator="greaterThan", formula1="36526",
                         allow_blank=True, showErrorMessage=True, errorTitle="Due",
                         error="Enter a date")
    ws.add_data_validation(due)
    due.add(f"{d}2:{d}{max(last, 500)}")
    rows = f"A2:{end}{max(last, 500)}"
    ws.conditional_formatting.add(rows, FormulaRule(
        formula=[f'AND(${d}2<>"",${d}2<TODAY(),${st}2<>"Done",${st}2<>"Dropped")'],
        fill=PatternFill("solid", fgColor="F8D7DA"), font=Font(color="9C0006")))
    ws.conditional_formatting.add(rows, FormulaRule(
        formula=[f'${st}2="Done"'], fill=PatternFill("solid", fgColor="D4EDDA")))


def _empty(frame: pd.DataFrame | None) -> bool:
    return frame is None or frame.empty


def _discussion(ws, report: PlanReport) -> None:
    """Agreed scores with their rationale, the disagreement agenda and the discussion notes."""
    for letter, width in zip("ABCDEFGHI", (24, 28, 60, 10, 10, 10, 10, 10, 26), strict=True):
        ws.column_dimensions[letter].width = width
    _title(ws, 1, "Agreed scores: what the team decided after discussion")
    header(ws, 2, ["Questionnaire", "Dimension", "Rationale", "Agreed", "Computed"])
    r = 3
    agreed = report.scores[report.scores["agreed_score"].notna()] if _has_agreed(report) \
        else report.scores.iloc[0:0]
    for row in agreed.itertuples():
        put(ws, r, 1, getattr(row, "title", row.questionnaire)).alignment = WRAP
        put(ws, r, 2, row.name).alignment = WRAP
        put(ws, r, 3, row.rationale).alignment = WRAP
        put(ws, r, 4, _number(row.agreed_score), "0.0#").alignment = TOP
        put(ws, r, 5, _number(row.computed_score), "0.00").alignment = TOP
        r += 1
    if agreed.empty:
        put(ws, r, 1, "No agreed score was recorded: the computed scores are used.")
        r += 1
    r += 1
    _title(ws, r, "Discussion agenda: the questions where the team disagreed most")
    header(ws, r + 1, ["Questionnaire", "Dimension", "Question", "Answers", "Mean", "SD",
                       "Lowest", "Highest", "Answers per point"])
    r += 2
    for row in ([] if _empty(report.agenda) else report.agenda.itertuples()):
        values = [(row.questionnaire, None), (row.dimension, None), (row.text, None),
                  (int(row.answers), None), (_number(row.mean), "0.0"), (_number(row.sd), "0.00"),
                  (_number(row.low), "0"), (_number(row.high), "0"), (row.distribution, None)]
        for c, (value, fmt) in enumerate(values, start=1):
            put(ws, r, c, value, fmt).alignment = WRAP if c in (1, 2, 3, 9) else TOP
        r += 1
    if _empty(report.agenda):
        put(ws, r, 1, "No question has two answers yet.")
        r += 1
    r += 1
    _title(ws, r, "Discussion notes")
    header(ws, r + 1, ["Questionnaire", "Written", "Note"])
    r += 2
    for row in ([] if _empty(report.notes) else report.notes.itertuples()):
        put(ws, r, 1, row.questionnaire).alignment = WRAP
        put(ws, r, 2, safe(row.created_at), "yyyy-mm-dd hh:mm").alignment = TOP
        put(ws, r, 3, row.text).alignment = WRAP
        r += 1
    if _empty(report.notes):
        put(ws, r, 1, "No notes were taken.")
    fit_rows(ws, 1)


def _tradeoffs(ws, report: PlanReport) -> None:
    for letter, width in zip("ABCD", (64, 14, 14, 14), strict=True):
        ws.column_dimensions[letter].width = width
    _title(ws, 1, "Where the team would put effort and money (mean points, most first)")
    header(ws, 2, ["Priority", "Mean points", "Respondents"])
    r = 3
    for row in report.allocations.itertuples():
        put(ws, r, 1, row.label).alignment = WRAP
        put(ws, r, 2, float(row.mean_points), "0.0")
        put(ws, r, 3, int(row.respondents))
        r += 1
    if report.allocations.empty:
        put(ws, r, 1, "No allocation answers.")
        r += 1
    r += 1
    _title(ws, r, "Ranking results (mean rank, 1 = most vital)")
    r += 1
    rankings = report.rankings
    for question, group in ([] if _empty(rankings) else rankings.groupby("question", sort=False)):
        put(ws, r, 1, question).font = Font(bold=True)
        ws.cell(row=r, column=1).alignment = WRAP
        header(ws, r + 1, ["Priority", "Mean rank", "Ranked by", "Answered"])
        r += 2
        for row in group.sort_values("mean_rank", na_position="last", kind="stable").itertuples():
            put(ws, r, 1, row.label).alignment = WRAP
            put(ws, r, 2, _number(row.mean_rank), "0.0")
            put(ws, r, 3, int(row.ranked))
            put(ws, r, 4, int(row.respondents))
            r += 1
    if _empty(rankings):
        put(ws, r, 1, "No ranking answers.")
        r += 1
    r += 1
    _title(ws, r, "Say–do gap: ranked vital, yet given few points")
    header(ws, r + 1, ["Priority", "Mean rank", "Mean points", "Even share"])
    r += 2
    for row in ([] if _empty(report.say_do) else report.say_do.itertuples()):
        put(ws, r, 1, row.label).alignment = WRAP
        put(ws, r, 2, _number(row.mean_rank), "0.0")
        put(ws, r, 3, _number(row.mean_points), "0.0")
        put(ws, r, 4, _number(row.even_share), "0.0")
        r += 1
    if _empty(report.say_do):
        put(ws, r, 1, "None: what the team ranks vital also gets its share of the points.")
        r += 1
    r += 1
    _title(ws, r, "What we will stop doing or give up (the team's decisions)")
    header(ws, r + 1, ["Decision", "Owner"])
    r += 2
    for decision in report.decisions:
        put(ws, r, 1, decision.text).alignment = WRAP
        put(ws, r, 2, decision.owner).alignment = WRAP
        r += 1
    if not report.decisions:
        put(ws, r, 1, "No decision recorded. Participants' own answers are in Responses.")
    fit_rows(ws, 1)


def _responses(ws, report: PlanReport) -> None:
    names = ["Respondent", "Role", "Questionnaire", "Question", "Question text", "Option",
             "Answer", "Answer text", "Comment"]
    header(ws, 1, names, [12, 12, 22, 12, 60, 24, 12, 30, 40])
    frame = report.responses
    columns = ["respondent", "role", "questionnaire_title", "question", "text", "option",
               "answer", "answer_text", "comment"]
    if "questionnaire_title" not in frame:
        frame = frame.assign(questionnaire_title=frame.get("questionnaire", ""))
    frame = frame.reindex(columns=columns, fill_value="")
    # Plain Python values column by column: iterating rows of Arrow-backed text columns costs
    # more than writing the cells.
    rows = zip(*(frame[name].to_numpy(dtype=object) for name in columns), strict=True)
    numbers: dict[int, int] = {}
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            align(put(ws, r, c, value), WRAP if c in (3, 5, 6, 8, 9) else TOP, numbers)
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
    missing = [c for c in ("Action", *REQUIRED) if c not in head]
    if missing:
        raise WorkbookError(f"the Action plan sheet is missing column(s): {', '.join(missing)}")
    index = {name: head.index(name) for name in ("Action", *EDITABLE) if name in head}
    rows, problems = [], []
    for number, cells in _rows(ws, limits, min_row=2, width=max(index.values()) + 1):
        action = cells[index["Action"]]
        if action is None or str(action).strip() == "":
            continue
        owner = cells[index["Owner"]]
        due = cells[index["Due"]]
        status = cells[index["Status"]]
        notes = cells[index["Notes"]] if "Notes" in index else None
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
                     "due": due, "status": status,
                     # None: the workbook has no Notes column (made before it had one)
                     "notes": None if "Notes" not in index else str(notes or "").strip()})
    if problems:
        raise WorkbookError("; ".join(problems[:10]))
    return pd.DataFrame(rows, columns=["action", "owner", "due", "status", "notes"])


def _method_reference(wb, limits: Limits) -> str:
    if "Method" not in wb.sheetnames:
        return ""
    for _, (topic, text) in _rows(wb["Method"], limits, min_row=2, width=2):
        if topic == "Reference":
            return str(text or "")
    return ""


CHANGE_COLUMNS = ("owner", "due", "status", "notes")


def _plain(value):
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return value.date()
    return value


def plan_changes(current: pd.DataFrame, uploaded: pd.DataFrame) -> list[Change]:
    """Edits to owner, due date, status and notes, matched on the action title.

    A blank owner or due date in the workbook keeps the plan's (the plan always has one, so a
    blank is never saved over it); a blank note clears the note; a workbook without a Notes
    column says nothing about notes."""
    now = current.set_index("action")
    changes = []
    for row in uploaded.itertuples():
        if row.action not in now.index:
            continue  # a row the team added by hand: not part of this plan
        before = now.loc[row.action]
        for column in CHANGE_COLUMNS:
            new = _plain(getattr(row, column, None))
            if column in ("owner", "due") and new in (None, ""):
                continue
            if column == "notes" and new is None:
                continue
            old = _plain(before.get(column))
            if (old or None) != (new or None):
                changes.append(Change(row.action, column, old, new))
    return changes


def change_rows(current: pd.DataFrame, changes: list[Change]) -> list[dict]:
    """The changes as Store.save_plan_edits rows: each changed action once, with its other
    values as the plan has them."""
    plan = current.set_index("action")
    merged: dict[str, dict] = {}
    for c in changes:
        row = merged.setdefault(c.action, {"action_id": plan.loc[c.action, "action_id"], **{
            column: _plain(plan.loc[c.action, column]) for column in CHANGE_COLUMNS}})
        row[c.column] = c.new
    return list(merged.values())


def describe_changes(changes: list[Change], verb: str = "Saved") -> str:
    """'Saved 2 change(s): 'Fix the top complaint': owner Dana; ...': what a save changed, in
    the order given (the same list the page shows before it is applied)."""
    if not changes:
        return "Nothing changed."

    def shown(value) -> str:
        if value in (None, ""):
            return "(blank)"
        text = value.isoformat() if isinstance(value, date) else str(value)
        return text if len(text) <= 60 else text[:59] + "…"

    parts = [f"'{c.action}': {c.column} {shown(c.new)}" for c in changes]
    return f"{verb} {len(changes)} change(s): " + "; ".join(parts) + "."
