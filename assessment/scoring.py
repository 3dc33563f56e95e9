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

import numpy as np
import pandas as pd

from .model import Questionnaire

SCORE_COLUMNS = ("assessment", "dimension", "score", "level", "respondents", "sd", "agreement",
                 "coverage")
OVERALL = "overall"


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


def scored_answers(answers: pd.DataFrame, questionnaire: Questionnaire) -> pd.DataFrame:
    """The answered scored items, with dimension, weight and reverse-coded value attached."""
    scored = [q for q in questionnaire.questions if q.scored]
    ids = [q.id for q in scored]
    codes = pd.Index(ids).get_indexer(answers["question"])
    keep = (codes >= 0) & answers["value"].notna().to_numpy()
    codes = codes[keep]
    out = answers.loc[keep, ["assessment", "respondent", "question"]].reset_index(drop=True)
    raw = answers["value"].to_numpy(dtype=float)[keep]
    reverse = np.array([q.reverse for q in scored], dtype=bool)[codes]
    out["raw"] = raw
    out["value"] = np.where(reverse, reverse_code(raw, questionnaire.scale.min,
                                                  questionnaire.scale.max), raw)
    out["dimension"] = np.array([q.dimension for q in scored], dtype=object)[codes]
    out["weight"] = np.array([q.weight for q in scored], dtype=float)[codes]
    return out


def respondent_scores(scored: pd.DataFrame, questionnaire: Questionnaire) -> pd.DataFrame:
    """Each respondent's weighted mean per dimension, how many items they answered, and whether
    they count (answered at least half of the dimension's scored items)."""
    items = _items_per_dimension(questionnaire)
    frame = scored.assign(wv=scored["weight"] * scored["value"])
    grouped = frame.groupby(["assessment", "respondent", "dimension"], sort=False)
    out = grouped.agg(wv=("wv", "sum"), w=("weight", "sum"), answered=("value", "size"))
    out = out.reset_index()
    out["score"] = out["wv"] / out["w"]
    out["items"] = out["dimension"].map(items).astype(int)
    out["counts"] = out["answered"] >= 0.5 * out["items"]
    return out.drop(columns=["wv", "w"])


def score(answers: pd.DataFrame, questionnaire: Questionnaire) -> pd.DataFrame:
    """Team scores per assessment and dimension, plus an `overall` row per assessment."""
    assessments = pd.unique(answers["assessment"])
    dims = [d.id for d in questionnaire.dimensions]
    items = pd.Series(_items_per_dimension(questionnaire))
    present = answers.groupby("assessment", sort=False)["respondent"].nunique()

    scored = scored_answers(answers, questionnaire)
    per_respondent = respondent_scores(scored, questionnaire)
    counting = per_respondent[per_respondent["counts"]]
    team = counting.groupby(["assessment", "dimension"], sort=False)["score"].agg(
        score="mean", sd="std", respondents="size")

    grid = pd.MultiIndex.from_product([assessments, dims], names=["assessment", "dimension"])
    table = team.reindex(grid)
    table["respondents"] = table["respondents"].fillna(0).astype(int)
    table.loc[table["respondents"] < 2, "sd"] = np.nan

    answered = scored.groupby(["assessment", "dimension"], sort=False).size().reindex(grid).fillna(0)
    expected = (present.reindex(grid.get_level_values(0)).to_numpy()
                * items.reindex(grid.get_level_values(1)).to_numpy())
    table["coverage"] = answered.to_numpy() / expected

    table["agreement"] = _agreement(scored, per_respondent, questionnaire, items).reindex(grid)
    table = table.reset_index()

    overall = _overall(table, scored, per_respondent, questionnaire, assessments, present)
    result = pd.concat([table, overall], ignore_index=True)
    order = {a: i for i, a in enumerate(assessments)}
    result["_a"] = result["assessment"].map(order)
    result = result.sort_values("_a", kind="stable").drop(columns="_a")
    result["level"] = level_names(result["score"].to_numpy(dtype=float), questionnaire)
    return result.loc[:, list(SCORE_COLUMNS)].reset_index(drop=True)


def level_names(scores: np.ndarray, questionnaire: Questionnaire) -> np.ndarray:
    """The name of the highest level whose threshold is at most each score ('' when none)."""
    thresholds = np.array([lv.threshold for lv in questionnaire.levels], dtype=float)
    names = np.array([lv.name for lv in questionnaire.levels] + [""], dtype=object)
    index = np.searchsorted(thresholds, scores, side="right") - 1
    index = np.where((index < 0) | np.isnan(scores), len(thresholds), index)
    return names[index]


def _items_per_dimension(questionnaire: Questionnaire) -> dict[str, int]:
    counts = {d.id: 0 for d in questionnaire.dimensions}
    for q in questionnaire.scored_questions:
        counts[q.dimension] += 1
    return counts


def _agreement(scored, per_respondent, questionnaire, items) -> pd.Series:
    """rwg(j) per (assessment, dimension); every answer counts, counting respondent or not."""
    by_item = scored.groupby(["assessment", "dimension", "question"], sort=False)["raw"].agg(
        ["var", "size"])
    by_item = by_item[by_item["size"] >= 2]
    s2 = by_item.groupby(level=["assessment", "dimension"], sort=False)["var"].mean()
    raters = per_respondent.groupby(["assessment", "dimension"], sort=False).size()
    s2 = s2.reindex(raters.index)
    j = items.reindex(raters.index.get_level_values("dimension")).to_numpy()
    value = rwg_j(s2.to_numpy(), j, questionnaire.scale.points)
    return pd.Series(np.where(raters.to_numpy() >= 2, value, np.nan), index=raters.index)


def _overall(table, scored, per_respondent, questionnaire, assessments, present) -> pd.DataFrame:
    total_items = len(questionnaire.scored_questions)
    answered = scored.groupby("assessment", sort=False).size().reindex(assessments).fillna(0)
    coverage = answered.to_numpy() / (present.reindex(assessments).to_numpy() * total_items)
    out = pd.DataFrame({"assessment": assessments, "dimension": OVERALL, "coverage": coverage,
                        "agreement": np.nan})
    if questionnaire.overall == "items":
        frame = scored.assign(wv=scored["weight"] * scored["value"])
        person = frame.groupby(["assessment", "respondent"], sort=False).agg(
            wv=("wv", "sum"), w=("weight", "sum"), answered=("value", "size"))
        person = person[person["answered"] >= 0.5 * total_items]
        person_score = person["wv"] / person["w"]
        team = person_score.groupby(level="assessment", sort=False).agg(["mean", "std", "size"])
        team = team.reindex(assessments)
        out["score"] = team["mean"].to_numpy()
        out["respondents"] = team["size"].fillna(0).astype(int).to_numpy()
        out["sd"] = np.where(out["respondents"] >= 2, team["std"].to_numpy(), np.nan)
        return out
    weights = pd.Series({d.id: d.weight for d in questionnaire.dimensions})
    has = table["score"].notna()
    w = table["dimension"].map(weights).where(has, 0.0)
    wv = (table["score"].fillna(0) * w).groupby(table["assessment"], sort=False).sum()
    wsum = w.groupby(table["assessment"], sort=False).sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["score"] = (wv / wsum.where(wsum > 0)).reindex(assessments).to_numpy()
    counted = per_respondent[per_respondent["counts"]].groupby("assessment", sort=False)[
        "respondent"].nunique()
    out["respondents"] = counted.reindex(assessments).fillna(0).astype(int).to_numpy()
    out["sd"] = np.nan
    return out


def allocation_summary(answers: pd.DataFrame, questionnaire: Questionnaire) -> pd.DataFrame:
    """Mean points per option of each allocation question, over the respondents who answered."""
    alloc = {q.id: q for q in questionnaire.questions if q.type == "allocation"}
    rows = answers[answers["question"].isin(list(alloc)) & answers["value"].notna()]
    columns = ["assessment", "question", "option", "label", "mean_points", "respondents"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    people = rows.groupby(["assessment", "question"], sort=False)["respondent"].nunique()
    points = rows.groupby(["assessment", "question", "option"], sort=False)["value"].sum()
    out = (points / people.reindex(points.index.droplevel("option")).to_numpy()).rename(
        "mean_points").reset_index()
    out["respondents"] = people.reindex(
        pd.MultiIndex.from_frame(out[["assessment", "question"]])).to_numpy()
    labels = {(q.id, o.id): o.label for q in alloc.values() for o in q.options}
    out["label"] = [labels.get(k, "") for k in zip(out["question"], out["option"], strict=True)]
    return out.loc[:, columns]
