"""The scoring engine follows the stated rules on hand-computed examples."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from assessment.responses import parse_answers
from assessment.scoring import allocation_summary, reverse_code, rwg_j, score


def answers(rows, q):
    """rows: (respondent, question, value[, option[, assessment]]) -> validated answers."""
    frame = pd.DataFrame(
        [{"assessment": r[4] if len(r) > 4 else "A", "respondent": r[0], "question": r[1],
          "option": r[3] if len(r) > 3 else "", "value": "" if r[2] is None else str(r[2])}
         for r in rows])
    return parse_answers(frame, q)


def row(table, dimension, assessment="A"):
    found = table[(table["assessment"] == assessment) & (table["dimension"] == dimension)]
    assert len(found) == 1
    return found.iloc[0]


def close(a, b):
    return (math.isnan(a) and math.isnan(b)) if (isinstance(b, float) and math.isnan(b)) else \
        a == pytest.approx(b, abs=1e-9)


# Mini: d1 = q1, q2 (q2 reverse-coded), weights 1; d2 = q3 (weight 1, n/a allowed), q4 (weight 3);
# dimension weights d1 = 1, d2 = 2; scale 1..5 so sigma_EU^2 = (25 - 1) / 12 = 2.
HAND_CASES = [
    # (case, answers, dimension, score, level, respondents, sd, agreement, coverage)
    ("one respondent, reverse-coded item",
     [("ann", "q1", 4), ("ann", "q2", 2)], "d1", 4.0, "High", 1, math.nan, math.nan, 1.0),
    ("weighted mean within a dimension",
     [("ann", "q3", 1), ("ann", "q4", 5)], "d2", (1 + 15) / 4, "High", 1, math.nan, math.nan, 1.0),
    ("half the items answered still counts",
     # ann 2 (1 of 2 items), bob 4; only q1 has two answers, variance 2 = sigma_EU^2
     [("ann", "q1", 2), ("bob", "q1", 4), ("bob", "q2", 2)], "d1", 3.0, "Middle", 2,
     math.sqrt(2), 2 * (1 - 2 / 2) / (2 * (1 - 2 / 2) + 2 / 2), 0.75),
    ("perfect agreement",
     [("ann", "q1", 3), ("ann", "q2", 3), ("bob", "q1", 3), ("bob", "q2", 3)], "d1", 3.0,
     "Middle", 2, 0.0, 1.0, 1.0),
    ("variance above the uniform null gives agreement 0",
     # ann scores 1 and bob 5 on both items; each item's variance is 8 > sigma_EU^2 = 2
     [("ann", "q1", 1), ("ann", "q2", 5), ("bob", "q1", 5), ("bob", "q2", 1)], "d1", 3.0,
     "Middle", 2, math.sqrt(8), 0.0, 1.0),
    ("moderate disagreement",
     # ann 2, bob 2.5 (q2 reversed); item variances 0.5 and 0, so s2 = 0.25 and s2/2 = 0.125
     [("ann", "q1", 2), ("ann", "q2", 4), ("bob", "q1", 3), ("bob", "q2", 4)], "d1", 2.25,
     "Low", 2, math.sqrt(0.125), 2 * (1 - 0.125) / (2 * (1 - 0.125) + 0.125), 1.0),
    ("n/a is not answered, so one of two items is half and counts",
     [("ann", "q3", "n/a"), ("ann", "q4", 4)], "d2", 4.0, "High", 1, math.nan, math.nan, 0.5),
    ("a respondent with no items in a dimension lowers coverage",
     [("ann", "q3", 3), ("ann", "q4", 3), ("bob", "q1", 5)], "d2", 3.0, "Middle", 1, math.nan,
     math.nan, 0.5),
    ("nobody answered the dimension",
     [("ann", "q1", 3)], "d2", math.nan, "", 0, math.nan, math.nan, 0.0),
]


@pytest.mark.parametrize(("case", "given", "dim", "score_", "level", "n", "sd", "rwg", "coverage"),
                         HAND_CASES, ids=[c[0] for c in HAND_CASES])
def test_dimension_scores_match_hand_computed_examples(mini, case, given, dim, score_, level, n,
                                                       sd, rwg, coverage):
    got = row(score(answers(given, mini), mini), dim)
    assert close(got["score"], score_)
    assert got["level"] == level
    assert got["respondents"] == n
    assert close(got["sd"], sd)
    assert close(got["agreement"], rwg)
    assert close(got["coverage"], coverage)


@pytest.fixture
def three(write):
    """Mini with a third item in d1, so that answering one of its items is below half."""
    from conftest import MINI_YAML

    from assessment.questionnaire import load_questionnaire

    text = MINI_YAML.replace(
        "  - {id: q2, dimension: d1, type: likert, text: Second statement., reverse: true}",
        "  - {id: q2, dimension: d1, type: likert, text: Second statement., reverse: true}\n"
        "  - {id: q2b, dimension: d1, type: likert, text: Third statement.}")
    return load_questionnaire(write("three.yaml", text))


def test_respondent_at_exactly_half_coverage_counts(mini):
    table = score(answers([("bob", "q3", 2), ("bob", "q4", 2), ("cy", "q3", 4)], mini), mini)
    d2 = row(table, "d2")
    assert d2["respondents"] == 2  # cy answered 1 of 2 items: half, so she counts
    assert d2["score"] == pytest.approx((2 + 4) / 2)


def test_respondent_below_half_coverage_is_left_out(three):
    table = score(answers([("ann", "q1", 3), ("ann", "q2", 3), ("ann", "q2b", 3),
                           ("bob", "q1", 5)], three), three)
    d1 = row(table, "d1")
    assert d1["respondents"] == 1 and d1["score"] == pytest.approx(3.0)
    assert d1["coverage"] == pytest.approx(4 / 6)
    assert row(table, "overall")["respondents"] == 1


def test_agreement_uses_answers_of_respondents_who_do_not_count(three):
    # bob answered 1 of 3 items and does not count, but his answer enters q1's variance:
    # q1 has 3 and 5, variance 2 = sigma_EU^2, so agreement is 0 rather than blank.
    table = score(answers([("ann", "q1", 3), ("ann", "q2", 3), ("ann", "q2b", 3),
                           ("bob", "q1", 5)], three), three)
    assert row(table, "d1")["agreement"] == 0.0


def test_agreement_is_blank_when_one_respondent_answered_the_dimension(three):
    table = score(answers([("ann", "q1", 3), ("ann", "q2", 3), ("bob", "q3", 4)], three), three)
    assert math.isnan(row(table, "d1")["agreement"])


def test_overall_is_the_weighted_mean_of_dimension_scores(mini):
    table = score(answers([("ann", "q1", 2), ("ann", "q2", 4), ("ann", "q3", 5), ("ann", "q4", 5),
                           ("bob", "q1", 4)], mini), mini)
    d1, d2, overall = row(table, "d1"), row(table, "d2"), row(table, "overall")
    assert d1["score"] == pytest.approx(3.0)  # ann 2 (q2 reversed to 2), bob 4
    assert d2["score"] == pytest.approx(5.0)
    assert overall["score"] == pytest.approx((1 * 3.0 + 2 * 5.0) / 3)
    assert overall["respondents"] == 2
    assert overall["coverage"] == pytest.approx(5 / 8)
    assert overall["level"] == "High"


def test_overall_leaves_out_dimensions_without_a_score(mini):
    table = score(answers([("ann", "q1", 2), ("ann", "q2", 4)], mini), mini)
    assert row(table, "overall")["score"] == pytest.approx(2.0)


def test_mean_of_items_rule_scores_each_respondent_over_all_items(write):
    from conftest import MINI_YAML

    from assessment.questionnaire import load_questionnaire

    q = load_questionnaire(write("items.yaml", MINI_YAML.replace("overall: dimensions",
                                                                   "overall: items")))
    # ann: q1 4, q2 2 -> 4, q3 2, q4 3 (weight 3): (4 + 4 + 2 + 9) / 6 = 19/6
    # bob: answered 2 of 4 = half: q1 5, q3 1 -> (5 + 1) / 2 = 3
    # cy: answered 1 of 4: left out
    table = score(answers([("ann", "q1", 4), ("ann", "q2", 2), ("ann", "q3", 2), ("ann", "q4", 3),
                           ("bob", "q1", 5), ("bob", "q3", 1), ("cy", "q4", 5)], q), q)
    overall = row(table, "overall")
    assert overall["score"] == pytest.approx((19 / 6 + 3) / 2)
    assert overall["respondents"] == 2
    assert overall["sd"] == pytest.approx(np.std([19 / 6, 3], ddof=1))


def test_assessments_are_scored_separately_in_order_of_appearance(mini):
    table = score(answers([("ann", "q1", 5, "", "Zeta"), ("ann", "q2", 1, "", "Zeta"),
                           ("bob", "q1", 1, "", "Alpha"), ("bob", "q2", 5, "", "Alpha")], mini),
                  mini)
    assert list(dict.fromkeys(table["assessment"])) == ["Zeta", "Alpha"]
    assert row(table, "d1", "Zeta")["score"] == 5.0
    assert row(table, "d1", "Alpha")["score"] == 1.0
    assert list(table["dimension"]) == ["d1", "d2", "overall"] * 2


@pytest.mark.parametrize(("s2", "j", "points", "expected"), [
    (0.0, 4, 5, 1.0),
    (2.0, 4, 5, 0.0),
    (3.0, 4, 5, 0.0),
    (1.0, 4, 5, 4 * 0.5 / (4 * 0.5 + 0.5)),
    (1.0, 1, 5, 0.5),
    (4.0, 6, 7, 6 * (1 - 1) / (6 * 0 + 1)),  # sigma_EU^2 = 4 on seven points
    (math.nan, 4, 5, math.nan),
])
def test_rwg_j_matches_the_formula(s2, j, points, expected):
    got = float(rwg_j(s2, j, points))
    assert close(got, expected)


@pytest.mark.parametrize("v", [1, 2, 3, 4, 5])
def test_reverse_coding_maps_v_to_min_plus_max_minus_v(v):
    assert reverse_code(v, 1, 5) == 6 - v


def test_allocations_are_summarised_as_mean_points_per_option(mini):
    got = allocation_summary(answers([("ann", "alloc", 7, "x"), ("ann", "alloc", 3, "y"),
                                      ("bob", "alloc", 10, "x"), ("bob", "alloc", None, "y")],
                                     mini), mini)
    means = dict(zip(got["option"], got["mean_points"], strict=True))
    assert means == {"x": pytest.approx(8.5), "y": pytest.approx(1.5)}
    assert set(got["respondents"]) == {2}


def test_floating_point_noise_at_a_threshold_does_not_lower_the_level(mini):
    from assessment.scoring import level_names

    # 4 - 4e-16 is what a sum in another order can give for an exact 4.0
    got = level_names(np.array([4 - 4e-16, 4.0, 3.99, np.nan]), mini)
    assert list(got) == ["High", "High", "Middle", ""]
