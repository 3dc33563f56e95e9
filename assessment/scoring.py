"""Score answers into maturity: pure, vectorised pandas/numpy, every rule stated here.

Rules (the README repeats them):

1. Values are whole numbers on the questionnaire's scale; blank, ``n/a`` or ``na`` means not
   answered. A reverse-coded value v is scored as min + max - v.
2. A respondent's dimension score is the weighted mean (question weights) of the scored items
   (``level`` and ``likert``) they answered in that dimension. It counts only if they answered
   at least half of that dimension's scored items.
3. The team's dimension score is the mean over the respondents who count; ``respondents`` is
   how many count; ``sd`` is their sample standard deviation (ddof=1, blank for one respondent);
   ``coverage`` is answered scored items / (respondents present x scored items in the
   dimension), a respondent being present with at least one row in the assessment.
4. ``agreement`` is rwg(j) (James, Demaree and Wolf, 1984) against a uniform null:
   sigma_EU^2 = (A^2 - 1) / 12 for A scale points; s^2 is the mean over the dimension's items
   of each item's variance (ddof=1) across everyone who answered it (items with fewer than two
   answers left out); J is the number of scored items in the dimension;
   rwg(j) = J(1 - s^2/sigma_EU^2) / (J(1 - s^2/sigma_EU^2) + s^2/sigma_EU^2), and 0 when
   s^2 >= sigma_EU^2. Blank when fewer than two respondents answered any item of the dimension.
5. The level is the highest level whose threshold is at most the unrounded score.
6. Overall, rule ``dimensions``: the weighted mean (dimension weights) of the team's dimension
   scores, dimensions without a score left out; ``respondents`` counts those who count in at
   least one dimension. Rule ``items``: each respondent's weighted mean of all scored items
   they answered (counted only if they answered at least half of all scored items), then the
   mean over respondents; ``respondents`` counts those. ``coverage`` overall is answered scored
   items / (respondents present x all scored items); ``sd`` is given under the items rule only;
   ``agreement`` is blank.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .model import Questionnaire

SCORE_COLUMNS = ("assessment", "dimension", "score", "level", "respondents", "sd", "agreement",
                 "coverage")
OVERALL = "overall"
LEVEL_TOLERANCE = 1e-9


def reverse_code(values, scale_min: float, scale_max: float):
    """A reverse-coded value v becomes min + max - v."""
    return scale_min + scale_max - values


def rwg_j(s2, items, scale_points):
    """rwg(j) for mean item variance s2 over J items on an A-point scale (uniform null)."""
    s2 = np.asarray(s2, dtype=float)
    ratio = s2 / ((scale_points**2 - 1) / 12.0)
    j = np.asarray(items, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = j * (1 - ratio) / (j * (1 - ratio) + ratio)
    return np.where(np.isnan(s2), np.nan, np.where(ratio >= 1, 0.0, value))


def _factorize(values) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes in order of first appearance, and the distinct values."""
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
        # Factorizing the integer codes is fast and keeps the order of first appearance.
        codes, used = pd.factorize(values.cat.codes.to_numpy())
        names = np.asarray(values.cat.categories, dtype=object)[used]
        return codes.astype(np.int64), names
    codes, uniques = pd.factorize(np.asarray(values, dtype=object))
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


@dataclass(frozen=True)
class Cells:
    """Scored answers reduced to arrays: persons x dimensions, assessments x items."""

    assessments: np.ndarray      # names, in order of first appearance
    person_assessment: np.ndarray  # assessment index of each person
    person_name: np.ndarray      # respondent name of each person
    present: np.ndarray          # persons with any row, per assessment
    items: np.ndarray            # scored items per dimension
    answered: np.ndarray         # (persons, dimensions) items answered
    score: np.ndarray            # (persons, dimensions) weighted mean, NaN when none answered
    counts: np.ndarray           # (persons, dimensions) answered at least half the items
    # per scored answer: person, scored-item index, raw and reverse-coded value, weight
    a_person: np.ndarray
    a_item: np.ndarray
    a_raw: np.ndarray
    a_value: np.ndarray
    a_weight: np.ndarray


def cells(answers: pd.DataFrame, questionnaire: Questionnaire) -> Cells:
    """Reduce validated answers to per-person, per-dimension arrays (rules 1 and 2)."""
    scored = questionnaire.scored_questions
    dims = [d.id for d in questionnaire.dimensions]
    dim_of_item = np.array([dims.index(q.dimension) for q in scored], dtype=np.int64)
    n_dims = len(dims)
    items = np.bincount(dim_of_item, minlength=n_dims)

    assessment, assessments = _factorize(answers["assessment"])
    respondent, respondents = _factorize(answers["respondent"])
    person, first = pd.factorize(assessment * (len(respondents) + 1) + respondent)
    person_assessment = (first // (len(respondents) + 1)).astype(np.int64)
    person_name = respondents[first % (len(respondents) + 1)]
    n_people = len(first)
    present = np.bincount(person_assessment, minlength=len(assessments))

    question, qnames = _factorize(answers["question"])
    item = pd.Index([q.id for q in scored]).get_indexer(qnames)[question]
    raw = answers["value"].to_numpy(dtype=float)
    keep = (item >= 0) & ~np.isnan(raw)
    a_person, a_item, a_raw = person[keep], item[keep], raw[keep]
    reverse = np.array([q.reverse for q in scored], dtype=bool)[a_item]
    a_value = np.where(reverse, reverse_code(a_raw, questionnaire.scale.min,
                                             questionnaire.scale.max), a_raw)
    a_weight = np.array([q.weight for q in scored], dtype=float)[a_item]

    cell = a_person * n_dims + dim_of_item[a_item]
    size = n_people * n_dims
    answered = np.bincount(cell, minlength=size).reshape(n_people, n_dims)
    weights = np.bincount(cell, a_weight, minlength=size).reshape(n_people, n_dims)
    weighted = np.bincount(cell, a_weight * a_value, minlength=size).reshape(n_people, n_dims)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(answered > 0, weighted / weights, np.nan)
    counts = (answered > 0) & (answered >= 0.5 * items)
    return Cells(assessments, person_assessment, person_name, present, items, answered, score,
                 counts, a_person, a_item, a_raw, a_value, a_weight)


def respondent_scores(answers: pd.DataFrame, questionnaire: Questionnaire) -> pd.DataFrame:
    """Each respondent's score per dimension, items answered, and whether they count."""
    c = cells(answers, questionnaire)
    n_people, n_dims = c.score.shape
    return pd.DataFrame({
        "assessment": np.repeat(c.assessments[c.person_assessment], n_dims),
        "respondent": np.repeat(c.person_name, n_dims),
        "dimension": np.tile(np.array([d.id for d in questionnaire.dimensions], dtype=object),
                             n_people),
        "score": c.score.ravel(),
        "answered": c.answered.ravel(),
        "items": np.tile(c.items, n_people),
        "counts": c.counts.ravel(),
    })


def _group_mean_sd(groups: np.ndarray, values: np.ndarray, n_groups: int):
    """Mean, sample sd (ddof=1, NaN below two) and count of values per group, two-pass."""
    n = np.bincount(groups, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(groups, values, minlength=n_groups) / n
        squares = np.bincount(groups, (values - mean[groups]) ** 2, minlength=n_groups)
        sd = np.where(n >= 2, np.sqrt(squares / (n - 1)), np.nan)
    return mean, sd, n


def score(answers: pd.DataFrame, questionnaire: Questionnaire) -> pd.DataFrame:
    """Team scores per assessment and dimension, plus an `overall` row per assessment."""
    c = cells(answers, questionnaire)
    n_assess, n_dims = len(c.assessments), c.score.shape[1]
    grid = n_assess * n_dims
    person_cell = (c.person_assessment[:, None] * n_dims + np.arange(n_dims)).ravel()

    counting = c.counts.ravel()
    mean, sd, respondents = _group_mean_sd(person_cell[counting], c.score.ravel()[counting], grid)

    item_dim = np.array([questionnaire.dimensions.index(questionnaire.dimension(q.dimension))
                         for q in questionnaire.scored_questions], dtype=np.int64)
    answer_assessment = c.person_assessment[c.a_person]
    answered = np.bincount(answer_assessment * n_dims + item_dim[c.a_item], minlength=grid)
    with np.errstate(invalid="ignore", divide="ignore"):
        coverage = answered / (np.repeat(c.present, n_dims) * np.tile(c.items, n_assess))

    # Agreement: every answer counts, whether or not its respondent counts toward the score.
    n_items = len(item_dim)
    _, item_sd, item_n = _group_mean_sd(answer_assessment * n_items + c.a_item, c.a_raw,
                                        n_assess * n_items)
    usable = item_n >= 2
    item_cell = (np.arange(n_assess * n_items) // n_items) * n_dims + item_dim[
        np.arange(n_assess * n_items) % n_items]
    with np.errstate(invalid="ignore", divide="ignore"):
        s2 = (np.bincount(item_cell[usable], item_sd[usable] ** 2, minlength=grid)
              / np.bincount(item_cell[usable], minlength=grid))
    raters = np.bincount(person_cell[(c.answered > 0).ravel()], minlength=grid)
    agreement = np.where(raters >= 2, rwg_j(s2, np.tile(c.items, n_assess),
                                            questionnaire.scale.points), np.nan)

    dims = pd.DataFrame({
        "assessment": np.repeat(c.assessments, n_dims),
        "dimension": np.tile(np.array([d.id for d in questionnaire.dimensions], dtype=object),
                             n_assess),
        "score": np.where(respondents > 0, mean, np.nan),
        "respondents": respondents,
        "sd": sd,
        "agreement": agreement,
        "coverage": coverage,
    })
    overall = _overall(c, dims, questionnaire)
    result = pd.concat([dims, overall], ignore_index=True)
    order = np.concatenate([np.arange(grid) // n_dims * (n_dims + 1) + np.arange(grid) % n_dims,
                            np.arange(n_assess) * (n_dims + 1) + n_dims])
    result = result.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)
    result["level"] = level_names(result["score"].to_numpy(dtype=float), questionnaire)
    result["respondents"] = result["respondents"].astype(int)
    return result.loc[:, list(SCORE_COLUMNS)]


def level_names(scores: np.ndarray, questionnaire: Questionnaire) -> np.ndarray:
    """The name of the highest level whose threshold is at most each score ('' when none)."""
    thresholds = np.array([lv.threshold for lv in questionnaire.levels], dtype=float)
    names = np.array([lv.name for lv in questionnaire.levels] + [""], dtype=object)
    # A score that is exactly a threshold in arithmetic may come out a hair below it in
    # floating point (sums in another order); such noise must not move a team down a level.
    index = np.searchsorted(thresholds, scores + LEVEL_TOLERANCE, side="right") - 1
    index = np.where((index < 0) | np.isnan(scores), len(thresholds), index)
    return names[index]


def _overall(c: Cells, dims: pd.DataFrame, questionnaire: Questionnaire) -> pd.DataFrame:
    n_assess, n_dims = len(c.assessments), len(questionnaire.dimensions)
    total_items = int(c.items.sum())
    answered = np.bincount(c.person_assessment[c.a_person], minlength=n_assess)
    with np.errstate(invalid="ignore", divide="ignore"):
        coverage = answered / (c.present * total_items)
    if questionnaire.overall == "items":
        n_people = len(c.person_assessment)
        count = np.bincount(c.a_person, minlength=n_people)
        with np.errstate(invalid="ignore", divide="ignore"):
            person_score = (np.bincount(c.a_person, c.a_weight * c.a_value, minlength=n_people)
                            / np.bincount(c.a_person, c.a_weight, minlength=n_people))
        counts = (count > 0) & (count >= 0.5 * total_items)
        mean, sd, n = _group_mean_sd(c.person_assessment[counts], person_score[counts], n_assess)
        score = np.where(n > 0, mean, np.nan)
    else:
        scores = dims["score"].to_numpy(dtype=float).reshape(n_assess, n_dims)
        weights = np.array([d.weight for d in questionnaire.dimensions], dtype=float)
        w = np.where(np.isnan(scores), 0.0, weights)
        with np.errstate(invalid="ignore", divide="ignore"):
            score = np.where(w.sum(axis=1) > 0,
                             (np.nan_to_num(scores) * w).sum(axis=1) / w.sum(axis=1), np.nan)
        n = np.bincount(c.person_assessment[c.counts.any(axis=1)], minlength=n_assess)
        sd = np.full(n_assess, np.nan)
    return pd.DataFrame({"assessment": c.assessments, "dimension": OVERALL, "score": score,
                         "respondents": n, "sd": sd, "agreement": np.nan, "coverage": coverage})


def allocation_summary(answers: pd.DataFrame, questionnaire: Questionnaire) -> pd.DataFrame:
    """Mean points per option of each allocation question, over the respondents who answered."""
    alloc = {q.id: q for q in questionnaire.questions if q.type == "allocation"}
    columns = ["assessment", "question", "option", "label", "mean_points", "respondents"]
    values = answers["value"].to_numpy(dtype=float)
    question, qnames = _factorize(answers["question"])
    rows = np.flatnonzero(np.isin(qnames, list(alloc))[question] & ~np.isnan(values))
    if not len(rows):
        return pd.DataFrame(columns=columns)
    assessment, anames = _factorize(answers["assessment"])
    option, onames = _factorize(answers["option"])
    respondent, rnames = _factorize(answers["respondent"])
    a, q, o = assessment[rows], question[rows], option[rows]
    # Groups in order of first appearance, as a group-by without sorting gives them.
    pair, pair_first = pd.factorize(a * len(qnames) + q)
    group, group_first = pd.factorize((a * len(qnames) + q) * len(onames) + o)
    first = np.unique(group, return_index=True)[1]  # each group's first row
    group_pair = pair[first]
    # Respondents per assessment and question: each (pair, respondent) counted once.
    people = np.bincount(pair[np.unique(pair * (len(rnames) + 1) + respondent[rows],
                                        return_index=True)[1]], minlength=len(pair_first))
    points = np.bincount(group, values[rows], minlength=len(group_first))
    g_question = qnames[q[first]]
    g_option = onames[o[first]]
    labels = {(x.id, y.id): y.label for x in alloc.values() for y in x.options}
    return pd.DataFrame({
        "assessment": anames[a[first]],
        "question": g_question,
        "option": g_option,
        "label": [labels.get(k, "") for k in zip(g_question, g_option, strict=True)],
        "mean_points": points / people[group_pair],
        "respondents": people[group_pair],
    }, columns=columns)
