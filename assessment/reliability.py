"""How far the questionnaire measures anything: internal consistency per dimension.

Over every respondent of one questionnaire (a responses file, or this installation's workshops
without the demo), for each dimension's scored items (``level`` and ``likert``), after
reverse-coded answers are reversed (v becomes min + max - v) and without question weights:

- C is the k x k covariance matrix (ddof 1) of the dimension's k items. **Pairwise** (the
  default, as R's ``psych::alpha`` and ``pingouin.cronbach_alpha``): C[i, j] from the
  respondents who answered both i and j, with the means of those respondents (what
  ``pandas.DataFrame.cov`` computes). **Listwise**: only respondents who answered every item of
  the dimension.
- Cronbach's alpha = k / (k - 1) * (1 - trace(C) / sum(C)).
- Alpha if item i is deleted: the same over C without row and column i (k - 1 items; blank for
  a dimension of two items), on the same respondents.
- Corrected item-total correlation of item i (the item against the sum of the others):
  (sum(C[:, i]) - C[i, i]) / sqrt(C[i, i] * sum(C[-i, -i])), C[-i, -i] being C without row and
  column i.
- No statistics for a dimension answered by fewer than ``MIN_RESPONDENTS`` (30) respondents
  (listwise: fewer than 30 who answered every item), nor when some pair of items was never
  answered together by two; a message says why, and a pair answered together by fewer than 30
  is pointed out.
- Verdict: good when alpha >= 0.8, acceptable when >= 0.7, weak below; an item is flagged when
  its corrected item-total correlation is below 0.3.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .model import Questionnaire
from .responses import read_upload, validate, validate_lenient
from .scoring import cells

MIN_RESPONDENTS = 30
GOOD = 0.8
ACCEPTABLE = 0.7
ITEM_TOTAL_FLAG = 0.3
COLUMNS = ("dimension", "item", "n", "alpha", "alpha_if_deleted", "item_total_r")
# The command line's columns, then what the app shows besides.
TABLE_COLUMNS = (*COLUMNS, "name", "verdict", "flagged", "note")
THRESHOLDS = (f"good: alpha ≥ {GOOD}; acceptable: ≥ {ACCEPTABLE}; weak: below {ACCEPTABLE}; "
              f"an item is flagged when its corrected item-total correlation is below "
              f"{ITEM_TOTAL_FLAG}; no figures below {MIN_RESPONDENTS} respondents")


def verdict(alpha: float) -> str:
    """A plain verdict on one alpha ('' when there is none)."""
    if alpha != alpha:
        return ""
    if alpha >= GOOD:
        return f"good (≥ {GOOD})"
    if alpha >= ACCEPTABLE:
        return f"acceptable (≥ {ACCEPTABLE})"
    return f"weak (< {ACCEPTABLE})"


def item_matrix(answers: pd.DataFrame, questionnaire: Questionnaire) -> np.ndarray:
    """Reverse-coded answers as a (respondents, scored items) array, NaN where not answered;
    a respondent is an (assessment, respondent) pair, items in questionnaire order."""
    c = cells(answers, questionnaire)
    matrix = np.full((len(c.person_assessment), len(questionnaire.scored_questions)), np.nan)
    matrix[c.a_person, c.a_item] = c.a_value
    return matrix


def covariance(x: np.ndarray, listwise: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The covariance matrix of x's columns (ddof 1) and the respondents behind each entry.

    Pairwise: entry (i, j) from the rows where both columns hold a number, with those rows'
    own means; listwise: only rows complete in every column. NaN below two rows.
    """
    present = ~np.isnan(x)
    if listwise:
        complete = present.all(axis=1)
        x, present = x[complete], present[complete]
    counts = present.sum(axis=0)
    # Centred on each column's mean first: a shift leaves covariances as they are, and the
    # one-pass sums below stay exact to many more digits on centred numbers.
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = np.where(counts > 0, np.where(present, x, 0.0).sum(axis=0) / counts, 0.0)
    z = np.where(present, x - centre, 0.0)
    m = present.astype(float)
    n = m.T @ m                  # respondents who answered both i and j
    sums = z.T @ m               # sums[i, j]: sum of item i over those who answered both
    products = z.T @ z
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = (products - sums * sums.T / n) / (n - 1)
    return np.where(n >= 2, cov, np.nan), n.astype(np.int64)


def cronbach_alpha(cov: np.ndarray) -> float:
    """k / (k - 1) * (1 - trace(C) / sum(C)); NaN below two items."""
    k = cov.shape[0]
    if k < 2:
        return float("nan")
    return float(k / (k - 1) * (1 - np.trace(cov) / cov.sum()))


def item_statistics(cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Alpha if each item is deleted, and each item's corrected item-total correlation."""
    k = cov.shape[0]
    variance = np.diag(cov)
    row = cov.sum(axis=1)
    # sum(C[-i, -i]): the total less item i's row and column, its variance counted once back.
    rest = cov.sum() - 2 * row + variance
    with np.errstate(invalid="ignore", divide="ignore"):
        item_total = (row - variance) / np.sqrt(variance * rest)
        if k >= 3:
            deleted = (k - 1) / (k - 2) * (1 - (np.trace(cov) - variance) / rest)
        else:
            deleted = np.full(k, np.nan)
    return deleted, item_total


@dataclass(frozen=True)
class Reliability:
    """The reliability table and what the reader must know about it."""

    table: pd.DataFrame           # TABLE_COLUMNS: a row per dimension, then one per item
    respondents: int              # respondents with at least one scored answer
    listwise: bool
    notes: tuple[str, ...]        # dimensions without figures, and why


def reliability(answers: pd.DataFrame, questionnaire: Questionnaire,
                listwise: bool = False) -> Reliability:
    """Alpha, alpha if an item is deleted and corrected item-total correlations per dimension."""
    matrix = item_matrix(answers, questionnaire)
    scored = questionnaire.scored_questions
    rows, notes = [], []
    for d in questionnaire.dimensions:
        index = [i for i, q in enumerate(scored) if q.dimension == d.id]
        if not index:
            continue
        x = matrix[:, index]
        x = x[~np.isnan(x).all(axis=1)]  # respondents who answered none of these are not in it
        n_dim = int((~np.isnan(x)).all(axis=1).sum()) if listwise else len(x)
        cov, n = covariance(x, listwise)
        item_n = np.diag(n)
        note = ""
        if len(index) < 2:
            note = "one scored item: alpha needs at least two"
        elif n_dim < MIN_RESPONDENTS:
            note = (f"too few respondents: alpha needs at least {MIN_RESPONDENTS}"
                    + (" who answered every item" if listwise else "") + f"; there are {n_dim}")
        elif n.min() < 2:
            note = "some pair of items was never answered together by two respondents"
        if note:
            alpha = float("nan")
            deleted = item_total = np.full(len(index), np.nan)
            notes.append(f"{d.name}: {note}")
        else:
            alpha = cronbach_alpha(cov)
            deleted, item_total = item_statistics(cov)
            if n.min() < MIN_RESPONDENTS:
                note = (f"read with care: some pair of items was answered together by only "
                        f"{int(n.min())} respondents")
                notes.append(f"{d.name}: {note}")
        rows.append((d.id, "", n_dim, alpha, np.nan, np.nan, d.name, verdict(alpha), False,
                     note))
        for j, i in enumerate(index):
            flagged = bool(item_total[j] == item_total[j] and item_total[j] < ITEM_TOTAL_FLAG)
            rows.append((d.id, scored[i].id, int(item_n[j]), np.nan, deleted[j], item_total[j],
                         scored[i].text, "", flagged,
                         f"item-total r below {ITEM_TOTAL_FLAG}" if flagged else ""))
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    table = table.astype({"n": np.int64, "alpha": float, "alpha_if_deleted": float,
                          "item_total_r": float, "flagged": bool})
    answered = int((~np.isnan(matrix)).any(axis=1).sum())
    return Reliability(table, answered, listwise, tuple(notes))


@dataclass(frozen=True)
class InstallationAnswers:
    """Every non-demo respondent's answers to one questionnaire in this installation."""

    answers: pd.DataFrame   # validated, one assessment per workshop ("workshop ID")
    workshops: int          # workshops with at least one answer
    left_out: int           # stored answers that no longer fit the questionnaire


def installation_answers(store, questionnaire: Questionnaire) -> InstallationAnswers:
    """The answers to this questionnaire in every workshop of a real client (never the demo),
    checked against its current version: stored answers that no longer fit are left out and
    counted. `store` is an assessment.store.Store."""
    from .workshop import long_format

    frames = []
    for workshop in store.workshops():
        if workshop.is_demo or questionnaire.id not in workshop.questionnaire_ids:
            continue
        long, _ = long_format(store.answer_frame(workshop.id, questionnaire.id), questionnaire)
        if len(long):
            frames.append(long.assign(assessment=f"workshop {workshop.id}"))
    if not frames:
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in
                              ("assessment", "respondent", "role", "question", "option", "value",
                               "comment")})
        answers, _ = validate_lenient(empty, questionnaire)
        return InstallationAnswers(answers, 0, 0)
    answers, misfits = validate_lenient(pd.concat(frames, ignore_index=True), questionnaire)
    return InstallationAnswers(answers, len(frames), len(misfits))


def uploaded_answers(data: bytes, filename: str, questionnaire: Questionnaire) -> pd.DataFrame:
    """A responses file uploaded in the app (CSV or XLSX), measured against the app's upload
    limits first, then read and refused exactly as the command line refuses it: UploadError or
    ResponsesError, naming rows, questions and values."""
    name, columns, n = read_upload(data, filename)
    return validate(columns, n, questionnaire, source=name)
