"""The perception gap: each group's score against leadership's, Welch's t interval (worked by
hand and against scipy), groups below five never shown, the workbook's sheet and the results
page's section."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import openpyxl
import pandas as pd
import pytest
from conftest import ROOT, open_workshop_as
from scipy import stats

from assessment.perception import (
    MIN_GROUP,
    SHEET,
    perception_gap,
    perception_sheet,
    t_cdf,
    t_quantile,
    welch,
)
from assessment.questionnaire import load_shipped
from assessment.responses import parse_answers

# ---------------------------------------------------------------- Student's t without scipy

# Two-sided 95% and 99% critical values from a printed t table (to the digits printed there).
T_TABLE = [(1, 0.975, 12.706205), (2, 0.975, 4.302653), (5, 0.975, 2.570582),
           (8, 0.975, 2.306004), (10, 0.975, 2.228139), (30, 0.975, 2.042272),
           (120, 0.975, 1.979930), (5, 0.995, 4.032143), (20, 0.995, 2.845340)]


@pytest.mark.parametrize("df, p, t", T_TABLE)
def test_t_quantile_matches_the_printed_table(df, p, t):
    assert t_quantile(p, df) == pytest.approx(t, abs=1e-6)
    assert t_quantile(1 - p, df) == pytest.approx(-t, abs=1e-6)


@pytest.mark.parametrize("df", [1.0, 1.7, 3.3, 7.529411764705882, 12.25, 57.9, 1e4, 1e5])
@pytest.mark.parametrize("p", [0.6, 0.9, 0.975, 0.995, 0.9995])
def test_t_quantile_and_cdf_match_scipy_for_any_degrees_of_freedom(df, p):
    assert t_quantile(p, df) == pytest.approx(stats.t.ppf(p, df), rel=1e-10)
    assert t_cdf(stats.t.ppf(p, df), df) == pytest.approx(p, abs=1e-12)


def test_t_quantile_refuses_what_has_no_answer():
    with pytest.raises(ValueError, match="0 < p < 1"):
        t_quantile(1.0, 5)


@pytest.mark.parametrize("seed, n1, n2", [(1, 5, 5), (2, 6, 11), (3, 30, 7), (4, 9, 40)])
def test_welch_matches_scipy(seed, n1, n2):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(3.5, 0.6, n1), rng.normal(2.9, 1.1, n2)
    w = welch(a.mean(), a.std(ddof=1), n1, b.mean(), b.std(ddof=1), n2)
    ref = stats.ttest_ind(b, a, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert (w.t, w.df, w.p) == pytest.approx((ref.statistic, ref.df, ref.pvalue), rel=1e-9)
    assert (w.low, w.high) == pytest.approx((ci.low, ci.high), rel=1e-9)
    assert w.beyond_chance is bool(ref.pvalue < 0.05)


# ---------------------------------------------------------------- by hand

def answers_for(scores: dict[str, list[float]]) -> pd.DataFrame:
    """Validated answers to the shipped 'proposition' questionnaire in which each respondent
    gives one value to every scored question (reverse-coded ones turned round), so that their
    score in every dimension is that value."""
    q = load_shipped()["proposition"]
    rows = []
    for role, values in scores.items():
        for i, v in enumerate(values):
            for x in q.scored_questions:
                rows.append({"assessment": "W", "respondent": f"{role}-{i}", "role": role,
                             "question": x.id, "option": "",
                             "value": str(6 - v if x.reverse else v), "comment": ""})
    return parse_answers(pd.DataFrame(rows, dtype=object), q), q


# Executives 3 4 5 4 4 (mean 4, variance 0.5) and front line 1 2 3 2 2 (mean 2, variance 0.5);
# managers 4 people (never shown), one "other". Welch: se = sqrt(0.5/5 + 0.5/5) = sqrt(0.2);
# df = 0.2^2 / (0.1^2/4 + 0.1^2/4) = 8; t(0.975, 8) = 2.306004 (t table);
# interval = -2 -/+ 2.306004 * 0.447214 = -2 -/+ 1.031276: -3.031276 .. -0.968724.
HAND = {"executive": [3, 4, 5, 4, 4], "frontline": [1, 2, 3, 2, 2], "manager": [5, 5, 4, 5],
        "other": [3]}
HAND_EXPECTED = [
    # group, n, score, gap, low, high
    ("executive", 5, 4.0, None, None, None),
    ("frontline", 5, 2.0, -2.0, -3.031276, -0.968724),
]


def test_the_gap_on_a_hand_computed_case():
    answers, q = answers_for(HAND)
    table = perception_gap(answers, q).table
    assert set(table["dimension"]) == {d.id for d in q.dimensions}
    for dimension, rows in table.groupby("dimension", sort=False):
        got = list(rows[["group", "n", "score", "gap", "low", "high"]].itertuples(index=False))
        assert len(got) == len(HAND_EXPECTED), dimension
        for row, (group, n, score, gap, low, high) in zip(got, HAND_EXPECTED, strict=True):
            assert (row.group, row.n) == (group, n)
            assert row.score == pytest.approx(score, abs=1e-12)
            if gap is None:
                assert math.isnan(row.gap)
                continue
            assert row.gap == pytest.approx(gap, abs=1e-12)
            assert (row.low, row.high) == pytest.approx((low, high), abs=1e-6)
    frontline = table[table["group"] == "frontline"].iloc[0]
    assert frontline["df"] == pytest.approx(8.0, abs=1e-12)
    assert bool(frontline["beyond_chance"]) is True  # the interval leaves out 0


def test_a_group_of_4_is_never_shown():
    answers, q = answers_for(HAND)
    result = perception_gap(answers, q)
    assert "manager" not in set(result.table["group"])
    assert "Managers" in result.held_back and result.groups["manager"] == 4


@pytest.mark.parametrize("groups, shown", [
    # five and five, nobody else: both shown
    ({"executive": [4] * 3 + [3] * 2, "frontline": [2] * 3 + [3] * 2}, {"executive", "frontline"}),
    # four managers beside them: their score could be worked out from the team's, so the
    # smallest other group goes too, and with no comparison left nothing is shown
    ({"executive": [4] * 3 + [3] * 2, "frontline": [2] * 3 + [3] * 2, "manager": [5] * 4}, set()),
    # four managers and one other person: five left out together, nothing to work out
    ({"executive": [4] * 3 + [3] * 2, "frontline": [2] * 3 + [3] * 2, "manager": [5] * 4,
      "other": [1]}, {"executive", "frontline"}),
    # four executives: no leadership to compare with
    ({"executive": [4] * 4, "frontline": [2] * 6, "manager": [3] * 5}, set()),
    # everyone at five or more
    ({"executive": [4] * 5, "frontline": [2] * 6, "manager": [3] * 5},
     {"executive", "frontline", "manager"}),
])
def test_which_groups_are_shown(groups, shown):
    answers, q = answers_for(groups)
    table = perception_gap(answers, q).table
    assert set(table["group"]) == shown
    assert (table["n"] >= MIN_GROUP).all()


def test_groups_without_spread_have_a_gap_but_no_test():
    answers, q = answers_for({"executive": [4] * 5, "frontline": [2] * 5})
    row = perception_gap(answers, q).table.query("group == 'frontline'").iloc[0]
    assert row["gap"] == -2 and row["low"] == row["high"] == -2 and math.isnan(row["p"])


# ---------------------------------------------------------------- the workbook

def report_of(groups: dict[str, list[float]]) -> SimpleNamespace:
    """What the workbook's hook reads from a plan report: its Responses."""
    answers, q = answers_for(groups)
    return SimpleNamespace(responses=pd.DataFrame({
        "respondent": answers["respondent"].astype(str), "role": answers["role"].astype(str),
        "questionnaire": q.id, "question": answers["question"].astype(str), "text": "",
        "option": answers["option"].astype(str), "answer": answers["raw"].astype(str),
        "comment": ""}))


def test_the_workbook_gets_a_perception_gap_sheet_before_method():
    wb = openpyxl.Workbook()
    wb.active.title = "Summary"
    wb.create_sheet("Method")
    perception_sheet(wb, report_of(HAND))
    assert wb.sheetnames == ["Summary", SHEET, "Method"]
    ws = wb[SHEET]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:4] == ("Questionnaire", "Dimension", "Group", "People")
    frontline = [r for r in rows[1:] if r[2] == "Front line"]
    assert len(frontline) == 3  # one per dimension of 'proposition'
    people, score, sd, gap, low, high, larger = frontline[0][3:10]
    assert (people, score, gap, larger) == (5, pytest.approx(2.0), pytest.approx(-2.0), "yes")
    assert sd == pytest.approx(math.sqrt(0.5))
    assert (low, high) == pytest.approx((-3.031276, -0.968724), abs=1e-6)
    assert not any(r[2] == "Managers" for r in rows[1:])
    text = " ".join(str(v) for r in rows for v in r if v)
    assert "fewer than 5 people" in text and "Welch" in text


def test_no_sheet_when_no_group_can_be_compared():
    wb = openpyxl.Workbook()
    wb.create_sheet("Method")
    perception_sheet(wb, report_of({"executive": [4, 3, 5], "manager": [3, 2]}))
    assert SHEET not in wb.sheetnames


def test_the_plan_command_writes_the_perception_gap_sheet(tmp_path):
    import subprocess
    import sys

    answers, _ = answers_for(HAND)
    responses = tmp_path / "answers.csv"
    pd.DataFrame({"assessment": "Board", "respondent": answers["respondent"].astype(str),
                  "role": answers["role"].astype(str), "question": answers["question"].astype(str),
                  "option": "", "value": answers["raw"].astype(str), "comment": ""}
                 ).to_csv(responses, index=False)
    out = tmp_path / "plan.xlsx"
    result = subprocess.run([sys.executable, "-m", "assessment", "plan", "proposition", responses,
                             "--xlsx", out], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames.index(SHEET) == wb.sheetnames.index("Method") - 1
    rows = [r for r in wb[SHEET].iter_rows(values_only=True) if r[2] == "Front line"]
    assert [r[6] for r in rows] == [pytest.approx(-2.0)] * 3
    assert [r[7] for r in rows] == [pytest.approx(-3.031276, abs=1e-6)] * 3


# ---------------------------------------------------------------- the results page

def join_and_answer(store, workshop, roles: dict[str, list[int]]) -> None:
    q = load_shipped()["proposition"]
    for role, values in roles.items():
        for i, v in enumerate(values):
            person, _ = store.join(workshop.code, f"{role} {i}", role)
            store.save_answers(person.id, q.id, [(x.id, "", str(6 - v if x.reverse else v))
                                                 for x in q.scored_questions])


def results_page(db, workshop):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    open_workshop_as(at, db, workshop)
    at.run()
    at.switch_page("app_pages/results.py").run()
    assert not at.exception, at.exception
    at.radio(key="results_questionnaire").set_value("proposition").run()
    assert not at.exception, at.exception
    return at


def page_text(at) -> str:
    parts = [e.value for kind in ("markdown", "caption", "subheader", "info", "warning")
             for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts).replace("\\", "").replace("\u2060", "")


def new_workshop(db):
    client = db.create_client("Acme")
    made = db.create_workshop(client.id, "Board", ["proposition"])
    return made[0] if isinstance(made, tuple) else made


def test_the_results_page_shows_the_gap_as_a_chart_and_a_table(db):
    workshop = new_workshop(db)
    join_and_answer(db, workshop, HAND)
    at = results_page(db, workshop)
    text = page_text(at)
    assert "perception gap" in text and "fewer than 5 people are never shown" in text
    assert "Welch" in text and "leaves out 0" in text
    gaps = next(d.value for d in at.dataframe if "group_name" in d.value.columns)
    assert list(gaps["group_name"]) == ["Executives", "Front line"] * 3
    assert gaps["gap"].dropna().tolist() == pytest.approx([-2.0] * 3)
    assert "Managers" not in set(gaps["group_name"])
    assert "Not shown on their own" in text and "Managers" in text
    specs = [c.proto.spec for c in at.get("vega_lite_chart") if '"gap"' in c.proto.spec]
    assert len(specs) == 1 and "Front line" in specs[0] and "Managers" not in specs[0]


def test_the_demo_has_no_group_of_five_and_says_so(db):
    from assessment.demo import DEMO_TEAM, create_demo

    roles = pd.Series([r for _, r in DEMO_TEAM]).value_counts()
    assert roles.max() < MIN_GROUP  # the demo's team: 3 executives, 2 managers, 1 front line
    workshop = create_demo(db, load_shipped(), read_only=False)
    at = results_page(db, workshop)
    text = page_text(at)
    assert "No group can be compared with the executives yet" in text
    assert "executives 3, managers 2, front line 1" in text
    assert not any("group_name" in d.value.columns for d in at.dataframe)
