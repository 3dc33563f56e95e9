"""A client's past assessment brought in from a file in the template format (CSV or XLSX).

First a preview: the file is measured against the upload limits (assessment.uploads), read and
checked by the same validation as `score` (assessment.responses), plus what a workshop needs
(one assessment per file, known roles, respondents told apart, text within the answer box's
limit); every problem is listed by row. Then all or nothing: the workshop (closed, marked
imported with the date it was held), its respondents, answers, comments and cached scores are
written in one transaction, or nothing is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from .answering import MAX_ANSWER_TEXT, NOT_APPLICABLE
from .model import Questionnaire
from .responses import NOT_APPLICABLE as NA_SPELLINGS
from .responses import ResponsesError, RowProblem, read_upload, validate
from .scoring import score
from .store import ROLES, Store, User
from .store.comments import MAX_COMMENT
from .store.portfolio import ImportedPerson
from .text import clean_name, clean_text, name_key
from .uploads import UploadError

MAX_NAME = 80
MAX_SHOWN = 50  # problems listed in a preview; the total is always given


class ImportRefused(ValueError):
    """A past assessment that cannot be imported as it is; nothing was written."""

    def __init__(self, problems: tuple[RowProblem, ...], total: int):
        self.problems, self.total = problems, total
        lines = [str(p) for p in problems]
        if total > len(problems):
            lines.append(f"... and {total - len(problems)} more problem(s)")
        super().__init__("nothing was imported:\n" + "\n".join(lines))


@dataclass(frozen=True)
class ImportPreview:
    """What a file would import, or every problem found in it (by row)."""

    questionnaire: Questionnaire
    source: str
    rows: int
    problems: tuple[RowProblem, ...] = ()
    total_problems: int = 0
    people: tuple[ImportedPerson, ...] = ()
    answer_rows: tuple[tuple[int, str, str, str], ...] = ()
    comment_rows: tuple[tuple[int, str, str], ...] = ()
    scores: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.total_problems


def _refused(q: Questionnaire, source: str, rows: int, problems: list[RowProblem],
             total: int | None = None) -> ImportPreview:
    problems = sorted(problems, key=lambda p: (p.row, p.column))
    return ImportPreview(q, source, rows, tuple(problems[:MAX_SHOWN]),
                         total if total is not None else len(problems))


def preview(data: bytes, filename: str, questionnaire: Questionnaire) -> ImportPreview:
    """Read and check a past assessment's file; nothing is written."""
    name = Path(str(filename or "upload.csv")).name[:200]
    try:
        name, columns, n = read_upload(data, name)
    except UploadError as e:
        return _refused(questionnaire, name, 0, [RowProblem(0, "-", "", e.message)])
    except ResponsesError as e:
        return _refused(questionnaire, name, 0, list(e.problems), e.total)
    roles = _role_problems(columns)  # listed beside the validation's own problems
    try:
        answers = validate(columns, n, questionnaire, source=name)
    except ResponsesError as e:
        return _refused(questionnaire, name, n, [*e.problems, *roles], e.total + len(roles))
    if roles:
        return _refused(questionnaire, name, n, roles)
    return _check_workshop(answers, questionnaire, name, n)


def _role_problems(columns) -> list[RowProblem]:
    """Rows whose role is not one of the workshop's roles (blank is fine: 'other')."""
    role = columns.get("role")
    if role is None:
        return []
    allowed = np.isin(np.char.lower(role.uniques.astype(str)), [*ROLES, ""])
    bad = np.flatnonzero(~allowed[role.codes])
    return [RowProblem(int(i) + 2, "role", str(role.uniques[role.codes[i]])[:40],
                       f"the role must be one of {', '.join(ROLES)} (or blank)")
            for i in bad[:MAX_SHOWN]]


def _first_rows(keys: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each distinct key and the first row it appears on."""
    uniques, first = np.unique(keys, return_index=True)
    return uniques, rows[first]


def _check_workshop(answers: pd.DataFrame, q: Questionnaire, source: str, n: int
                    ) -> ImportPreview:
    """What a workshop needs beyond valid answers; the rows to write when all is well."""
    problems: list[RowProblem] = []
    rows = answers["row"].to_numpy()
    if not len(answers):
        return _refused(q, source, n, [RowProblem(0, "-", "", "the file holds no answers")])
    assessment = answers["assessment"].astype(str).to_numpy(dtype=object)
    if len(set(assessment)) > 1:
        first = assessment[0]
        i = int(np.flatnonzero(assessment != first)[0])
        problems.append(RowProblem(int(rows[i]), "assessment", assessment[i],
                                   f"one past assessment per file (the file starts with "
                                   f"{first!r})"))
    role = answers["role"].astype(str).str.strip().str.lower().to_numpy(dtype=object)
    # Respondents: cleaned as names are on joining; two that look alike would be one person.
    respondent = answers["respondent"].astype(str).to_numpy(dtype=object)
    names, first_row = _first_rows(respondent, rows)
    order = np.argsort(first_row, kind="stable")
    names, first_row = names[order], first_row[order]
    people: list[ImportedPerson] = []
    index: dict[str, int] = {}
    keys: dict[str, str] = {}
    # Each respondent's roles in one pass (a mask per respondent took 9 s for a 5 MB file).
    roles_of: dict[str, set[str]] = {}
    for who, said in zip(respondent, role, strict=True):
        if said:
            roles_of.setdefault(who, set()).add(said)
    for text, row in zip(names, first_row, strict=True):
        cleaned = clean_name(text, required=False)
        if len(cleaned) > MAX_NAME:
            problems.append(RowProblem(int(row), "respondent", text[:40],
                                       f"a respondent's name has at most {MAX_NAME} characters"))
            continue
        key = name_key(cleaned)
        if key in keys:
            problems.append(RowProblem(int(row), "respondent", text,
                                       f"looks the same as respondent {keys[key]!r}: give each "
                                       f"person a name of their own"))
            continue
        keys[key] = text
        given = sorted(roles_of.get(text, ()))
        if len(given) > 1:
            problems.append(RowProblem(int(row), "role", ", ".join(given),
                                       f"respondent {text!r} has more than one role"))
        index[text] = len(people)
        people.append(ImportedPerson(cleaned, given[0] if given and given[0] in ROLES
                                     else "other"))
    # Values as the store keeps them (assessment.answering): whole numbers, n/a, option ids,
    # cleaned text.
    raw = answers["raw"].astype(str).to_numpy(dtype=object)
    value = answers["value"].to_numpy(dtype=float)
    text = answers["text"].astype(object).to_numpy()
    lowered = np.array([r.strip().lower() for r in raw], dtype=object)
    na = np.isin(lowered, NA_SPELLINGS)
    stored = np.where(~np.isnan(value), np.char.mod("%d", np.nan_to_num(value).astype(np.int64))
                      .astype(object), np.where(na, NOT_APPLICABLE, ""))
    has_text = ~pd.isna(text) & ~na
    cleaned_text = np.array([clean_text(t) if h else "" for t, h in zip(text, has_text,
                                                                        strict=True)],
                            dtype=object)
    stored = np.where(has_text, cleaned_text, stored)
    too_long = np.flatnonzero(np.array([len(s) > MAX_ANSWER_TEXT for s in stored]))
    problems.extend(RowProblem(int(rows[i]), "value", str(stored[i])[:40],
                               f"an answer has at most {MAX_ANSWER_TEXT} characters")
                    for i in too_long)
    comment = np.array([clean_text(c) for c in answers["comment"].astype(str)], dtype=object)
    long_comments = np.flatnonzero(np.array([len(c) > MAX_COMMENT for c in comment]))
    problems.extend(RowProblem(int(rows[i]), "comment", str(comment[i])[:40],
                               f"a comment has at most {MAX_COMMENT} characters")
                    for i in long_comments)
    if problems:
        return _refused(q, source, n, problems)
    question = answers["question"].astype(str).to_numpy(dtype=object)
    option = answers["option"].astype(str).to_numpy(dtype=object)
    person = np.array([index[r] for r in respondent], dtype=np.int64)
    given = np.flatnonzero(stored != "")
    answer_rows = tuple((int(person[i]), question[i], option[i], str(stored[i]))
                        for i in given)
    said = {}
    for i in np.flatnonzero(comment != ""):
        said.setdefault((int(person[i]), question[i]), comment[i])  # the first one counts
    comment_rows = tuple((p, qid, c) for (p, qid), c in said.items())
    table = score(answers, q)
    table = table[table["assessment"] == assessment[0]].reset_index(drop=True)
    return ImportPreview(q, source, n, (), 0, tuple(people), answer_rows, comment_rows, table)


def import_assessment(store: Store, user: User, client_id: int, checked: ImportPreview,
                      held_on: date, title: str = "",
                      progress: Callable[[float, str], None] | None = None) -> int:
    """Write a checked past assessment into a client the user may see, all or nothing;
    returns the new workshop's id. ImportRefused (nothing written) when the preview found
    problems."""
    step = progress or (lambda _share, _text: None)
    if not checked.ok:
        raise ImportRefused(checked.problems, checked.total_problems)
    step(0.3, f"writing {len(checked.answer_rows):,} answers of {len(checked.people)} people")
    wid = store.import_workshop(
        user, client_id, title or f"{checked.questionnaire.title} (imported)",
        checked.questionnaire, held_on, list(checked.people), list(checked.answer_rows),
        list(checked.comment_rows), checked.scores)
    step(1.0, "imported")
    return wid


def import_file(store: Store, user: User, client_id: int, path: Path | str,
                questionnaire: Questionnaire, held_on: date, title: str = "") -> int:
    """Preview and import a file in one go (the command line's way); ImportRefused when the
    file has problems, and then nothing is written."""
    path = Path(path)
    checked = preview(path.read_bytes(), path.name, questionnaire)
    return import_assessment(store, user, client_id, checked, held_on, title)
