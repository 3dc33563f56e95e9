"""Read and validate answers in the long format: one row per respondent, question and option."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .model import SCORED_TYPES, Questionnaire

INPUT_COLUMNS = ("assessment", "respondent", "role", "question", "option", "value", "comment")
REFERENCE_COLUMNS = ("dimension", "type", "min", "max", "reverse", "weight")
REQUIRED_COLUMNS = ("respondent", "question", "value")
DEFAULT_ASSESSMENT = "default"
NOT_APPLICABLE = ("n/a", "na")
MAX_REPORTED = 20
# Answers, once read, carry the file row they came from so that later checks can name it.
ANSWER_COLUMNS = ("row", "assessment", "respondent", "role", "question", "option", "value",
                  "text", "comment")


@dataclass(frozen=True)
class RowProblem:
    """One bad row of a responses file (row 1 is the header)."""

    row: int
    column: str
    value: str
    message: str
    question: str = ""

    def __str__(self) -> str:
        parts = [f"row {self.row}" if self.row else "file"]
        if self.question and self.column != "question":
            parts.append(f"question {self.question!r}")
        parts.append(f"{self.column} {self.value!r}" if self.value != "" else
                     f"{self.column} (blank)" if self.row > 1 else f"column {self.column!r}")
        return f"{', '.join(parts)}: {self.message}"


class ResponsesError(Exception):
    """A responses file that cannot be scored as it is; nothing is written."""

    def __init__(self, problems: list[RowProblem], total: int | None = None, source: str = ""):
        self.problems = problems
        self.total = total if total is not None else len(problems)
        self.source = source
        lines = [f"{source}: {p}" if source else str(p) for p in problems]
        if self.total > len(problems):
            lines.append(f"... and {self.total - len(problems)} more problem(s)")
        super().__init__("\n".join(lines))


def read_table(path: Path | str) -> pd.DataFrame:
    """Read a CSV or XLSX responses file as text, keeping blank rows so row numbers stay true."""
    path = Path(path)
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            frame = pd.read_excel(path, dtype=str, keep_default_na=False, engine="openpyxl")
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=False,
                                encoding="utf-8-sig")
    except FileNotFoundError:
        raise ResponsesError([RowProblem(0, "-", "", "no such file")], source=str(path)) from None
    except UnicodeDecodeError:
        raise ResponsesError([RowProblem(0, "-", "", "not UTF-8 text; save it as CSV UTF-8")],
                             source=str(path)) from None
    except (ValueError, pd.errors.ParserError, OSError) as e:
        message = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ResponsesError([RowProblem(0, "-", "", f"cannot read it as a table: {message}")],
                             source=str(path)) from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    return frame


def parse_answers(frame: pd.DataFrame, questionnaire: Questionnaire, source: str = "") -> pd.DataFrame:
    """Validate a long-format table against the questionnaire and return clean answers.

    The result has ANSWER_COLUMNS: `value` is the number given (NaN when not answered, for
    choice and text questions too), `text` the raw answer of choice and text questions.
    Raises ResponsesError naming row, column and value for every problem found.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        found = ", ".join(map(str, frame.columns)) or "none"
        raise ResponsesError([RowProblem(1, c, "", f"missing column (columns found: {found})")
                              for c in missing], source=source)

    def column(name: str) -> pd.Series:
        if name not in frame.columns:
            return pd.Series("", index=frame.index, dtype=object)
        return frame[name].fillna("").astype(str).str.strip()

    a = pd.DataFrame({
        "row": np.arange(2, len(frame) + 2),
        "assessment": column("assessment"),
        "respondent": column("respondent"),
        "role": column("role"),
        "question": column("question"),
        "option": column("option"),
        "raw": column("value"),
        "comment": column("comment"),
    })
    # Untouched template rows (no respondent, no answer) and empty lines are not answers.
    a = a[(a["respondent"] != "") | (a["raw"] != "") | (a["comment"] != "")]
    a.loc[a["assessment"] == "", "assessment"] = DEFAULT_ASSESSMENT

    problems: list[pd.DataFrame] = []

    def refuse(mask, col: str, message) -> None:
        """Record a problem for each row where mask holds; message may be a Series."""
        if not mask.any():
            return
        bad = a.loc[mask]
        values = bad["raw"] if col == "value" else bad[col]
        msg = message.loc[mask] if isinstance(message, pd.Series) else message
        problems.append(pd.DataFrame({"row": bad["row"], "column": col, "value": values,
                                      "message": msg, "question": bad["question"]}))

    refuse(a["respondent"] == "", "respondent", "the respondent is blank")
    refuse(a["question"] == "", "question", "the question is blank")

    questions = questionnaire.questions
    qids = [q.id for q in questions]
    codes = pd.Index(qids).get_indexer(a["question"])
    known = codes >= 0
    refuse(~known & (a["question"] != ""), "question",
           f"unknown question in questionnaire {questionnaire.id!r}")

    def per_question(values, default):
        """Broadcast a per-question attribute onto the rows (default for unknown questions)."""
        table = np.array(list(values) + [default], dtype=object if isinstance(default, str) else None)
        return table[np.where(known, codes, len(qids))]

    qtype = per_question((q.type for q in questions), "")
    lo = per_question((questionnaire.scale.min if q.scored else
                       (1 if q.type == "ranking" else 0) for q in questions), np.nan).astype(float)
    hi = per_question((questionnaire.scale.max if q.scored else
                       (len(q.options) if q.type == "ranking" else (q.total or 0))
                       for q in questions), np.nan).astype(float)
    allow_na = per_question((q.allow_na for q in questions), False).astype(bool)

    raw = a["raw"]
    blank = (raw == "").to_numpy()
    na = raw.str.lower().isin(NOT_APPLICABLE).to_numpy()
    refuse(na & ~allow_na & known, "value", "'not applicable' is not allowed for this question")

    option_types = np.isin(qtype, ("allocation", "ranking"))
    has_option = (a["option"] != "").to_numpy()
    refuse(known & ~option_types & has_option, "option",
           "this question takes no option (leave the option column blank)")
    refuse(known & option_types & ~has_option, "option", "an option id is needed for this question")
    pairs = a["question"] + "\x1f" + a["option"]
    valid_pairs = [f"{q.id}\x1f{o.id}" for q in questions if q.type in ("allocation", "ranking")
                   for o in q.options]
    refuse(known & option_types & has_option & ~pairs.isin(valid_pairs).to_numpy(), "option",
           "unknown option for question " + a["question"])

    numeric_types = np.isin(qtype, (*SCORED_TYPES, "allocation", "ranking"))
    number = pd.to_numeric(raw.where(numeric_types & ~blank & ~na, ""), errors="coerce")
    number = number.to_numpy(dtype=float)
    given = numeric_types & ~blank & ~na
    refuse(given & np.isnan(number), "value", "not a number")
    whole = np.isnan(number) | (number == np.floor(number))
    refuse(given & ~np.isnan(number) & ~whole, "value", "not a whole number")
    out_of_range = given & whole & ((number < lo) | (number > hi))
    if out_of_range.any():
        bounds = (pd.Series(np.nan_to_num(lo)).astype(int).astype(str) + ".."
                  + pd.Series(np.nan_to_num(hi)).astype(int).astype(str))
        refuse(out_of_range, "value", "out of range " + pd.Series(bounds.to_numpy(), index=a.index))

    choice = qtype == "choice"
    valid_choices = [f"{q.id}\x1f{o.id}" for q in questions if q.type == "choice" for o in q.options]
    choice_ok = (a["question"] + "\x1f" + raw).isin(valid_choices).to_numpy()
    refuse(choice & ~blank & ~na & ~choice_ok, "value",
           "not one of the options of question " + a["question"])

    key = ["assessment", "respondent", "question", "option"]
    dup = a.duplicated(key, keep="first").to_numpy() & known
    if dup.any():
        first = a.groupby(key, sort=False)["row"].transform("first")
        refuse(dup, "question", "the same answer is given twice (first at row "
               + first.astype(str) + ")")

    a["value"] = np.where(numeric_types & given, number, np.nan)
    a["text"] = np.where(np.isin(qtype, ("choice", "text")) & ~na, raw, "")
    a["qtype"] = qtype

    if not problems:
        _check_allocations(a, questionnaire, refuse)
        _check_rankings(a, refuse)

    if problems:
        found = pd.concat(problems).sort_values(["row", "column"], kind="stable")
        head = found.head(MAX_REPORTED)
        raise ResponsesError(
            [RowProblem(int(r.row), r.column, str(r.value), str(r.message), str(r.question))
             for r in head.itertuples(index=False)],
            total=len(found), source=source)
    return a.loc[:, list(ANSWER_COLUMNS)].reset_index(drop=True)


def _check_allocations(a: pd.DataFrame, questionnaire: Questionnaire, refuse) -> None:
    """Each respondent's answered allocation must add up to the question's total."""
    alloc = a["qtype"] == "allocation"
    if not alloc.any():
        return
    totals = {q.id: q.total for q in questionnaire.questions if q.type == "allocation"}
    group = [a["assessment"], a["respondent"], a["question"]]
    sums = a["value"].where(alloc).groupby(group, sort=False).transform("sum")
    answered = a["value"].where(alloc).notna().groupby(group, sort=False).transform("any")
    total = a["question"].map(totals)
    off = alloc & answered & (sums != total)
    first = a["row"].where(off).groupby(group, sort=False).transform("min")
    refuse(off & (a["row"] == first), "value",
           "the points of question " + a["question"] + " add up to "
           + sums.fillna(0).astype(int).astype(str) + ", not " + total.fillna(0).astype(int)
           .astype(str) + " (respondent " + a["respondent"] + ")")


def _check_rankings(a: pd.DataFrame, refuse) -> None:
    """A respondent gives each rank at most once within a ranking question."""
    ranked = (a["qtype"] == "ranking") & a["value"].notna()
    if not ranked.any():
        return
    dup = a[ranked].duplicated(["assessment", "respondent", "question", "value"], keep="first")
    mask = pd.Series(False, index=a.index)
    mask.loc[dup.index] = dup.to_numpy()
    refuse(mask.to_numpy(), "value", "this rank is already given to another option")


def load_answers(path: Path | str, questionnaire: Questionnaire) -> pd.DataFrame:
    """Read and validate a CSV or XLSX responses file."""
    return parse_answers(read_table(path), questionnaire, source=str(path))
