"""Scoring rules hold on randomly generated responses, for every shipped questionnaire."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from conftest import MINI_YAML
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference import level_name, reference_score

from assessment.questionnaire import build_questionnaire, load_questionnaire, shipped_questionnaire_paths
from assessment.responses import parse_answers
from assessment.scoring import reverse_code, score
from assessment.yamlsafe import parse_yaml

QUESTIONNAIRES = [load_questionnaire(p) for p in shipped_questionnaire_paths()] + [
    build_questionnaire(parse_yaml(MINI_YAML, "mini.yaml"), "mini.yaml"),
    build_questionnaire(parse_yaml(MINI_YAML.replace("overall: dimensions", "overall: items"),
                                   "items.yaml"), "items.yaml"),
]
IDS = [f"{q.id}-{q.overall}" for q in QUESTIONNAIRES]
SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def responses(draw, q):
    """Rows (assessment, respondent, question, value) with gaps, n/a and absent rows."""
    rows = []
    scored = q.scored_questions
    for a in range(draw(st.integers(1, 3))):
        for r in range(draw(st.integers(1, 6))):
            # Each respondent answers a random share, so some fall below half in a dimension.
            share = draw(st.sampled_from([0.0, 0.3, 0.6, 1.0]))
            for question in scored:
                if draw(st.floats(0, 1)) > share:
                    if draw(st.booleans()):
                        continue  # no row at all
                    value = "n/a" if question.allow_na and draw(st.booleans()) else ""
                else:
                    value = str(draw(st.integers(q.scale.min, q.scale.max)))
                rows.append((f"A{a}", f"r{r}", question.id, value))
            if not any(row[0] == f"A{a}" and row[1] == f"r{r}" for row in rows):
                rows.append((f"A{a}", f"r{r}", scored[0].id, ""))  # present, nothing answered
    return rows


def frame(rows):
    return pd.DataFrame(rows, columns=["assessment", "respondent", "question", "value"])


def as_reference_rows(rows):
    return [(a, r, qid, None if v in ("", "n/a") else int(v)) for a, r, qid, v in rows]


@pytest.mark.parametrize("q", QUESTIONNAIRES, ids=IDS)
@SETTINGS
@given(data=st.data())
def test_engine_agrees_with_the_reference_scorer(q, data):
    rows = data.draw(responses(q))
    table = score(parse_answers(frame(rows), q), q)
    expected = reference_score(as_reference_rows(rows), q)
    assert len(table) == len(expected)
    for got in table.itertuples(index=False):
        want = expected[(got.assessment, got.dimension)]
        for name, value in want.items():
            actual = getattr(got, name)
            if isinstance(value, float) and math.isnan(value):
                assert math.isnan(actual), (got.dimension, name)
            else:
                assert actual == pytest.approx(value, abs=1e-9), (got.dimension, name)
        assert got.level == level_name(want["score"], q)


@pytest.mark.parametrize("q", QUESTIONNAIRES, ids=IDS)
@SETTINGS
@given(data=st.data())
def test_respondent_and_row_order_do_not_change_scores(q, data):
    rows = data.draw(responses(q))
    shuffled = data.draw(st.permutations(rows))
    first = score(parse_answers(frame(rows), q), q)
    second = score(parse_answers(frame(shuffled), q), q)
    key = ["assessment", "dimension"]
    first = first.sort_values(key).reset_index(drop=True)
    second = second.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(first, second, check_exact=False, atol=1e-12)


@pytest.mark.parametrize("q", QUESTIONNAIRES, ids=IDS)
@SETTINGS
@given(data=st.data())
def test_scores_stay_within_the_scale_and_agreement_within_0_and_1(q, data):
    table = score(parse_answers(frame(data.draw(responses(q))), q), q)
    scores = table["score"].dropna()
    assert ((scores >= q.scale.min - 1e-12) & (scores <= q.scale.max + 1e-12)).all()
    agreement = table["agreement"].dropna()
    assert ((agreement >= 0) & (agreement <= 1)).all()
    coverage = table["coverage"].dropna()
    assert ((coverage >= 0) & (coverage <= 1 + 1e-12)).all()
    assert (table["sd"].dropna() >= 0).all()


@given(lo=st.integers(-10, 10), width=st.integers(1, 20), data=st.data())
def test_reverse_coding_twice_is_the_identity(lo, width, data):
    hi = lo + width
    v = data.draw(st.integers(lo, hi))
    once = reverse_code(v, lo, hi)
    assert lo <= once <= hi
    assert reverse_code(once, lo, hi) == v
