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
- Score: where the team recorded an agreed score for a dimension, that score is the team's score
  for targets, gaps, priorities and the plan (the computed score stays beside it); otherwise the
  computed score.
- Priorities (the short list that carries the first 90 days): in plan order, an action becomes
  a priority while there are fewer than PRIORITY_MAX (5), its dimension has fewer than
  PRIORITY_PER_DIMENSION (2) and every action it depends on is a priority; if that leaves fewer
  than PRIORITY_MIN (3), the next actions in plan order (dependencies still first) fill up to 3
  whatever their dimension. The rest is the backlog. The facilitator can promote, demote or drop
  any action, with a reason; that choice overrides the rule for that action only.
- Every action's `why` is one plain sentence; the numbers behind it are in `details`.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from .model import Action, ActionLibrary, Decision, Questionnaire
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
PRIORITY_MAX = 5
PRIORITY_MIN = 3
PRIORITY_PER_DIMENSION = 2
# The facilitator's choice as stored (plan_items.tier) and as shown.
TIERS = {"priority": "Priority", "backlog": "Backlog", "dropped": "Dropped"}
TIER_ORDER = tuple(TIERS.values())

__all__ = ["Action", "ActionLibrary", "Decision", "DimensionGap", "PlanItem", "TIERS",
           "default_tiers", "gaps", "make_plan", "plan_frame", "score_text", "stop_doing_inputs"]


class PlanError(ValueError):
    """A facilitator's choice the plan cannot take (an unknown tier); carries the value."""

    def __init__(self, message: str, value):
        super().__init__(message)
        self.value = value


def number_text(value: float) -> str:
    """2.6 as '2.6', 3.0 as '3.0', 3.245 as '3.25': as few decimals as the value needs (1-2)."""
    return f"{value:.1f}" if abs(round(value, 1) - value) < 1e-9 else f"{value:.2f}"


def score_text(score: float, computed: float | None = None, agreed: float | None = None) -> str:
    """'agreed 2.6; computed 3.24' where the team agreed a score, else '3.24'."""
    if agreed is not None and not math.isnan(agreed):
        shown = "—" if computed is None or math.isnan(computed) else f"{computed:.2f}"
        return f"agreed {number_text(agreed)}; computed {shown}"
    return "—" if score is None or math.isnan(score) else f"{score:.2f}"


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
    computed: float = math.nan      # the score computed from the answers
    agreed: float | None = None     # the team's agreed score, when recorded (then score = agreed)
    rationale: str = ""
    target_level_name: str = ""

    @property
    def score_text(self) -> str:
        """'agreed 2.6; computed 3.24', or the computed score alone."""
        return score_text(self.score, self.computed, self.agreed)


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
    tier: str = "Backlog"           # Priority, Backlog or Dropped
    details: str = ""               # the numbers behind `why`
    tier_reason: str = ""           # the facilitator's reason, when they chose the tier
    rule_tier: str = "Backlog"      # what the rules alone would give

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
    """Each scored dimension's gap to its target. scores: questionnaire, dimension, score, and
    optionally agreed_score, computed_score and rationale: an agreed score (not NaN) is the
    team's score."""
    targets = targets or {}
    importance = importance or {}
    out = []
    for row in scores.itertuples():
        if row.dimension == "overall" or row.questionnaire not in questionnaires:
            continue
        q = questionnaires[row.questionnaire]
        computed = float(getattr(row, "computed_score", row.score))
        agreed = getattr(row, "agreed_score", None)
        agreed = None if agreed is None or pd.isna(agreed) else float(agreed)
        score = agreed if agreed is not None else float(row.score)
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
            importance=weight, importance_reason=reason, computed=computed, agreed=agreed,
            rationale=_text(getattr(row, "rationale", "")),
            target_level_name=q.levels[level_index(target, q) - 1].name
            if level_index(target, q) else ""))
    return out


def _text(value) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def default_tiers(order: list[Action]) -> set[str]:
    """The ids of the priorities the rules choose from the actions in plan order (module rules):
    at most PRIORITY_MAX, at most PRIORITY_PER_DIMENSION per dimension, dependencies first; up
    to PRIORITY_MIN whatever the dimension when that leaves fewer."""
    present = {a.id for a in order}
    chosen: list[str] = []
    per_dimension: Counter = Counter()

    def ready(action: Action) -> bool:
        return all(d in chosen for d in action.depends_on if d in present)

    for action in order:
        if len(chosen) >= PRIORITY_MAX:
            break
        if per_dimension[action.dimension] < PRIORITY_PER_DIMENSION and ready(action):
            chosen.append(action.id)
            per_dimension[action.dimension] += 1
    for action in order:
        if len(chosen) >= PRIORITY_MIN:
            break
        if action.id not in chosen and ready(action):
            chosen.append(action.id)
    return set(chosen)


def _importance_words(g: DimensionGap, top: float) -> str:
    """What the team's own trade-off answers say about the dimension, in words."""
    if g.importance > 1 and g.importance >= top - 1e-9:
        return "the team ranked it most vital"
    if g.importance > 1:
        return "the team's own priorities favour it"
    if g.importance < 1:
        return "although the team's own priorities favour it less"
    return ""


def make_plan(dimension_gaps: list[DimensionGap], library: ActionLibrary,
              start: date | None = None,
              level_names: tuple[str, ...] = (),
              tiers: dict[str, tuple[str | None, str]] | None = None) -> list[PlanItem]:
    """Rank the library's actions for the gaps, priorities first; see the module's rules.

    `tiers`: the facilitator's choices per action id, (tier, reason) with tier one of TIERS'
    keys (None: the rules decide). PlanError for any other tier."""
    start = start or date.today()
    tiers = tiers or {}
    for action_id, (tier, _) in tiers.items():
        if tier is not None and tier not in TIERS:
            raise PlanError(f"the tier of {action_id!r} must be one of {', '.join(TIERS)}, not "
                            f"{str(tier)[:40]!r}", tier)
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
    by_rule = default_tiers([candidates[a][0] for a in placed])
    top = max((candidates[a][1].importance for a in placed), default=1.0)
    items = []
    for rank, action_id in enumerate(placed, start=1):
        action, g, value = candidates[action_id]
        deps = [d for d in action.depends_on if d in candidates]
        importance = _importance_words(g, top)
        if first(action_id):
            why = f"{g.name} comes first: it is below {threshold_name}"
            why += f" and {importance}" if importance and not importance.startswith("al") \
                else (f", {importance}" if importance else "")
        else:
            where = (f"{g.level_name or 'below the first level'} now, aiming for "
                     f"{g.target_level_name or 'its target'}")
            if quick(action):
                why = f"A quick win for {g.name} ({where})"
            else:
                why = f"It moves {g.name} forward ({where})"
            why += f", {importance}" if importance.startswith("al") else \
                (f", and {importance}" if importance else "")
        if deps:
            why += "; it builds on " + ", ".join(f"'{titles[d]}'" for d in deps)
        why += "."
        phase = phase_of[action_id]
        rule_tier = TIERS["priority"] if action_id in by_rule else TIERS["backlog"]
        chosen, reason = tiers.get(action_id, (None, ""))
        tier = TIERS[chosen] if chosen else rule_tier
        details = (f"Score {g.score_text} ({g.level_name or 'no level'}); target "
                   f"{g.target:.2f} ({g.target_level_name or 'top'}); gap {g.gap:.2f}; "
                   f"importance {g.importance:.2f} ({g.importance_reason}); impact "
                   f"{action.impact} for {EFFORT_WORDS[action.effort]} effort (weight "
                   f"{EFFORT_WEIGHT[action.effort]}): priority value {value:.2f}; rank {rank} "
                   f"by the rules ({rule_tier.lower()} by the rules)"
                   + ("; leadership commitment first" if first(action_id) else "")
                   + ("; quick win" if quick(action) else "")
                   + (f"; after {', '.join(repr(titles[d]) for d in deps)}" if deps else "")
                   + ".")
        if chosen and chosen != {v: k for k, v in TIERS.items()}[rule_tier]:
            verb = {"priority": "made it a priority", "backlog": "moved it to the backlog",
                    "dropped": "dropped it"}[chosen]
            reason = _text(reason).strip()
            details = f"{why} {details}"
            why = f"The team {verb}" + (f": {reason.rstrip('.')}." if reason else ".")
        items.append(PlanItem(rank, action, g, value, quick(action), first(action_id), phase,
                              start + timedelta(days=PHASE_DAYS[phase]), why, tier=tier,
                              details=details, tier_reason=_text(reason), rule_tier=rule_tier))
    items.sort(key=lambda i: (TIER_ORDER.index(i.tier), i.priority))
    return items


PLAN_FRAME_COLUMNS = ["priority", "tier", "action_id", "dimension", "dimension_id", "action",
                      "description", "why", "details", "effort", "impact", "phase", "owner",
                      "due", "status", "notes", "measure", "quick_win", "value", "rank",
                      "tier_reason", "rule_tier"]


def plan_frame(items: list[PlanItem]) -> pd.DataFrame:
    """The plan as a table, one row per action: priorities, then backlog, then dropped, each in
    the rules' order; `priority` numbers the rows 1, 2, ... as listed, `rank` is the rules'."""
    return pd.DataFrame([{
        "priority": n, "tier": i.tier, "action_id": i.action.id, "dimension": i.gap.name,
        "dimension_id": i.gap.dimension, "action": i.action.title,
        "description": i.action.description, "why": i.why, "details": i.details,
        "effort": i.action.effort, "impact": i.action.impact, "phase": i.phase,
        "owner": i.action.owner, "due": i.due, "status": STATUSES[0], "notes": "",
        "measure": i.action.measure, "quick_win": i.quick_win, "value": round(i.value, 3),
        "rank": i.priority, "tier_reason": i.tier_reason, "rule_tier": i.rule_tier,
    } for n, i in enumerate(items, start=1)], columns=PLAN_FRAME_COLUMNS)


def stop_doing_inputs(texts: pd.DataFrame, choices: pd.DataFrame) -> list[str]:
    """Participants' own 'stop doing / give up' answers and what they chose about customers:
    inputs the facilitator turns into decisions, never decisions themselves."""
    out = [str(a) for a in texts.get("answer", []) if str(a).strip()]
    for row in choices.itertuples():
        if row.count:
            out.append(f"{row.option} (chosen by {row.count})")
    return out
