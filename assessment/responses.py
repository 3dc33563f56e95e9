"""Read and validate answers in the long format: one row per respondent, question and option.

Validation is vectorised over dictionary-encoded columns: each distinct text (a question id, a
value, a respondent name) is checked once, and rows are checked through integer codes. That
keeps a million-row file to well under a second.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .model import SCORED_TYPES, Questionnaire
from .uploads import CSV, UPLOAD, WORKBOOK, Limits, UploadError, check_csv, check_xlsx

INPUT_COLUMNS = ("assessment", "respondent", "role", "question", "option", "value", "comment")
REFERENCE_COLUMNS = ("dimension", "type", "min", "max", "reverse", "weight")
REQUIRED_COLUMNS = ("respondent", "question", "value")
DEFAULT_ASSESSMENT = "default"
NOT_APPLICABLE = ("n/a", "na")
MAX_REPORTED = 20
ANSWER_COLUMNS = ("row", "assessment", "respondent", "role", "question", "option", "value",
                  "text", "raw", "comment")
TYPE_CODES = {"level": 0, "likert": 1, "allocation": 2, "ranking": 3, "choice": 4, "text": 5}
UNKNOWN_TYPE = 6


@dataclass(frozen=True)
class RowProblem:
    """One bad row of a responses file (row 1 is the header)."""

    row: int
    column: str
    value: str
    message: str
    question: str = ""

    def __str__(self) -> str:
        if self.row == 0 and self.column == "-":
            return self.message  # about the file as a whole
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


@dataclass(frozen=True)
class Column:
    """A text column, dictionary-encoded: row i holds uniques[codes[i]]; uniques are stripped."""

    codes: np.ndarray
    uniques: np.ndarray

    @classmethod
    def encode(cls, codes: np.ndarray, uniques) -> Column:
        """Strip the distinct texts and merge those that become equal."""
        stripped = pd.Index(np.asarray(uniques, dtype=object)).astype(str).str.strip()
        merged, canonical = pd.factorize(np.asarray(stripped, dtype=object))
        if len(merged) == 0:
            return cls(np.zeros(len(codes), dtype=np.int64), np.array([""], dtype=object))
        codes = np.asarray(codes)
        if not np.array_equal(merged, np.arange(len(merged))):
            codes = merged[codes]  # some texts differed only in surrounding spaces
        return cls(codes, np.asarray(canonical, dtype=object))

    @classmethod
    def of(cls, values) -> Column:
        array = np.asarray(values, dtype=object)
        codes, uniques = pd.factorize(array, use_na_sentinel=False)
        missing = pd.isna(uniques)
        if all(type(u) is str for u in uniques[~missing]):
            # Texts and blanks only (a stored table): each distinct value is turned into text
            # once. Anything else (numbers: 1, 1.0 and True are equal keys) goes the long way.
            return cls.encode(codes, np.where(missing, "", uniques))
        codes, uniques = pd.factorize(pd.Series(array, dtype=object).fillna("").astype(str))
        return cls.encode(codes, uniques)

    @classmethod
    def blank(cls, n: int) -> Column:
        return cls(np.zeros(n, dtype=np.int64), np.array([""], dtype=object))

    def texts(self, index=None) -> np.ndarray:
        return self.uniques[self.codes if index is None else self.codes[index]]

    def is_blank(self) -> np.ndarray:
        blank = self.uniques == ""
        if not blank.any():
            return np.zeros(len(self.codes), dtype=bool)
        return blank[self.codes]

    def take(self, mask: np.ndarray) -> Column:
        return Column(self.codes[mask], self.uniques)

    def compact(self) -> Column:
        """The same texts with only the distinct values used, in order of first appearance
        (as Column.of would encode them)."""
        if not len(self.codes):
            return Column(self.codes, np.array([""], dtype=object))
        codes, used = pd.factorize(self.codes)
        return Column(codes.astype(np.int64), self.uniques[used])

    def replace(self, old: str, new: str) -> Column:
        uniques = self.uniques.copy()
        uniques[uniques == old] = new
        return Column.encode(self.codes, uniques)

    def categorical(self) -> pd.Categorical:
        used = np.flatnonzero(np.bincount(self.codes, minlength=len(self.uniques)))
        if len(used) == len(self.uniques):  # every distinct text is used: codes as they are
            return pd.Categorical.from_codes(self.codes, categories=pd.Index(
                self.uniques, dtype=object))
        remap = np.full(len(self.uniques), -1, dtype=np.int64)
        remap[used] = np.arange(len(used))
        return pd.Categorical.from_codes(remap[self.codes], categories=pd.Index(
            self.uniques[used], dtype=object))


def read_upload(data: bytes, filename: str) -> tuple[str, dict[str, Column], int]:
    """A responses file uploaded in the app (CSV or XLSX), measured against the app's upload
    limits (UploadError) and read (ResponsesError naming the file sent): its shown name, its
    columns and its number of rows."""
    import tempfile

    name = Path(str(filename or "upload.csv")).name[:200]
    workbook = Path(name).suffix.lower() in (".xlsx", ".xlsm")
    (check_xlsx if workbook else check_csv)(data, name, UPLOAD)
    with tempfile.TemporaryDirectory() as folder:
        # Never the sender's name on this disk ("..", 800 bytes of "é": OSError), and never this
        # server's temporary path in what the page says: the problems name the file uploaded.
        path = Path(folder) / ("upload.xlsx" if workbook else "upload.csv")
        path.write_bytes(data)
        try:
            columns, n = read_table(path)
        except ResponsesError as e:
            raise ResponsesError(e.problems, e.total, name) from None
    return name, columns, n


def read_table(path: Path | str) -> tuple[dict[str, Column], int]:
    """Read a CSV or XLSX responses file into encoded text columns, keeping row numbers true.

    The file is measured first (assessment.uploads: size, expansion, sheets, rows, columns) and
    refused before any parser reads it when it passes a limit.
    """
    path = Path(path)
    source = str(path)

    def fail(message: str, cause: Exception | None = None):
        raise ResponsesError([RowProblem(0, "-", "", message)], source=source) from cause

    if not path.is_file():
        fail("no such file")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            check_xlsx(path, source, WORKBOOK)
            return _read_xlsx(path, source, WORKBOOK)
        except UploadError as e:
            fail(e.message, e)
        except Exception as e:  # openpyxl raises many kinds on a file that is not a workbook
            fail(f"cannot read it as an Excel workbook: {_first_line(e)}")
    try:
        check_csv(path, source, CSV)
    except UploadError as e:
        fail(e.message, e)
    try:
        return _read_csv_fast(path)
    except Exception:  # noqa: BLE001 - any trouble: the careful reader below says what is wrong
        pass
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=False,
                            encoding="utf-8-sig")
    except UnicodeDecodeError:
        fail("not UTF-8 text; save it as 'CSV UTF-8'")
    except (ValueError, pd.errors.ParserError, OSError) as e:
        fail(f"cannot read it as a CSV table: {_first_line(e)}")
    return _columns_of_frame(frame), len(frame)


def _cell_text(value) -> str:
    """A cell as text, as pandas.read_excel(dtype=str) gives it: 4.0 is '4', blank is ''."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_xlsx(path: Path, source: str, limits: Limits) -> tuple[dict[str, Column], int]:
    """The first worksheet, read in openpyxl's read-only mode (streamed, never whole).

    The header is the first non-empty row; the rows keep their numbers in the sheet (blank rows
    included, and skipped later like untouched template rows), so messages name true rows.
    """
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        if not wb.worksheets:
            return {}, 0
        ws = wb.worksheets[0]
        ws.reset_dimensions()  # never trust the stated size: read what is there (checked above)
        header, wanted, values, last = None, {}, {}, 0
        for number, cells in enumerate(ws.iter_rows(values_only=True, max_col=limits.columns),
                                       start=1):
            if number > limits.rows:  # the check counted them; this only guards against a lie
                raise UploadError(source, f"the sheet has more than {limits.rows:,} rows; the "
                                          f"limit is {limits.rows:,}", "rows", number, limits.rows)
            if header is None:
                if all(c is None or str(c).strip() == "" for c in cells):
                    continue
                header = number
                for i, name in enumerate(cells):
                    key = _cell_text(name).strip().lower()
                    if key in INPUT_COLUMNS and key not in wanted:
                        wanted[key] = i
                # Blank rows above the header keep the row numbers true (header = row 1).
                values = {key: [""] * (number - 1) for key in wanted}
                continue
            row = [_cell_text(cells[i]) if i < len(cells) else "" for i in wanted.values()]
            for key, text in zip(wanted, row, strict=True):
                values[key].append(text)
            if any(text.strip() for text in row):
                last = number
        if header is None:
            return {}, 0
        n = last - 1 if last else 0
        return {key: Column.of(column[:n]) for key, column in values.items()}, n
    finally:
        wb.close()


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _columns_of_frame(frame: pd.DataFrame) -> dict[str, Column]:
    out = {}
    for name in frame.columns:
        key = str(name).strip().lower()
        if key in INPUT_COLUMNS and key not in out:
            out[key] = Column.of(frame[name])
    return out


def _read_csv_fast(path: Path) -> tuple[dict[str, Column], int]:
    """Arrow's CSV reader, dictionary-encoding as it parses; raises on anything unusual."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    with path.open(encoding="utf-8-sig", newline="") as f:
        header = next(csv.reader(f))
    wanted = {}
    for name in header:
        key = name.strip().lower()
        if key in INPUT_COLUMNS and key not in wanted:
            wanted[key] = name
    if len(set(header)) != len(header):
        raise ValueError("duplicate column names")
    text = pa.dictionary(pa.int32(), pa.string())
    table = pacsv.read_csv(
        path,
        parse_options=pacsv.ParseOptions(ignore_empty_lines=False),
        convert_options=pacsv.ConvertOptions(
            column_types={name: text for name in wanted.values()}, strings_can_be_null=False,
            include_columns=list(wanted.values())),
    ).unify_dictionaries()
    out = {}
    for key, name in wanted.items():
        array = table.column(name).combine_chunks()
        out[key] = Column.encode(array.indices.to_numpy(zero_copy_only=False),
                                 array.dictionary.to_numpy(zero_copy_only=False))
    return out, table.num_rows


def parse_answers(frame: pd.DataFrame, questionnaire: Questionnaire, source: str = "") -> pd.DataFrame:
    """Validate a long-format table (a DataFrame of texts) against the questionnaire."""
    return validate(_columns_of_frame(frame), len(frame), questionnaire, source)


def load_answers(path: Path | str, questionnaire: Questionnaire) -> pd.DataFrame:
    """Read and validate a CSV or XLSX responses file."""
    columns, n = read_table(path)
    return validate(columns, n, questionnaire, source=str(path))


def validate_lenient(frame: pd.DataFrame, questionnaire: Questionnaire
                     ) -> tuple[pd.DataFrame, list[RowProblem]]:
    """Like parse_answers, but rows that do not fit are left out and returned as problems
    (row numbers count from 2, as in a file), instead of refusing the whole table."""
    left_out: list[RowProblem] = []
    rows = np.arange(2, len(frame) + 2)
    columns = _columns_of_frame(frame)  # encoded once; a round keeps the rows that fit
    for _ in range(50):  # each round drops at least one row; allocations may take a few
        try:
            answers = validate(columns, len(rows), questionnaire, keep_all=True)
        except ResponsesError as e:
            bad = sorted({p.row for p in e.problems if p.row >= 2})
            if not bad:
                raise
            found = {p.row: p for p in e.problems}
            left_out.extend(RowProblem(int(rows[r - 2]), found[r].column, found[r].value,
                                       found[r].message, found[r].question) for r in bad)
            keep = np.ones(len(rows), dtype=bool)
            keep[np.array(bad) - 2] = False
            columns = {name: c.take(keep).compact() for name, c in columns.items()}
            rows = rows[keep]
            continue
        answers["row"] = rows[answers["row"].to_numpy() - 2]
        return answers, left_out
    raise ResponsesError(left_out[:MAX_REPORTED], total=len(left_out), source="stored answers")


def validate(columns: dict[str, Column], n: int, questionnaire: Questionnaire,
             source: str = "", keep_all: bool = False) -> pd.DataFrame:
    """Check every row; return clean answers or raise ResponsesError naming row, question, value.

    The result has ANSWER_COLUMNS: `row` is the file row (header = 1); `value` is the number
    given (NaN when not answered, and for choice and text); `text` the answer of choice and
    text questions; `raw` the value as written; the text columns are categorical.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        found = ", ".join(columns) or "none of the expected ones"
        raise ResponsesError([RowProblem(1, c, "", f"missing column (columns found: {found})")
                              for c in missing], source=source)
    col = {name: columns.get(name) or Column.blank(n) for name in INPUT_COLUMNS}
    rows = np.arange(2, n + 2)

    # Untouched template rows (no respondent, no answer, no comment) and empty lines are skipped.
    keep = ~(col["respondent"].is_blank() & col["value"].is_blank() & col["comment"].is_blank()
             & (not keep_all))
    if not keep.all():
        col = {name: c.take(keep) for name, c in col.items()}
        rows = rows[keep]
    col["assessment"] = col["assessment"].replace("", DEFAULT_ASSESSMENT)

    questions = questionnaire.questions
    qids = [q.id for q in questions]
    qcol, vcol, ocol = col["question"], col["value"], col["option"]
    # Per-question attributes get one extra slot at the end: position -1 (unknown) lands there.
    qpos = pd.Index(qids).get_indexer(qcol.uniques)[qcol.codes]
    known = qpos >= 0
    qtype = np.array([TYPE_CODES[q.type] for q in questions] + [UNKNOWN_TYPE])[qpos]
    scale = questionnaire.scale
    lo = np.array([scale.min if q.scored else (1 if q.type == "ranking" else 0)
                   for q in questions] + [np.nan], dtype=float)[qpos]
    hi = np.array([scale.max if q.scored else
                   (len(q.options) if q.type == "ranking" else (q.total or 0))
                   for q in questions] + [np.nan], dtype=float)[qpos]
    allow_na = np.array([q.allow_na for q in questions] + [False])[qpos]

    lowered = np.char.lower(vcol.uniques.astype(str))
    blank = (vcol.uniques == "")[vcol.codes]
    na = np.isin(lowered, NOT_APPLICABLE)[vcol.codes]
    number = pd.to_numeric(pd.Series(vcol.uniques, dtype=object), errors="coerce").to_numpy(
        dtype=float)[vcol.codes]

    problems: list[tuple[np.ndarray, str, object]] = []

    def refuse(mask: np.ndarray, column: str, message) -> None:
        """Record a problem on each row where mask holds; message may be a function of rows."""
        if mask.any():
            problems.append((np.flatnonzero(mask), column, message))

    refuse(col["respondent"].is_blank(), "respondent", "the respondent is blank")
    refuse(qcol.is_blank(), "question", "the question is blank")
    refuse(~known & ~qcol.is_blank(), "question",
           f"unknown question in questionnaire {questionnaire.id!r}")
    refuse(na & ~allow_na & known, "value", "'not applicable' is not allowed for this question")

    with_options = np.isin(qtype, (TYPE_CODES["allocation"], TYPE_CODES["ranking"]))
    has_option = ~ocol.is_blank()
    refuse(known & ~with_options & has_option, "option",
           "this question takes no option (leave the option column blank)")
    refuse(known & with_options & ~has_option, "option", "an option id is needed for this question")
    option_ok = np.zeros((len(qids) + 1, len(ocol.uniques)), dtype=bool)
    for i, q in enumerate(questions):
        if q.type in ("allocation", "ranking"):
            found = pd.Index(ocol.uniques).get_indexer(list(q.option_ids))
            option_ok[i, found[found >= 0]] = True
    refuse(known & with_options & has_option & ~option_ok[qpos, ocol.codes], "option",
           lambda idx: [f"unknown option; question {qids[p]!r} has "
                        f"{', '.join(questions[p].option_ids)}" for p in qpos[idx]])

    numeric = np.isin(qtype, [TYPE_CODES[t] for t in (*SCORED_TYPES, "allocation", "ranking")])
    given = numeric & ~blank & ~na
    is_number = ~np.isnan(number)
    refuse(given & ~is_number, "value", "not a number")
    whole = is_number & (number == np.floor(number))
    refuse(given & is_number & ~whole, "value", "not a whole number")
    refuse(given & whole & ((number < lo) | (number > hi)), "value",
           lambda idx: [f"out of range {lo[i]:.0f}..{hi[i]:.0f}" for i in idx])

    choice_rows = np.flatnonzero((qtype == TYPE_CODES["choice"]) & ~blank & ~na)
    if len(choice_rows):
        width = len(vcol.uniques)
        valid = [i * width + v for i, q in enumerate(questions) if q.type == "choice"
                 for v in pd.Index(vcol.uniques).get_indexer(list(q.option_ids)) if v >= 0]
        bad = ~np.isin(qpos[choice_rows] * width + vcol.codes[choice_rows], valid)
        mask = np.zeros(len(rows), dtype=bool)
        mask[choice_rows[bad]] = True
        refuse(mask, "value", lambda idx: [f"not one of the options of question {qids[p]!r}: "
                                           f"{', '.join(questions[p].option_ids)}"
                                           for p in qpos[idx]])

    person = pd.factorize(col["assessment"].codes * (len(col["respondent"].uniques) + 1)
                          + col["respondent"].codes)[0]
    key = (person * (len(qcol.uniques) + 1) + qcol.codes) * (len(ocol.uniques) + 1) + ocol.codes
    if len(key) and key.max() < 4 * len(key) + (1 << 16) and np.bincount(key).max() < 2:
        dup = np.zeros(len(key), dtype=bool)  # every key once: counted, no hash table needed
    else:
        dup = pd.Series(key).duplicated(keep="first").to_numpy() & known
    if dup.any():
        involved = np.isin(key, key[dup])
        first = pd.Series(rows[involved]).groupby(key[involved]).transform("first").to_numpy()
        first_row = np.zeros(len(rows), dtype=np.int64)
        first_row[involved] = first
        refuse(dup, "question", lambda idx: [f"the same answer is given twice (first at row "
                                             f"{first_row[i]})" for i in idx])

    value = np.where(given & whole, number, np.nan)
    if not problems:
        _check_allocations(value, qtype, qpos, person, questions, col, refuse)
        _check_rankings(value, qtype, qpos, person, refuse)

    if problems:
        _raise(problems, rows, col, source)

    text_rows = np.isin(qtype, (TYPE_CODES["choice"], TYPE_CODES["text"])) & ~na
    text_codes = np.where(text_rows, vcol.codes, -1)
    return pd.DataFrame({
        "row": rows,
        "assessment": col["assessment"].categorical(),
        "respondent": col["respondent"].categorical(),
        "role": col["role"].categorical(),
        "question": qcol.categorical(),
        "option": ocol.categorical(),
        "value": value,
        "text": pd.Categorical.from_codes(text_codes, categories=pd.Index(vcol.uniques,
                                                                          dtype=object)),
        "raw": vcol.categorical(),
        "comment": col["comment"].categorical(),
    })


def _check_allocations(value, qtype, qpos, person, questions, col, refuse) -> None:
    """Each respondent's answered allocation must add up to the question's total."""
    idx = np.flatnonzero((qtype == TYPE_CODES["allocation"]) & ~np.isnan(value))
    if not len(idx):
        return
    group, _ = pd.factorize(person[idx] * (len(questions) + 1) + qpos[idx])
    first = idx[np.unique(group, return_index=True)[1]]  # each group's first row
    total = np.bincount(group, value[idx])  # whole numbers: exact in any order
    expected = np.array([q.total or 0 for q in questions] + [0])[qpos[first]]
    off = total != expected
    if not off.any():
        return
    mask = np.zeros(len(value), dtype=bool)
    mask[first[off]] = True
    totals = dict(zip(first[off].tolist(), total[off].tolist(), strict=True))
    respondents = col["respondent"]
    refuse(mask, "value", lambda rows_: [
        f"the points of question {questions[qpos[i]].id!r} add up to {totals[i]:.0f}, not "
        f"{questions[qpos[i]].total} (respondent {respondents.texts(i)!s})" for i in rows_])


def _check_rankings(value, qtype, qpos, person, refuse) -> None:
    """A respondent gives each rank at most once within a ranking question."""
    idx = np.flatnonzero((qtype == TYPE_CODES["ranking"]) & ~np.isnan(value))
    if not len(idx):
        return
    # Ranks are whole numbers from 1 to the number of options here (checked before).
    questions, ranks = int(qpos[idx].max()) + 1, int(value[idx].max()) + 1
    key = (person[idx] * questions + qpos[idx]) * ranks + value[idx].astype(np.int64)
    dup = np.ones(len(idx), dtype=bool)
    dup[np.unique(key, return_index=True)[1]] = False
    mask = np.zeros(len(value), dtype=bool)
    mask[idx[dup]] = True
    refuse(mask, "value", "this rank is already given to another option")


def _raise(problems, rows, col, source) -> None:
    found = []
    total = sum(len(idx) for idx, _, _ in problems)
    for idx, column, message in problems:
        # Rows are in ascending order, so the first rows overall are among each kind's first.
        idx = idx[:MAX_REPORTED]
        messages = message(idx) if callable(message) else [message] * len(idx)
        shown = col[column] if column in col else col["value"]
        for i, text, value, question in zip(idx, messages, shown.texts(idx),
                                            col["question"].texts(idx), strict=True):
            found.append((int(rows[i]), column, str(value), text, str(question)))
    found.sort(key=lambda p: (p[0], p[1]))
    raise ResponsesError([RowProblem(*p) for p in found[:MAX_REPORTED]], total=total,
                         source=source)
