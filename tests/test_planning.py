"""The plan ranks actions by the stated rules: commitment first, quick wins, value, dependencies."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from assessment.actions import load_actions
from assessment.planning import (
    PlanError,
    default_target,
    default_tiers,
    gaps,
    importance_from_tradeoffs,
    make_plan,
    plan_frame,
    score_text,
)
from assessment.questionnaire import load_shipped
from assessment.yamlsafe import DataFileError

SHIPPED = load_shipped()
DIMENSIONS = {d.id for q in SHIPPED.values() for d in q.dimensions}
LIBRARY = """\
version: "1.0"
actions:
  - {id: le-2-01, dimension: leadership, step: 2, title: Lead a customer day, description: d, effort: M, impact: 3, owner: CEO, measure: m}
  - {id: le-2-02, dimension: leadership, step: 2, title: Open board with customers, description: d, effort: S, impact: 2, owner: CEO, measure: m}
  - {id: ea-2-01, dimension: ease, step: 2, title: Fix the top complaint, description: d, effort: S, impact: 5, owner: COO, measure: m}
  - {id: ea-2-02, dimension: ease, step: 2, title: Rebuild the journey, description: d, effort: L, impact: 5, owner: COO, measure: m}
  - {id: ea-2-03, dimension: ease, step: 2, title: Train on the new journey, description: d, effort: S, impact: 3, owner: HR, measure: m, depends_on: [ea-2-02]}
  - {id: ea-3-01, dimension: ease, step: 3, title: Measure effort, description: d, effort: M, impact: 4, owner: COO, measure: m}
  - {id: pe-2-01, dimension: people, step: 2, title: Coach the front line, description: d, effort: M, impact: 4, owner: HR, measure: m}
"""


@pytest.fixture
def library(write):
    return load_actions(write("actions.yaml", LIBRARY), dimensions=DIMENSIONS)


def scores(**values) -> pd.DataFrame:
    where = {d.id: q.id for q in SHIPPED.values() for d in q.dimensions}
    return pd.DataFrame([{"questionnaire": where[d], "dimension": d, "score": v}
                         for d, v in values.items()])


def ranked(library, targets=None, importance=None, **values) -> list[str]:
    plan = make_plan(gaps(scores(**values), SHIPPED, targets, importance), library,
                     date(2026, 1, 1))
    return [item.action.id for item in plan]


@pytest.mark.parametrize(("score", "target"), [
    (1.2, 1.5), (2.0, 2.5), (2.5, 3.5), (3.49, 3.5), (4.4, 4.5), (4.8, 4.5), (5.0, 4.5),
])
def test_the_default_target_is_one_level_up_capped_at_the_top(score, target):
    assert default_target(score, SHIPPED["commitment"]) == target


def test_leadership_actions_lead_while_commitment_is_below_level_3(library):
    # leadership 2.0 (Aware): its actions come first although ease's are worth more
    order = ranked(library, leadership=2.0, ease=2.0, people=2.0)
    assert order[:2] == ["le-2-02", "le-2-01"] or order[:2] == ["le-2-01", "le-2-02"]
    assert set(order[:2]) == {"le-2-01", "le-2-02"}


def test_once_commitment_reaches_level_3_quick_wins_then_value_decide(library):
    order = ranked(library, leadership=2.5, ease=2.0, people=2.0)
    # leadership at 2.5 is Developing (level 3): no leadership actions (step 3 has none here)
    assert not [a for a in order if a.startswith("le")]
    assert order[0] == "ea-2-01"  # quick win: impact 5, small effort


def test_an_action_never_comes_before_one_it_depends_on(library):
    order = ranked(library, leadership=3.0, ease=2.0)
    assert order.index("ea-2-02") < order.index("ea-2-03")


def test_priority_value_is_gap_times_importance_times_impact_over_effort(library):
    dimension_gaps = gaps(scores(ease=2.0, people=2.0), SHIPPED)
    plan = {i.action.id: i for i in make_plan(dimension_gaps, library, date(2026, 1, 1))}
    # ease 2.0 -> target 2.5: gap 0.5; importance 1; impact 4, effort M (2)
    assert plan["pe-2-01"].value == pytest.approx(0.5 * 1 * 4 / 2)
    assert plan["ea-2-02"].value == pytest.approx(0.5 * 1 * 5 / 3)


def test_a_bigger_gap_raises_the_priority(library):
    near = ranked(library, ease=2.4, people=2.0)
    far = ranked(library, ease=1.6, people=2.4)
    assert near.index("pe-2-01") < near.index("ea-2-02")
    assert far.index("ea-2-02") < far.index("pe-2-01")


def test_importance_comes_from_the_points_given_to_linked_priorities(library):
    allocations = pd.DataFrame({
        "question": ["tr_alloc"] * 2, "option": ["customer_experience", "people_capability"],
        "label": ["x", "y"], "mean_points": [100 / 6 * 2, 100 / 6 / 4], "respondents": [5, 5]})
    rankings = pd.DataFrame(columns=["question", "option", "label", "mean_rank", "respondents"])
    importance = importance_from_tradeoffs(allocations, rankings, SHIPPED)
    assert importance["ease"][0] == pytest.approx(2.0)
    assert importance["people"][0] == pytest.approx(0.5)  # 0.25 bounded to 0.5
    assert "points" in importance["ease"][1]
    dimension_gaps = {g.dimension: g for g in gaps(scores(ease=2.0, people=2.0), SHIPPED,
                                                   importance=importance)}
    assert dimension_gaps["ease"].importance == 2.0
    assert dimension_gaps["ease"].gap == 0.5


def test_dimensions_at_their_target_get_no_actions(library):
    assert ranked(library, ease=4.8) == []
    assert ranked(library, targets={"ease": 2.0}, ease=2.0) == []


def test_a_benchmark_target_within_the_level_still_brings_the_next_step(library):
    order = ranked(library, targets={"ease": 2.3}, ease=2.0)
    assert "ea-2-01" in order and "ea-3-01" not in order


def test_a_target_two_levels_up_brings_both_steps(library):
    order = ranked(library, targets={"ease": 3.6}, ease=2.0)
    assert {"ea-2-01", "ea-3-01"} <= set(order)


def test_phases_follow_effort_and_dependencies(library):
    plan = {i.action.id: i for i in make_plan(gaps(scores(ease=2.0), SHIPPED), library,
                                              date(2026, 1, 1))}
    assert plan["ea-2-01"].phase == "First 90 days"
    assert plan["ea-2-02"].phase == "6-12 months"
    assert plan["ea-2-03"].phase == "6-12 months"  # small, but after the large rebuild
    assert plan["ea-2-01"].due == date(2026, 4, 1)


def test_every_action_says_why_in_one_plain_sentence_and_the_numbers_go_to_details(library):
    plan = make_plan(gaps(scores(leadership=2.0, ease=2.0), SHIPPED), library, date(2026, 1, 1),
                     tuple(lv.name for lv in SHIPPED["commitment"].levels))
    why = {i.action.id: i.why for i in plan}
    details = {i.action.id: i.details for i in plan}
    assert why["le-2-01"] == "Leadership commitment comes first: it is below Developing."
    assert why["ea-2-01"].startswith("A quick win for Ease of doing business (Aware now, aiming "
                                     "for Developing)")
    assert why["ea-2-03"].endswith("; it builds on 'Rebuild the journey'.")
    for sentence in why.values():
        assert sentence.count(". ") == 0 and sentence.endswith(".")
        assert not any(ch.isdigit() for ch in sentence)  # the numbers are in the details
    assert details["le-2-01"].startswith("Score 2.00 (Aware); target 2.50 (Developing); gap "
                                         "0.50; importance 1.00")
    assert "priority value" in details["ea-2-01"] and "quick win" in details["ea-2-01"]
    frame = plan_frame(plan)
    assert list(frame["priority"]) == list(range(1, len(plan) + 1))
    assert set(frame["status"]) == {"Not started"}


def test_the_most_vital_dimension_is_named_so_in_its_why(library):
    importance = {"leadership": (1.5, "x"), "ease": (1.2, "y")}
    plan = make_plan(gaps(scores(leadership=2.0, ease=2.0), SHIPPED, importance=importance),
                     library, date(2026, 1, 1), tuple(lv.name for lv in SHIPPED["commitment"].levels))
    why = {i.action.id: i.why for i in plan}
    assert why["le-2-01"] == ("Leadership commitment comes first: it is below Developing and the "
                              "team ranked it most vital.")
    assert why["ea-2-01"].endswith(", and the team's own priorities favour it.")


@pytest.mark.parametrize(("score", "computed", "agreed", "text"), [
    (2.6, 3.24, 2.6, "agreed 2.6; computed 3.24"),
    (3.0, 2.456, 3.0, "agreed 3.0; computed 2.46"),
    (3.25, 3.1, 3.25, "agreed 3.25; computed 3.10"),
    (3.24, 3.24, None, "3.24"),
    (3.24, 3.24, float("nan"), "3.24"),
])
def test_a_score_reads_agreed_then_computed(score, computed, agreed, text):
    assert score_text(score, computed, agreed) == text


def test_an_agreed_score_is_the_teams_score_for_target_and_gap():
    frame = pd.DataFrame([{"questionnaire": "commitment", "dimension": "leadership",
                           "score": 2.6, "computed_score": 3.24, "agreed_score": 2.6,
                           "rationale": "We overrate ourselves"}])
    (gap,) = gaps(frame, SHIPPED)
    assert (gap.score, gap.computed, gap.agreed) == (2.6, 3.24, 2.6)
    assert gap.level_name == "Developing" and gap.target == 3.5
    assert gap.gap == pytest.approx(0.9)  # 3.5 - 2.6; the computed 3.24 would give 0.26
    assert gap.score_text == "agreed 2.6; computed 3.24"
    assert gap.rationale == "We overrate ourselves"


def shipped_plan(tiers=None, **values):
    library = load_actions(dimensions=DIMENSIONS)
    return make_plan(gaps(scores(**values), SHIPPED), library, date(2026, 1, 1), (), tiers)


def test_the_default_plan_has_at_most_five_priorities_two_per_dimension():
    plan = shipped_plan(leadership=2.0, ease=1.8, people=1.9, insight=2.2, purpose=2.1)
    priorities = [i for i in plan if i.tier == "Priority"]
    assert 3 <= len(priorities) <= 5 < len(plan)
    assert max(Counter(i.gap.dimension for i in priorities).values()) <= 2
    assert [i.tier for i in plan] == sorted((i.tier for i in plan),
                                            key=["Priority", "Backlog"].index)
    placed = {i.action.id for i in priorities}
    for item in priorities:  # a priority never waits for an action of the backlog
        assert all(d in placed for d in item.action.depends_on
                   if d in {i.action.id for i in plan})


def test_one_dimension_alone_still_gets_three_priorities_dependencies_first(library):
    plan = make_plan(gaps(scores(ease=2.0), SHIPPED), library, date(2026, 1, 1))
    assert [i.tier for i in plan] == ["Priority"] * 3
    ranked = [i.action for i in sorted(plan, key=lambda i: i.priority)]
    assert default_tiers(ranked) == {"ea-2-01", "ea-2-02", "ea-2-03"}

def test_an_action_ranked_before_its_dependency_waits_in_the_backlog(library):
    actions = library.by_id()
    order = [actions[a] for a in ("ea-2-03", "ea-2-01", "le-2-01", "pe-2-01", "ea-2-02")]
    assert default_tiers(order) == {"ea-2-01", "le-2-01", "pe-2-01", "ea-2-02"}


def test_the_facilitators_choice_overrides_the_rule_for_that_action_with_the_reason(library):
    values = scores(leadership=2.0, ease=2.0, people=2.0)
    before = {i.action.id: i for i in make_plan(gaps(values, SHIPPED), library,
                                                date(2026, 1, 1))}
    backlog = next(a for a, i in before.items() if i.tier == "Backlog")
    priority = next(a for a, i in before.items() if i.tier == "Priority")
    after = make_plan(gaps(values, SHIPPED), library, date(2026, 1, 1), (),
                      {backlog: ("priority", "The board asked for it."),
                       priority: ("dropped", "")})
    tiers = {i.action.id: i for i in after}
    assert tiers[backlog].tier == "Priority" and tiers[backlog].rule_tier == "Backlog"
    assert tiers[backlog].why == "The team made it a priority: The board asked for it."
    assert before[backlog].why in tiers[backlog].details  # the rules' sentence is kept
    assert tiers[priority].tier == "Dropped" and tiers[priority].why == "The team dropped it."
    assert after[-1].action.id == priority  # dropped actions come last


def test_an_unknown_tier_is_refused_naming_it(library):
    with pytest.raises(PlanError, match="not 'urgent'") as caught:
        make_plan(gaps(scores(ease=2.0), SHIPPED), library, date(2026, 1, 1), (),
                  {"ea-2-01": ("urgent", "")})
    assert caught.value.value == "urgent"


def test_planning_never_imports_the_yaml_loader():
    code = ("import sys, assessment.planning; "
            "print(sorted(m for m in sys.modules if m in ('assessment.actions', "
            "'assessment.questionnaire', 'assessment.yamlsafe', 'yaml')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).parents[1])
    assert out.stdout.strip() == "[]"


BAD_LIBRARY = [
    ("unknown effort", "effort: M, impact: 3, owner: CEO", "effort: XL, impact: 3, owner: CEO", 3,
     "must be S, M or L"),
    ("impact out of range", "effort: M, impact: 3", "effort: M, impact: 9", 3, "must be 1 to 5"),
    ("step out of range", "step: 2, title: Lead", "step: 5, title: Lead", 3, "must be 1, 2, 3 or 4"),
    ("unknown dependency", "depends_on: [ea-2-02]", "depends_on: [zz-9-99]", 7,
     "depends on unknown action 'zz-9-99'"),
    ("duplicate title", "title: Open board with customers", "title: Lead a customer day", 4,
     "duplicate action title"),
    ("unknown dimension", "dimension: people", "dimension: morale", 9, "unknown dimension"),
    ("unknown field", "measure: m}\n  - {id: le-2-02", "measure: m, cost: 5}\n  - {id: le-2-02", 3,
     "unknown field 'cost'"),
]


@pytest.mark.parametrize(("case", "old", "new", "line", "message"), BAD_LIBRARY,
                         ids=[b[0] for b in BAD_LIBRARY])
def test_a_bad_action_library_is_refused_with_file_and_line(write, case, old, new, line, message):
    path = write("actions.yaml", LIBRARY.replace(old, new, 1))
    with pytest.raises(DataFileError) as caught:
        load_actions(path, dimensions=DIMENSIONS)
    assert any(str(p).startswith(f"{path}:{line}: ") and message in str(p)
               for p in caught.value.problems), caught.value.problems


def test_circular_dependencies_are_refused(write):
    text = LIBRARY.replace("owner: COO, measure: m}\n  - {id: ea-2-03",
                           "owner: COO, measure: m, depends_on: [ea-2-03]}\n  - {id: ea-2-03")
    with pytest.raises(DataFileError, match="go round in a circle"):
        load_actions(write("actions.yaml", text), dimensions=DIMENSIONS)


def test_importance_also_comes_from_what_the_team_says_matters_to_customers():
    allocations = pd.DataFrame(columns=["question", "option", "label", "mean_points",
                                        "respondents"])
    rankings = pd.DataFrame({"question": ["pr_matters", "pr_matters"],
                             "option": ["easy", "understood"], "label": ["e", "u"],
                             "mean_rank": [1.0, 5.0], "respondents": [4, 4]})
    importance = importance_from_tradeoffs(allocations, rankings, SHIPPED)
    # five options: the middle rank is 3; rank 1 gives (5 + 1 - 1) / 3, rank 5 gives 1 / 3
    assert importance["ease"][0] == pytest.approx(5 / 3)
    assert importance["insight"][0] == pytest.approx(0.5)  # 1/3 bounded to 0.5
    assert "ranked 1.0 of 5" in importance["ease"][1]
