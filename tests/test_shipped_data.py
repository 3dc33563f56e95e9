"""The shipped data files stay honest: they load, cross-reference and cover the instrument."""

from __future__ import annotations

from collections import Counter

import pytest

from assessment.questionnaire import load_shipped, shipped_questionnaire_paths

SHIPPED = load_shipped()
THEMES = {"purpose", "leadership", "insight", "proposition", "ease", "people", "measures",
          "culture", "tradeoffs"}


def test_every_shipped_questionnaire_loads_with_a_unique_id():
    assert len(SHIPPED) == len(shipped_questionnaire_paths())
    assert {"commitment", "proposition", "tradeoffs"} <= set(SHIPPED)


def test_the_instrument_covers_every_theme_once():
    dims = Counter(d.id for q in SHIPPED.values() for d in q.dimensions)
    assert set(dims) >= THEMES
    assert all(n == 1 for n in dims.values()), dims


def test_enough_scored_questions_mostly_level_anchored():
    scored = [x for q in SHIPPED.values() for x in q.scored_questions]
    assert len(scored) >= 45
    assert sum(x.type == "level" for x in scored) > len(scored) / 2


@pytest.mark.parametrize("q", SHIPPED.values(), ids=SHIPPED.keys())
def test_every_dimension_has_at_least_four_scored_questions(q):
    per = Counter(x.dimension for x in q.scored_questions)
    assert all(per[d.id] >= 4 for d in q.dimensions), per


@pytest.mark.parametrize("q", SHIPPED.values(), ids=SHIPPED.keys())
def test_every_question_appears_on_exactly_one_page(q):
    placed = [qid for page in q.pages() for qid in page.question_ids]
    assert sorted(placed) == sorted(x.id for x in q.questions)


def test_the_shipped_questionnaires_share_one_scale_and_one_set_of_levels():
    scales = {(q.scale.min, q.scale.max) for q in SHIPPED.values()}
    levels = {tuple((lv.name, lv.threshold) for lv in q.levels) for q in SHIPPED.values()}
    assert len(scales) == 1 and len(levels) == 1


def test_tradeoffs_asks_for_100_points_including_cost_reduction_and_what_to_stop():
    q = SHIPPED["tradeoffs"]
    alloc = [x for x in q.questions if x.type == "allocation"]
    assert len(alloc) == 1 and alloc[0].total == 100
    assert "cost_reduction" in alloc[0].option_ids
    assert any(x.type == "text" and "stop" in x.text.lower() for x in q.questions)


def test_the_ranking_and_allocation_offer_the_same_priorities():
    # The say-do gap (ranked vital, given few points) compares these option by option.
    q = SHIPPED["tradeoffs"]
    rank = next(x for x in q.questions if x.type == "ranking")
    alloc = next(x for x in q.questions if x.type == "allocation")
    assert rank.option_ids == alloc.option_ids


def test_every_shipped_benchmark_loads_and_its_dimensions_exist_in_its_questionnaire():
    from assessment.benchmarks import SYNTHETIC_LABEL, load_shipped_benchmarks

    benchmarks = load_shipped_benchmarks(SHIPPED)
    assert {"xm-institute-2024", "forrester-anz-2017"} <= set(benchmarks)
    for b in benchmarks.values():
        assert b.provenance.source and b.provenance.sample > 0 and b.provenance.year
        if b.kind == "scores":
            q = SHIPPED[b.questionnaire]
            assert b.questionnaire_version == q.version
            assert {d.dimension for d in b.dimensions} <= {d.id for d in q.dimensions} | {
                "overall"}
            if b.provenance.synthetic:
                assert SYNTHETIC_LABEL in b.provenance.line().lower()


def test_the_published_stage_figures_are_as_cited():
    from assessment.benchmarks import load_shipped_benchmarks

    b = load_shipped_benchmarks(SHIPPED)
    xm = {s.name: s.percent for s in b["xm-institute-2024"].stages}
    assert xm == {"Investigate": 41, "Initiate": 30, "Mobilize": 18, "Scale": None, "Embed": 2}
    assert b["xm-institute-2024"].provenance.sample == 234
    forrester = {s.name: s.percent for s in b["forrester-anz-2017"].stages}
    assert forrester == {"Naive": 31, "Aware": 27, "Committed": 38, "Obsessed": 4}
    assert b["forrester-anz-2017"].provenance.sample == 45


def test_every_option_that_speaks_for_a_dimension_names_a_shipped_one():
    dimensions = {d.id for q in SHIPPED.values() for d in q.dimensions}
    linked = [o.dimension for q in SHIPPED.values() for x in q.questions for o in x.options
              if o.dimension]
    assert linked and set(linked) <= dimensions


def test_the_action_library_has_three_actions_for_every_dimension_and_step():
    from collections import Counter

    from assessment.actions import load_actions

    dimensions = {d.id for q in SHIPPED.values() for d in q.dimensions}
    library = load_actions(dimensions=dimensions)
    per = Counter((a.dimension, a.step) for a in library.actions)
    assert {(d, s) for d in dimensions for s in (1, 2, 3, 4)} <= set(per)
    assert min(per.values()) >= 3
    assert all(a.measure and a.owner and a.description for a in library.actions)
