"""The portfolio workbook: one sheet per view (comparison table, heatmap values, history,
portfolio overview), written with the plan workbook's safety rules (assessment.export: user
text always text, never a formula; characters a workbook cannot hold removed)."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import openpyxl
import pandas as pd
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.utils import get_column_letter

from .export import TITLE_FONT, header, put, safe
from .history import Comparison, Overview, compare, history, portfolio_overview
from .model import Questionnaire
from .store import Store, User

SHEETS = ("Comparison", "Heatmap", "History", "Portfolio", "Method")
NUMBER = "0.00"


@dataclass(frozen=True)
class PortfolioReport:
    questionnaire: Questionnaire
    made: date
    comparison: Comparison
    histories: dict[str, pd.DataFrame]   # client name -> history.history()
    overview: Overview


def gather(store: Store, user: User, client_ids: list[int], questionnaire: Questionnaire,
           progress: Callable[[float, str], None] | None = None) -> PortfolioReport:
    """Everything the workbook shows, through the user's access (Forbidden for a client they
    may not see; ComparisonRefused as on the page)."""
    step = progress or (lambda _share, _text: None)
    step(0.05, "comparing the clients' latest workshops")
    found, latest, scores = store.latest_completed(user, client_ids, questionnaire.id)
    comparison = compare(found, latest, scores, questionnaire)
    histories = {}
    labels = dict(zip(comparison.table["client_id"], comparison.table["client"], strict=True))
    for i, cid in enumerate(found, start=1):
        step(0.1 + 0.6 * i / len(found), f"history of client {i} of {len(found)}")
        _, entries, cached = store.history_frame(user, cid)
        histories[labels[cid]] = history(entries, cached, questionnaire)  # one per client
    step(0.8, "portfolio overview")
    overview = portfolio_overview(store.portfolio_latest(user, questionnaire.id), questionnaire)
    return PortfolioReport(questionnaire, date.today(), comparison, histories, overview)


def workbook(report: PortfolioReport) -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    wb.properties.title = safe(f"Customer-centricity portfolio: {report.questionnaire.title}")
    _comparison(wb.create_sheet("Comparison"), report)
    _heatmap(wb.create_sheet("Heatmap"), report)
    _history(wb.create_sheet("History"), report)
    _portfolio(wb.create_sheet("Portfolio"), report)
    _method(wb.create_sheet("Method"), report)
    return wb


def workbook_bytes(report: PortfolioReport) -> bytes:
    buffer = io.BytesIO()
    workbook(report).save(buffer)
    return buffer.getvalue()


def _comparison(ws, report: PortfolioReport) -> None:
    c = report.comparison
    dims = list(c.dimensions)
    header(ws, 1, ["Client", "Workshop held", *[c.names[d] for d in dims]],
           [34, 14, *[14] * len(dims)])
    for r in range(len(c.table)):
        row = c.table.iloc[r]
        put(ws, r + 2, 1, row["client"])
        put(ws, r + 2, 2, row["held_on"], "yyyy-mm-dd")
        for j, d in enumerate(dims, start=3):
            put(ws, r + 2, j, _num(row[d]), NUMBER)
    ws.freeze_panes = "B2"


def _heatmap(ws, report: PortfolioReport) -> None:
    c = report.comparison
    dims = list(c.dimensions)
    header(ws, 1, ["Client", *[c.names[d] for d in dims]], [34, *[14] * len(dims)])
    for r in range(len(c.table)):
        put(ws, r + 2, 1, c.table.iloc[r]["client"])
        for j, d in enumerate(dims, start=2):
            put(ws, r + 2, j, _num(c.table.iloc[r][d]), NUMBER)
    if len(c.table) and dims:
        cells = f"B2:{get_column_letter(len(dims) + 1)}{len(c.table) + 1}"
        q = report.questionnaire
        ws.conditional_formatting.add(cells, ColorScaleRule(
            start_type="num", start_value=q.scale.min, start_color="F8696B",
            mid_type="num", mid_value=(q.scale.min + q.scale.max) / 2, mid_color="FFEB84",
            end_type="num", end_value=q.scale.max, end_color="63BE7B"))


HISTORY_HEADER = ["Client", "Workshop held", "Status", "Workshop", "Version", "Dimension",
                  "Score", "Agreed", "Computed", "Level", "Change", "Arrow", "Noise (pooled SD)",
                  "Within noise", "Note"]


def _history(ws, report: PortfolioReport) -> None:
    header(ws, 1, HISTORY_HEADER, [30, 14, 10, 30, 9, 26, 9, 9, 9, 14, 9, 7, 12, 11, 40])
    r = 2
    for client, frame in report.histories.items():
        for row in frame.itertuples(index=False):
            within = "" if row.within_noise is None else ("yes" if row.within_noise else "no")
            for j, (value, fmt) in enumerate((
                    (client, None), (row.held_on, "yyyy-mm-dd"), (row.status, None),
                    (row.title, None), (row.version, None), (row.name, None),
                    (_num(row.score), NUMBER), (_num(row.agreed), NUMBER),
                    (_num(row.computed), NUMBER), (row.level, None), (_num(row.change), NUMBER),
                    (row.arrow, None), (_num(row.noise), NUMBER), (within, None),
                    (row.note, None)), start=1):
                put(ws, r, j, value, fmt)
            r += 1
    ws.freeze_panes = "B2"


def _portfolio(ws, report: PortfolioReport) -> None:
    o = report.overview
    put(ws, 1, 1, f"Clients counted: {o.clients}").font = TITLE_FONT
    if o.left_out:
        put(ws, 2, 1, f"Left out: {o.left_out} client(s) whose latest workshop answered "
                      f"another questionnaire version")
    level_columns = [c for c in o.levels.columns if c not in ("dimension", "name")]
    header(ws, 4, ["Dimension", *level_columns], [30, *[14] * len(level_columns)])
    for r, row in enumerate(o.levels.itertuples(index=False), start=5):
        put(ws, r, 1, row.name)
        for j, name in enumerate(level_columns, start=2):
            put(ws, r, j, int(o.levels.iloc[r - 5][name]))
    start = 6 + len(o.levels)
    put(ws, start, 1, "Weakest dimension, how often").font = TITLE_FONT
    header(ws, start + 1, ["Dimension", "Clients"])
    for r, row in enumerate(o.weakest.itertuples(index=False), start=start + 2):
        put(ws, r, 1, row.name)
        put(ws, r, 2, int(row.clients))


def _method(ws, report: PortfolioReport) -> None:
    from . import history as rules

    q = report.questionnaire
    lines = [("Questionnaire", f"{q.title} (version {report.comparison.version})"),
             ("Made", report.made.isoformat()),
             ("Rules", rules.__doc__.split("Rules (the README repeats them):", 1)[-1].strip())]
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 110
    for r, (name, text) in enumerate(lines, start=1):
        put(ws, r, 1, name)
        put(ws, r, 2, text)


def _num(value):
    if value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return None if pd.isna(value) else round(value, 4)
