"""Gaps to targets turned into a ranked, explained change plan.

Rules (the README and the workbook's Method sheet repeat them):

- Target per dimension: one level up from the current level (the next level's threshold),
  capped at the top level; or the benchmark's 75th percentile when a benchmark is chosen; or
  what the team set. Gap = target - score, never below 0.
- Actions: for a dimension with a gap, the library's actions for each step from the current
  level up to the target's level (at least the next step).
- Priority value = gap x importance x impact / effort weight (S 1, M 2, L 3). Importance comes
  from the team's trade-off answers: the points given to, and the rank of, the priorities that
  speak for the dimension, relative to an even share (1 when no answer speaks for it), bounded
  to 0.5..2. Any allocation or ranking option with a `dimension` counts: the trade-off
  priorities and what matters to target customers (proposition) in the shipped instrument.
- Order: while leadership commitment is below level 3, its actions lead the plan; then quick
  wins (impact 4 or more for small effort); then by priority value. An action never comes
  before an action it depends on that is also in the plan.
- Phase by effort (S: first 90 days, M: 3-6 months, L: 6-12 months), never earlier than the
  phase of an action it depends on. Default due date: the end of the phase.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from .actions import Action, ActionLibrary
from .model import Questionnaire
from .scoring import LEVEL_TOLERANCE

PHASES = ("First 90 days", "3-6 months", "6-12 months")
PHASE_DAYS = (90, 182, 365)
EFFORT_WEIGHT = {"S": 1, "M": 2, "L": 3}
EFFORT_WORDS = {"S": "small", "M": "medium", "L": "large"}
EFFORT_PHASE = {"S": 0, "M": 1, "L": 2}
COMMITMENT_DIMENSION = "leadership"
COMMITMENT_LEVEL = 3
IMPORTANCE_BOUNDS = (0.5, 2.0)
STATUSES = ("Not started", "In progress", "Done", "Dropped")


@dataclass(frozen=True)
class DimensionGap:
    """Where a dimension stands against its target."""

    dimension: str
    name: str
    questionnaire: str
    score: float
    level: int            # 1-based index of the current level (0: none)
    level_name: str
    target: float
    target_level: int
    gap: float
    importance: float = 1.0
    importance_reason: str = "no trade-off answer speaks for it"


@dataclass(frozen=True)
class PlanItem:
    """One ranked action with the reason for its place."""

    priority: int
    action: Action
    gap: DimensionGap
    value: float
    quick_win: bool
    commitment_first: bool
    phase_index: int
    due: date
    why: str

    @property
    def phase(self) -> str:
        return PHASES[self.phase_index]


def level_index(score: float, questionnaire: Questionnaire) -> int:
    """1-based index of the highest level whose threshold is at most the score; 0 for none."""
    if score is None or math.isnan(score):
        return 0
    return sum(1 for lv in questionnaire.levels if lv.threshold <= score + LEVEL_TOLERANCE)


def default_target(score: float, questionnaire: Questionnaire) -> float:
    """One level up: the next level's threshold; at the top level, the top threshold."""
    index = level_index(score, questionnaire)
    levels = questionnaire.levels
    return levels[min(index, len(levels) - 1)].threshold


def importance_from_tradeoffs(allocations: pd.DataFrame, rankings: pd.DataFrame,
                              questionnaires: dict[str, Questionnaire]
                              ) -> dict[str, tuple[float, str]]:
    """Per dimension: (importance, reason) from the points and ranks of linked priorities."""
    options = {}
    for q in questionnaires.values():
        for question in q.questions:
            for o in question.options:
                if o.dimension and question.type in ("allocation", "ranking"):
                    options[(question.id, o.id)] = (o.dimension, o.label, question)
    ratios: dict[str, list[tuple[float, str]]] = {}
    for row in allocations.itertuples():
        linked = options.get((row.question, row.option))
        if linked:
            dim, label, question = linked
            even = question.total / len(question.options)
            ratios.setdefault(dim, []).append(
                (row.mean_points / even, f"'{label}' got {row.mean_points:.0f} of "
                                         f"{question.total} points (even share {even:.0f})"))
    for row in rankings.itertuples():
        linked = options.get((row.question, row.option))
        if linked and row.mean_rank == row.mean_rank:  # an option nobody ranked says nothing
            dim, label, question = linked
            middle = (len(question.options) + 1) / 2
            ratios.setdefault(dim, []).append(
                ((len(question.options) + 1 - row.mean_rank) / middle,
                 f"'{label}' ranked {row.mean_rank:.1f} of {len(question.options)} on average"))
    low, high = IMPORTANCE_BOUNDS
    return {dim: (min(high, max(low, sum(r for r, _ in items) / len(items))),
                  "; ".join(reason for _, reason in items))
            for dim, items in ratios.items()}


def gaps(scores: pd.DataFrame, questionnaires: dict[str, Questionnaire],
         targets: dict[str, float] | None = None,
         importance: dict[str, tuple[float, str]] | None = None) -> list[DimensionGap]:
    """Each scored dimension's gap to its target. scores: questionnaire, dimension, score."""
    targets = targets or {}
    importance = importance or {}
    out = []
    for row in scores.itertuples():
        if row.dimension == "overall" or row.questionnaire not in questionnaires:
            continue
        q = questionnaires[row.questionnaire]
        score = float(row.score)
        if math.isnan(score):
            continue
        target = targets.get(row.dimension)
        if target is None or math.isnan(target):
            target = default_target(score, q)
        target = min(max(float(target), q.scale.min), q.scale.max)
        index = level_index(score, q)
        weight, reason = importance.get(row.dimension, (1.0, "no trade-off answer speaks for it"))
        out.append(DimensionGap(
            dimension=row.dimension, name=q.dimension(row.dimension).name,
            questionnaire=q.id, score=score, level=index,
            level_name=q.levels[index - 1].name if index else "",
            target=target, target_level=level_index(target, q), gap=max(0.0, target - score),
            importance=weight, importance_reason=reason))
    return out


def make_plan(dimension_gaps: list[DimensionGap], library: ActionLibrary,
              start: date | None = None,
              level_names: tuple[str, ...] = ()) -> list[PlanItem]:
    """Rank the library's actions for the gaps; see the module's rules."""
    start = start or date.today()
    by_dimension = {g.dimension: g for g in dimension_gaps}
    commitment = by_dimension.get(COMMITMENT_DIMENSION)
    commitment_weak = commitment is not None and commitment.level < COMMITMENT_LEVEL
    candidates: dict[str, tuple[Action, DimensionGap, float]] = {}
    for g in dimension_gaps:
        if g.gap <= 0 or g.level == 0:
            continue
        last = max(g.target_level, g.level + 1)
        steps = set(range(g.level, min(last, 5)))
        for action in library.actions:
            if action.dimension == g.dimension and action.step in steps:
                value = g.gap * g.importance * action.impact / EFFORT_WEIGHT[action.effort]
                candidates[action.id] = (action, g, value)

    def first(action_id: str) -> bool:
        return commitment_weak and candidates[action_id][0].dimension == COMMITMENT_DIMENSION

    def quick(action: Action) -> bool:
        return action.effort == "S" and action.impact >= 4

    def key(action_id: str):
        action, _, value = candidates[action_id]
        return (not first(action_id), not quick(action), -round(value, 9), action.step,
                action.id)

    remaining = sorted(candidates, key=key)
    placed: list[str] = []
    phase_of: dict[str, int] = {}
    def ready(action_id: str) -> bool:
        return all(d in phase_of for d in candidates[action_id][0].depends_on if d in candidates)

    while remaining:
        # The best-ranked action whose dependencies are placed; a validated (acyclic) library
        # always has one, and falling back to the first keeps this from ever looping forever.
        action_id = next((a for a in remaining if ready(a)), remaining[0])
        remaining.remove(action_id)
        action = candidates[action_id][0]
        deps = [d for d in action.depends_on if d in phase_of]
        phase_of[action_id] = max([EFFORT_PHASE[action.effort], *(phase_of[d] for d in deps)])
        placed.append(action_id)

    threshold_name = (level_names[COMMITMENT_LEVEL - 1] if len(level_names) >= COMMITMENT_LEVEL
                      else f"level {COMMITMENT_LEVEL}")
    titles = {a: candidates[a][0].title for a in candidates}
    items = []
    for rank, action_id in enumerate(placed, start=1):
        action, g, value = candidates[action_id]
        deps = [d for d in action.depends_on if d in candidates]
        why = (f"{g.name} is at {g.score:.2f} ({g.level_name}), {g.gap:.2f} below its target of "
               f"{g.target:.2f}; importance {g.importance:.2f} ({g.importance_reason}); impact "
               f"{action.impact} for {EFFORT_WORDS[action.effort]} effort: priority value "
               f"{value:.2f}.")
        if first(action_id):
            why += f" Leadership commitment comes first while it is below {threshold_name}."
        if quick(action):
            why += " Quick win."
        if deps:
            why += " Follows " + ", ".join(f"'{titles[d]}'" for d in deps) + "."
        phase = phase_of[action_id]
        items.append(PlanItem(rank, action, g, value, quick(action), first(action_id), phase,
                              start + timedelta(days=PHASE_DAYS[phase]), why))
    return items


def plan_frame(items: list[PlanItem]) -> pd.DataFrame:
    """The plan as a table, one row per action, in priority order."""
    return pd.DataFrame([{
        "priority": i.priority, "action_id": i.action.id, "dimension": i.gap.name,
        "dimension_id": i.gap.dimension, "action": i.action.title,
        "description": i.action.description, "why": i.why, "effort": i.action.effort,
        "impact": i.action.impact, "phase": i.phase, "owner": i.action.owner, "due": i.due,
        "status": STATUSES[0], "notes": "", "measure": i.action.measure,
        "quick_win": i.quick_win, "value": round(i.value, 3),
    } for i in items], columns=["priority", "action_id", "dimension", "dimension_id", "action",
                                "description", "why", "effort", "impact", "phase", "owner",
                                "due", "status", "notes", "measure", "quick_win", "value"])


def stop_doing(texts: pd.DataFrame, choices: pd.DataFrame) -> list[str]:
    """The team's own 'stop doing / give up' answers, and what it chose about customers."""
    out = [str(a) for a in texts.get("answer", []) if str(a).strip()]
    for row in choices.itertuples():
        if row.count:
            out.append(f"{row.option} (chosen by {row.count})")
    return out
