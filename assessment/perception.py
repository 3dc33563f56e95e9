"""The perception gap: how each group (executives, managers, front line) scores each dimension,
and whether the others see it differently from leadership by more than chance.

Rules (the README repeats them):

- A group is the respondents of one role; its score in a dimension is the mean of its members'
  dimension scores, for the members who count there (scoring rule 2); ``sd`` with ddof 1.
- The gap is the group's score minus leadership's (the ``executive`` role): negative when the
  group sees the dimension lower than leadership does.
- Welch's t test: se = sqrt(s1^2/n1 + s2^2/n2); df (Welch-Satterthwaite) =
  se^4 / ((s1^2/n1)^2/(n1 - 1) + (s2^2/n2)^2/(n2 - 1)); the 95% interval is
  gap +/- t(0.975, df) * se; the gap is **larger than chance** when that interval leaves out 0
  (the same as a two-sided p below 0.05).
- Anonymity: a group of fewer than ``MIN_GROUP`` (5) people in a dimension is never shown. A group
  is also held back when the people left out would otherwise number 1 to 4 (the smallest shown
  group other than leadership first), since their score could be worked out from the team's
  score; and nothing is shown for a dimension where leadership itself is held back or no other
  group is left to compare with.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from .model import Questionnaire
from .scoring import respondent_scores

MIN_GROUP = 5
LEADERSHIP = "executive"
CONFIDENCE = 0.95
GROUPS = ("executive", "manager", "frontline", "other")  # the store's roles, in this order
GROUP_NAMES = {"executive": "Executives", "manager": "Managers", "frontline": "Front line",
               "other": "Other"}
COLUMNS = ("dimension", "name", "group", "group_name", "n", "score", "sd", "gap", "low", "high",
           "t", "df", "p", "beyond_chance")


# ---------------------------------------------------------------- Student's t without scipy

def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the regularised incomplete beta function (modified Lentz)."""
    tiny, eps = 1e-300, 1e-16
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        for aa in (m * (b - m) * x / ((qam + m2) * (a + m2)),
                   -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + aa / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < eps:
            break
    return h


def _log_gamma_ratio(a: float, b: float) -> float:
    """log(Gamma(a + b) / Gamma(a)), accurate for large a too (Stirling's series, where the
    difference of two large lgamma values would lose digits)."""
    if a < 50:
        return math.lgamma(a + b) - math.lgamma(a)
    c = a + b
    series = (1 / (12 * c) - 1 / (12 * a)) - (1 / (360 * c**3) - 1 / (360 * a**3)) \
        + (1 / (1260 * c**5) - 1 / (1260 * a**5))
    return (a - 0.5) * math.log1p(b / a) + b * math.log(c) - b + series


def incomplete_beta(a: float, b: float, x: float, y: float | None = None,
                    log_x: float | None = None, log_y: float | None = None) -> float:
    """The regularised incomplete beta function I_x(a, b). y = 1 - x, log_x and log_y may be
    given when the caller knows them more exactly than they can be computed from x."""
    y = 1.0 - x if y is None else y
    if x <= 0.0:
        return 0.0
    if y <= 0.0:
        return 1.0
    log_x = math.log(x) if log_x is None else log_x
    log_y = math.log(y) if log_y is None else log_y
    big, small = (a, b) if a >= b else (b, a)
    front = math.exp(_log_gamma_ratio(big, small) - math.lgamma(small)
                     + a * log_x + b * log_y)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_fraction(a, b, x) / a
    return 1.0 - front * _beta_fraction(b, a, y) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with df degrees of freedom (df > 0, not necessarily whole)."""
    t2 = t * t
    if t2 == 0:
        return 0.5
    x, y = df / (df + t2), t2 / (df + t2)
    tail = 0.5 * incomplete_beta(df / 2.0, 0.5, x, y, -math.log1p(t2 / df),
                                 math.log(t2) - math.log(df + t2))
    return 1.0 - tail if t > 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The t such that P(T <= t) = p: bisection on t_cdf to machine precision."""
    if not 0.0 < p < 1.0 or not df > 0:
        raise ValueError(f"t_quantile needs 0 < p < 1 and df > 0, not p={p!r}, df={df!r}")
    if p == 0.5:
        return 0.0
    low, high = 0.0, 1.0
    target = max(p, 1.0 - p)
    while t_cdf(high, df) < target:
        low, high = high, high * 2.0
    for _ in range(200):
        middle = 0.5 * (low + high)
        if middle in (low, high):
            break
        if t_cdf(middle, df) < target:
            low = middle
        else:
            high = middle
    t = 0.5 * (low + high)
    return t if p > 0.5 else -t


@dataclass(frozen=True)
class Welch:
    """Welch's t test of a difference of two means, with its interval."""

    gap: float
    se: float
    df: float
    t: float
    p: float
    low: float
    high: float

    @property
    def beyond_chance(self) -> bool:
        """The interval leaves out 0."""
        return bool(self.low > 0 or self.high < 0)


def welch(mean1: float, sd1: float, n1: int, mean2: float, sd2: float, n2: int,
          confidence: float = CONFIDENCE) -> Welch:
    """Group 2 minus group 1: the gap, Welch-Satterthwaite df and the two-sided interval."""
    mean1, sd1, mean2, sd2 = float(mean1), float(sd1), float(mean2), float(sd2)
    v1, v2 = sd1 * sd1 / n1, sd2 * sd2 / n2
    gap = mean2 - mean1
    se = math.sqrt(v1 + v2)
    if se == 0:  # both groups answered alike to a person: no spread to test against
        return Welch(gap, 0.0, float("nan"), float("nan"), float("nan"), gap, gap)
    df = (v1 + v2) ** 2 / (v1 * v1 / (n1 - 1) + v2 * v2 / (n2 - 1))
    t = gap / se
    half = t_quantile(0.5 + confidence / 2, df) * se
    p = 2.0 * t_cdf(-abs(t), df)
    return Welch(gap, se, df, t, p, gap - half, gap + half)


# ---------------------------------------------------------------- the gap per dimension

@dataclass(frozen=True)
class PerceptionGap:
    """What may be shown, and which groups were held back."""

    table: pd.DataFrame            # COLUMNS: per dimension, leadership first, then the others
    held_back: tuple[str, ...]     # group names held back somewhere, in GROUPS order
    groups: dict[str, int]         # respondents per known role (with a score in any dimension)


def _roles(answers: pd.DataFrame) -> pd.Series:
    """Each respondent's role (lower case; '' when not given), by (assessment, respondent)."""
    frame = pd.DataFrame({"assessment": answers["assessment"].astype(str).to_numpy(),
                          "respondent": answers["respondent"].astype(str).to_numpy(),
                          "role": answers["role"].astype(str).str.strip().str.lower().to_numpy()
                          if "role" in answers else ""})
    frame = frame[frame["role"] != ""].drop_duplicates(["assessment", "respondent"])
    return frame.set_index(["assessment", "respondent"])["role"]


def perception_gap(answers: pd.DataFrame, questionnaire: Questionnaire,
                   leadership: str = LEADERSHIP, min_group: int = MIN_GROUP) -> PerceptionGap:
    """Each group's score per dimension and its gap to leadership, with Welch's interval."""
    people = respondent_scores(answers, questionnaire)
    people = people[people["counts"].to_numpy(dtype=bool)]
    roles = _roles(answers)
    key = pd.MultiIndex.from_arrays([people["assessment"].astype(str),
                                     people["respondent"].astype(str)])
    people = people.assign(role=roles.reindex(key).fillna("").to_numpy())
    stats = (people.groupby(["dimension", "role"], sort=False)["score"]
             .agg(["mean", "std", "count"]))
    total = people.groupby("dimension", sort=False).size()
    names = {d.id: d.name for d in questionnaire.dimensions}
    rows, held = [], set()
    for d in questionnaire.dimensions:
        if d.id not in total.index:
            continue
        sizes = {g: int(stats.loc[(d.id, g), "count"]) for g in GROUPS
                 if (d.id, g) in stats.index}
        shown = [g for g in sizes if sizes[g] >= min_group]
        # Held back until those left out are none or at least min_group: fewer could be
        # worked out from the team's score and the groups shown.
        while 0 < int(total[d.id]) - sum(sizes[g] for g in shown) < min_group:
            others = [g for g in shown if g != leadership]
            if not others:
                shown = []
                break
            shown.remove(min(reversed(others), key=sizes.get))
        if leadership not in shown or len(shown) < 2:
            shown = []
        held.update(g for g in sizes if g not in shown)
        if not shown:
            continue
        lead = stats.loc[(d.id, leadership)]
        for g in [leadership, *[g for g in GROUPS if g in shown and g != leadership]]:
            s = stats.loc[(d.id, g)]
            row = {"dimension": d.id, "name": names[d.id], "group": g,
                   "group_name": GROUP_NAMES.get(g, g), "n": int(s["count"]),
                   "score": float(s["mean"]), "sd": float(s["std"])}
            if g != leadership:
                w = welch(float(lead["mean"]), float(lead["std"]), int(lead["count"]),
                          float(s["mean"]), float(s["std"]), int(s["count"]))
                row.update(gap=w.gap, low=w.low, high=w.high, t=w.t, df=w.df, p=w.p,
                           beyond_chance=w.beyond_chance)
            rows.append(row)
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    table["beyond_chance"] = table["beyond_chance"].astype("boolean")
    everyone = roles[roles.isin(GROUPS)].value_counts()
    return PerceptionGap(table, tuple(GROUP_NAMES[g] for g in GROUPS if g in held),
                         {g: int(everyone.get(g, 0)) for g in GROUPS})


def threshold_sentence(min_group: int = MIN_GROUP) -> str:
    """The anonymity rule, in one sentence for the screen and the workbook."""
    return (f"Groups of fewer than {min_group} people are never shown on their own, so that "
            f"nobody's answers can be singled out; a group is also held back when the people "
            f"left out would number 1 to {min_group - 1}, since their score could otherwise be "
            f"worked out from the team's.")


TEST_SENTENCE = ("The gap is the group's score minus leadership's (negative: they see it lower). "
                 "It is larger than chance when Welch's t test's 95% interval for the gap leaves "
                 "out 0.")


# ---------------------------------------------------------------- the workbook's sheet

SHEET = "Perception gap"


def perception_sheet(wb, report, questionnaires: dict[str, Questionnaire] | None = None) -> None:
    """Add the "Perception gap" sheet to a plan workbook (before Method) when at least one
    group can be compared with leadership; computed from the report's Responses, scored
    against the shipped questionnaires (or those given)."""
    from .export import WRAP, header, put  # here: export imports this module
    from .questionnaire import load_shipped
    from .responses import validate_lenient

    frame = report.responses
    if frame is None or frame.empty or "role" not in frame:
        return
    value = "value" if "value" in frame else "answer"
    questionnaires = questionnaires if questionnaires is not None else load_shipped()
    tables = []
    for qid in dict.fromkeys(frame["questionnaire"].astype(str)):
        q = questionnaires.get(qid)
        if q is None:
            continue
        mine = frame[frame["questionnaire"].astype(str) == qid]
        long = pd.DataFrame({"assessment": "report", "respondent": mine["respondent"].astype(str),
                             "role": mine["role"].astype(str), "question": mine["question"],
                             "option": mine["option"].astype(str),
                             "value": mine[value].astype(str), "comment": ""}, dtype=object)
        answers, _ = validate_lenient(long.reset_index(drop=True), q)
        table = perception_gap(answers, q).table
        if len(table):
            tables.append(table.assign(questionnaire=q.title))
    if not tables:
        return
    table = pd.concat(tables, ignore_index=True)
    at = wb.sheetnames.index("Method") if "Method" in wb.sheetnames else len(wb.sheetnames)
    ws = wb.create_sheet(SHEET, at)
    names = ["Questionnaire", "Dimension", "Group", "People", "Score", "SD",
             "Gap to executives", "95% interval from", "to", "Larger than chance"]
    header(ws, 1, names, [26, 34, 14, 9, 9, 9, 12, 12, 12, 14])
    for r, row in enumerate(table.itertuples(index=False), start=2):
        gap = row.gap == row.gap
        for c, cell in enumerate([row.questionnaire, row.name, row.group_name, row.n, row.score,
                                  row.sd, row.gap if gap else None, row.low if gap else None,
                                  row.high if gap else None,
                                  ("yes" if row.beyond_chance else "no") if gap else ""],
                                 start=1):
            put(ws, r, c, cell, "0.00" if c in (5, 6, 7, 8, 9) else None)
    notes = [TEST_SENTENCE, threshold_sentence(),
             "Score: the mean of the group's members who count in the dimension (they answered "
             "at least half of its questions)."]
    for i, note in enumerate(notes, start=len(table) + 3):
        put(ws, i, 1, note).alignment = WRAP
        ws.merge_cells(start_row=i, start_column=1, end_row=i, end_column=len(names))
        ws.row_dimensions[i].height = 30
    ws.freeze_panes = "A2"
