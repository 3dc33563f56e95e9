"""The PDF report a consultant sends the CEO after the workshop: one to three A4 pages.

Client, date and participants; each dimension's score against the maturity levels (and the
benchmark when one was chosen) as a chart; the scores the team agreed, with their rationale and
the computed score beside; the priorities with owners and due dates; the backlog in one
paragraph; and the team's stop-doing decisions.

Made with fpdf2 (the PDF) and vl-convert (the chart, from the same kind of Altair spec as the
app's charts, rendered to PNG without a browser). The text font is DejaVu Sans, shipped in
assessment/fonts (Bitstream Vera licence, see LICENSE-DejaVu.txt), so that any Latin, Greek,
Cyrillic, Hebrew or Arabic text and many symbols print the same on every machine; right-to-left
text is laid out by HarfBuzz (uharfbuzz). A character the font lacks (CJK ideographs, for
instance) is printed as U+FFFD, never dropped silently and never a crash. User text is plain
text: nothing in it is read as markup.
"""

from __future__ import annotations

import io
import math
import os
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path

import pandas as pd
from fpdf import FPDF
from fpdf.enums import TableBordersLayout, TableCellFillMode, XPos, YPos
from fpdf.fonts import FontFace

from .export import PlanReport
from .model import Questionnaire

FONT_DIR = Path(__file__).with_name("fonts")
FONT = "DejaVu"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
FONT_CSS_NAME = "DejaVu Sans"  # the family name vl-convert finds in FONT_DIR
MAX_PAGES = 3
MISSING = "\ufffd"
BLUE = (31, 78, 121)
GREY = (90, 98, 110)
INK = (30, 36, 44)
STRIPE = (242, 245, 249)
PAGE_WIDTH = 180  # mm between the margins of an A4 page
# Control and format characters (bidi overrides included: they would reorder what is printed),
# surrogates and private use; kept: zero-width joiner, which holds emoji sequences together.
DROPPED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}
SPACES = re.compile(r"\s+")


class PdfError(Exception):
    """A report that cannot be written as PDF; the message says why, `path` where."""

    def __init__(self, message: str, path: str = ""):
        super().__init__(message)
        self.path = path


@dataclass(frozen=True)
class Budget:
    """How much of each kind of text the report prints; smaller budgets keep it to 3 pages."""

    title: int         # characters of a name or title (client, action, owner)
    text: int          # characters of a sentence (rationale, why, decision)
    priorities: int    # priority rows listed
    next_in_line: int  # backlog actions named in the backlog paragraph
    decisions: int     # decisions listed
    chart: bool = True


BUDGETS = (Budget(160, 360, 10, 5, 10), Budget(100, 200, 7, 3, 6), Budget(70, 120, 5, 0, 4),
           Budget(50, 70, 5, 0, 3, chart=False), Budget(36, 36, 3, 0, 2, chart=False))


# ---------------------------------------------------------------- text

@cache
def _covered() -> frozenset[int]:
    """The code points the regular and bold fonts can both draw."""
    from fontTools.ttLib import TTFont

    sets = []
    for name in FONT_FILES.values():
        with TTFont(FONT_DIR / name, lazy=True) as font:
            sets.append(set(font.getBestCmap()))
    return frozenset(set.intersection(*sets))


def clean(value, limit: int | None = None) -> str:
    """User text as printable plain text on one line: control and format characters gone,
    whitespace runs as one space, characters the font lacks as U+FFFD, at most `limit`
    characters (cut with an ellipsis)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if value is pd.NaT:
        return ""
    text = SPACES.sub(" ", str(value))
    covered = _covered()
    out = []
    for ch in text:
        if ch == "\u200d":
            out.append(ch)
        elif unicodedata.category(ch) in DROPPED_CATEGORIES:
            continue
        elif ord(ch) in covered or ch == " ":
            out.append(ch)
        else:
            out.append(MISSING)
    text = "".join(out).strip()
    if limit is not None and len(text) > limit:
        text = text[: max(1, limit - 1)].rstrip() + "…"
    return text


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def score_text(value: float | None, agreed: bool = False) -> str:
    """A computed score with two decimals (3.24); an agreed one as the team said it (2.6)."""
    if value is None:
        return "—"
    rounded = round(value, 2)
    if agreed and abs(rounded * 10 - round(rounded * 10)) < 1e-9:
        return f"{rounded:.1f}"
    return f"{rounded:.2f}"


def _date_text(value) -> str:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (datetime, pd.Timestamp)):
        value = value.date()
    if isinstance(value, date):
        return f"{value.day} {value:%b %Y}"
    return clean(value, 20)


# ---------------------------------------------------------------- the report's content

@dataclass(frozen=True)
class ScoreLine:
    name: str
    questionnaire: str
    score: float | None       # the one the plan uses
    computed: float | None
    agreed: float | None
    level: str
    rationale: str
    overall: bool
    median: float | None = None  # the benchmark's, when one was chosen


def score_lines(report: PlanReport) -> list[ScoreLine]:
    """One line per dimension and per questionnaire overall, in the report's order."""
    frame = report.scores
    if len(frame) == 0:
        return []
    lines = []
    for row in frame.to_dict("records"):
        agreed = _number(row["agreed_score"])
        lines.append(ScoreLine(
            name=str(row["name"]), questionnaire=str(row["title"]),
            score=_number(row["score"]), computed=_number(row["computed_score"]),
            agreed=agreed, level=str(row["level"] or ""),
            rationale=str(row["rationale"] or "") if agreed is not None else "",
            overall=row["dimension"] == "overall",
            median=_number(row.get("benchmark_median"))))  # only when a benchmark was chosen
    return lines


def tiers(plan: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The plan's priorities, backlog and dropped actions, each in priority order."""
    plan = plan.sort_values("priority", kind="stable")
    tier = plan["tier"].astype(str)
    return plan[tier == "Priority"], plan[tier == "Backlog"], plan[tier == "Dropped"]


def decisions_of(report: PlanReport) -> list[tuple[str, str]]:
    """The team's stop-doing decisions as (text, owner); raw answers are not decisions."""
    return [(str(d.text or ""), str(d.owner or "")) for d in report.decisions]


# ---------------------------------------------------------------- the chart

@cache
def _fonts_registered() -> bool:
    import vl_convert as vlc

    vlc.register_font_directory(str(FONT_DIR))
    return True


def chart_png(report: PlanReport, questionnaires: Mapping[str, Questionnaire],
              scale: float = 3.0) -> bytes | None:
    """The score chart as PNG (None when there is nothing to draw): bars over the levels of
    the report's first questionnaire (the shipped ones share scale and levels)."""
    import vl_convert as vlc

    from .charts import report_scores

    frame = report.scores
    if frame is None or len(frame) == 0 or not (frame["dimension"] != "overall").any():
        return None
    known = [q for q in dict.fromkeys(frame["questionnaire"]) if q in questionnaires]
    if not known:
        return None
    rows = frame[frame["questionnaire"].isin(known) & frame["score"].notna()]
    if not (rows["dimension"] != "overall").any():
        return None
    spec = report_scores(rows, questionnaires[known[0]]).to_dict()
    _fonts_registered()
    return vlc.vegalite_to_png(
        spec, scale=scale, allowed_base_urls=[],  # the data is inline: never fetch anything
        config={"font": FONT_CSS_NAME, "view": {"stroke": None}})


# ---------------------------------------------------------------- the document

class _Document(FPDF):
    def __init__(self, footer_text: str):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.footer_text = footer_text
        for style, name in FONT_FILES.items():
            self.add_font(FONT, style, str(FONT_DIR / name))
        self.set_margins(15, 14, 15)
        self.set_auto_page_break(True, margin=16)
        self.set_text_color(*INK)

    def footer(self):
        self.set_y(-12)
        self.set_font(FONT, "", 7.5)
        self.set_text_color(*GREY)
        self.cell(0, 4, f"{self.footer_text}   ·   page {self.page_no()} of {{nb}}",
                  align="C")
        self.set_text_color(*INK)


def _heading(pdf: _Document, text: str, room: float = 30) -> None:
    """A section heading, on a new page when less than `room` mm would follow it."""
    if pdf.get_y() + room > pdf.h - pdf.b_margin:
        pdf.add_page()
    else:
        pdf.ln(3)
    pdf.set_font(FONT, "B", 12.5)
    pdf.set_text_color(*BLUE)
    pdf.cell(0, 7, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_draw_color(*BLUE)
    pdf.set_line_width(0.3)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + PAGE_WIDTH, pdf.get_y())
    pdf.ln(1.5)
    pdf.set_text_color(*INK)


def _paragraph(pdf: _Document, text: str, size: float = 9.5, bold: bool = False,
               colour=INK, height: float | None = None) -> None:
    pdf.set_font(FONT, "B" if bold else "", size)
    pdf.set_text_color(*colour)
    pdf.multi_cell(0, height or size * 0.5, text, align="L", new_x=XPos.LMARGIN,
                   new_y=YPos.NEXT)
    pdf.set_text_color(*INK)


def _table(pdf: _Document, widths: tuple[float, ...], head: tuple[str, ...], rows, size=8.5):
    """A striped table; cells are plain text (markdown off); headings repeat on a new page."""
    pdf.set_font(FONT, "", size)
    with pdf.table(col_widths=widths, width=sum(widths), align="LEFT", text_align="LEFT",
                   line_height=size * 0.48, padding=(1.2, 1.5),
                   borders_layout=TableBordersLayout.HORIZONTAL_LINES,
                   cell_fill_color=STRIPE, cell_fill_mode=TableCellFillMode.ROWS,
                   headings_style=FontFace(emphasis="BOLD", color=(255, 255, 255),
                                           fill_color=BLUE),
                   markdown=False, repeat_headings=1) as table:
        heading = table.row()
        for text in head:
            heading.cell(text)
        for cells in rows:
            row = table.row()
            for cell in cells:
                if isinstance(cell, tuple):  # (text, FontFace)
                    row.cell(cell[0], style=cell[1])
                else:
                    row.cell(cell)


BOLD = FontFace(emphasis="BOLD")
QUIET = FontFace(color=GREY)


def _user_texts(report: PlanReport):
    yield from (report.client, report.title, report.benchmark_line)
    for frame, columns in ((report.scores, ("rationale",)),
                           (report.plan, ("action", "why", "owner"))):
        for column in columns:
            yield from frame[column].dropna().astype(str)
    for text, owner in decisions_of(report):
        yield text
        yield owner


def needs_shaping(report: PlanReport) -> bool:
    """Whether any text of the report is written right to left (Arabic, Hebrew, ...): such
    text is laid out by HarfBuzz (uharfbuzz), which joins Arabic letters and orders the line;
    everything else is printed as it is, which is faster."""
    return any(unicodedata.bidirectional(ch) in ("R", "AL", "AN")
               for text in _user_texts(report) for ch in str(text))


def _render(report: PlanReport, png: bytes | None, budget: Budget,
            chart_note: str = "") -> tuple[bytes, int]:
    b = budget
    reference = clean(report.reference, 80)
    made = _date_text(report.made)
    pdf = _Document(f"{reference}   ·   {made}")
    if needs_shaping(report):
        pdf.set_text_shaping(True)
    pdf.set_title(clean(f"Customer-centricity maturity: {report.client}", 200))
    pdf.set_creator("customer-centricity-assessment")
    pdf.set_author("")
    pdf.set_lang("en")
    pdf.add_page()

    # Who, what, when.
    _paragraph(pdf, "CUSTOMER-CENTRICITY MATURITY · WORKSHOP REPORT", 8, True, BLUE)
    pdf.ln(1)
    _paragraph(pdf, clean(report.client, b.title) or "—", 19, True, height=8.5)
    people = report.participants
    facts = [clean(report.title, b.title), made,
             f"{people} participant{'' if people == 1 else 's'}"]
    _paragraph(pdf, "   ·   ".join(f for f in facts if f), 10, colour=GREY, height=5.5)
    benchmark = clean(report.benchmark_line, min(b.text, 240))
    if benchmark.endswith("…"):
        benchmark += " (its full source is in the workbook's Method sheet)"
    _paragraph(pdf, f"Benchmark: {benchmark}" if benchmark else
               "Benchmark: none chosen; each dimension aims one level up.", 8.5, colour=GREY)

    lines = score_lines(report)
    overall = [s for s in lines if s.overall and s.score is not None]
    if overall:
        pdf.ln(1.5)
        _paragraph(pdf, "Overall:  " + "   ·   ".join(
            f"{clean(s.questionnaire, 60)} {score_text(s.score)} ({clean(s.level, 30)})"
            for s in overall), 9.5, True)

    median_any = any(s.median is not None for s in lines if not s.overall)
    # Where we stand: the chart.
    _heading(pdf, "Where we stand", room=60)
    if png is not None and b.chart:
        width = PAGE_WIDTH
        try:
            from PIL import Image

            with Image.open(io.BytesIO(png)) as image:
                w, h = image.size
            height = width * h / w
            if height > 95:  # many dimensions: keep the chart within a third of the page
                width, height = width * 95 / height, 95
        except Exception:  # an image Pillow cannot measure: let fpdf2 keep the proportions
            height = None
        pdf.image(io.BytesIO(png), x=pdf.l_margin, w=width, h=height or 0)
        agreed_any = any(s.agreed is not None and s.computed is not None
                         and abs(s.agreed - s.computed) >= 0.005 for s in lines)
        legend = ["Bars: the team's score per dimension (the agreed score where the team "
                  "recorded one), over the maturity levels."]
        if agreed_any:
            legend.append("Red diamond: the computed score, where the team agreed another.")
        if median_any:
            legend.append("Orange mark: the benchmark median.")
        _paragraph(pdf, " ".join(legend), 7.5, colour=GREY)
    elif chart_note:
        _paragraph(pdf, chart_note, 8.5, colour=GREY)
    elif not lines:
        _paragraph(pdf, "No scores yet.", 9.5)

    # The scores, agreed and computed.
    dimensions = [s for s in lines if not s.overall]
    if dimensions:
        _heading(pdf, "Scores and what the team agreed", room=25)
        rows = []
        for s in dimensions:
            if s.agreed is not None:
                score = f"agreed {score_text(s.agreed, agreed=True)}"
                if s.computed is not None:
                    score += f"\ncomputed {score_text(s.computed)}"
            else:
                score = score_text(s.score)
            why = clean(s.rationale, b.text) if s.agreed is not None else \
                "computed from the answers"
            rows.append(((clean(s.name, b.title), BOLD), score, clean(s.level, 30),
                         *([score_text(s.median)] if median_any else []),
                         (why, QUIET) if s.agreed is None else why))
        if median_any:
            _table(pdf, (48, 26, 26, 22, 58),
                   ("Dimension", "Score", "Level", "Benchmark median", "Rationale"), rows)
        else:
            _table(pdf, (52, 26, 28, 74), ("Dimension", "Score", "Level", "Rationale"), rows)

    # The priorities.
    priorities, backlog, dropped = tiers(report.plan)
    _heading(pdf, "Our priorities", room=70 if len(priorities) else 20)
    if len(priorities):
        _paragraph(pdf, "The few actions the leadership team carries first, each with an owner "
                        "and a date.", 8.5, colour=GREY)
        pdf.ln(1)
    if len(priorities) == 0:
        _paragraph(pdf, "No priorities: every dimension has reached its target."
                   if len(report.plan) == 0 else "No action has been made a priority yet.")
    else:
        shown = priorities.head(b.priorities)
        rows = []
        for number, row in enumerate(shown.to_dict("records"), start=1):
            due = _date_text(row.get("due"))
            status = clean(row.get("status"), 20)
            if status and status != "Not started":
                due = f"{due}\n{status}" if due else status
            rows.append((str(number),
                         (clean(row.get("action"), b.title), BOLD),
                         clean(row.get("why"), b.text),
                         clean(row.get("owner"), 40) or "to be named",
                         due or "—"))
        _table(pdf, (7, 50, 71, 30, 22), ("#", "Action", "Why", "Owner", "Due"), rows)
        if len(priorities) > len(shown):
            more = len(priorities) - len(shown)
            pdf.ln(1)
            _paragraph(pdf, f"…and {more} more priorit{'y' if more == 1 else 'ies'}, listed in "
                            f"the workbook.", 8.5, colour=GREY)
    if len(backlog) or len(dropped):
        pdf.ln(2)
        parts = []
        if len(backlog):
            parts.append(f"Backlog: {len(backlog)} further action"
                         f"{'' if len(backlog) == 1 else 's'}, to take up as the priorities "
                         f"are done (all listed in the workbook).")
            names = [clean(a, min(b.title, 60)) for a in backlog["action"].head(b.next_in_line)]
            if names:
                parts.append("Next in line: " + "; ".join(names) + ".")
        if len(dropped):
            parts.append(f"Dropped: {len(dropped)} action{'' if len(dropped) == 1 else 's'} "
                         f"the team decided not to pursue.")
        _paragraph(pdf, " ".join(parts), 8.5, colour=GREY)

    # The stop-doing decisions.
    decisions = decisions_of(report)
    _heading(pdf, "What we will stop doing", room=20)
    if not decisions:
        _paragraph(pdf, "No stop-doing decisions recorded yet.", 9.5, colour=GREY)
    else:
        for text, owner in decisions[: b.decisions]:
            owner = clean(owner, 40)
            _paragraph(pdf, f"•  {clean(text, b.text)}" + (f"  (owner: {owner})" if owner
                                                            else ""), 9.5, height=5)
        if len(decisions) > b.decisions:
            more = len(decisions) - b.decisions
            _paragraph(pdf, f"…and {more} more, listed in the workbook.", 8.5, colour=GREY)

    pdf.ln(3)
    _paragraph(pdf, "How every number is computed is set out in the workbook's Method sheet.",
               7.5, colour=GREY)
    data = bytes(pdf.output())
    return data, pdf.pages_count


def pdf_bytes(report: PlanReport, questionnaires: Mapping[str, Questionnaire]) -> bytes:
    """The report as PDF, one to three A4 pages: texts are shortened, and lists summarised,
    until it fits (every dimension is listed: only a questionnaire of some fifty dimensions
    could need a fourth page)."""
    try:
        png, note = chart_png(report, questionnaires), ""
    except Exception as e:  # the renderer is a compiled library: a report without the chart
        png, note = None, f"(The chart could not be drawn: {type(e).__name__}.)"
    for budget in BUDGETS:
        data, pages = _render(report, png, budget, note)
        if pages <= MAX_PAGES:
            return data
    # Only a questionnaire of very many dimensions gets here (every dimension is listed, user
    # texts are short by now): a longer report is better than none.
    return data


def save_pdf(report: PlanReport, path: Path | str,
             questionnaires: Mapping[str, Questionnaire]) -> None:
    """The report as a PDF file, written whole or not at all (see write_pdf)."""
    write_pdf(pdf_bytes(report, questionnaires), path)


def write_pdf(data: bytes, path: Path | str) -> None:
    """Write the whole file or nothing: written beside the target, then moved into place.
    PdfError (carrying the path) when the file cannot be written there."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        if target.is_dir():
            raise IsADirectoryError(21, "is a folder", str(target))
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except OSError as e:
        raise PdfError(f"{path}: cannot write the PDF there ({e.strerror or e}); nothing was "
                       f"written", str(path)) from e
    finally:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass


def output_problem(path: Path | str) -> str:
    """Why a file cannot be written at `path` ("" when it can, as far as can be told before
    writing): a missing folder, a folder in its place, a folder that is not writable."""
    target = Path(path)
    folder = target.parent
    if str(path).strip() == "" or target.name in ("", ".", ".."):
        return f"{str(path)!r}: not a file name"
    if target.is_dir():
        return f"{path}: is a folder, not a file"
    if not folder.exists():
        return f"{path}: the folder {folder} does not exist"
    if not folder.is_dir():
        return f"{path}: {folder} is not a folder"
    if not os.access(folder, os.W_OK):
        return f"{path}: the folder {folder} is not writable"
    return ""


def error_pdf(message: str) -> bytes:
    """A one-page PDF that says why the report could not be made (a download cannot show an
    error message, and an empty file would say nothing)."""
    pdf = _Document("")
    pdf.add_page()
    _paragraph(pdf, "CUSTOMER-CENTRICITY MATURITY · WORKSHOP REPORT", 8, True, BLUE)
    pdf.ln(4)
    _paragraph(pdf, clean(message, 500), 11)
    return bytes(pdf.output())
