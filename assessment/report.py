"""Assemble a plan report (scores, targets, ranked plan, trade-offs, responses, method)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from .actions import ActionLibrary
from .benchmarks import Benchmark, compare
from .export import PlanReport
from .model import Questionnaire
from .planning import (
    COMMITMENT_LEVEL,
    EFFORT_WEIGHT,
    PHASES,
    gaps,
    importance_from_tradeoffs,
    make_plan,
    plan_frame,
    stop_doing,
)
from .scoring import allocation_summary, score
from .workshop import choice_counts, ranking_summary, text_answers


@dataclass(frozen=True)
class Scored:
    """One questionnaire's answers, scored."""

    questionnaire: Questionnaire
    answers: pd.DataFrame
    scores: pd.DataFrame


def benchmark_targets(benchmark: Benchmark | None) -> dict[str, float]:
    """The benchmark's top quartile (75th percentile) per dimension."""
    if benchmark is None or benchmark.kind != "scores":
        return {}
    return {d.dimension: d.p75 for d in benchmark.dimensions if d.dimension != "overall"}


def combined_scores(scored: list[Scored], benchmarks: dict[str, Benchmark]) -> pd.DataFrame:
    """Scores of every questionnaire with dimension names, and benchmark columns if any."""
    frames = []
    for s in scored:
        q = s.questionnaire
        table = s.scores.copy()
        benchmark = benchmarks.get(q.id)
        if benchmark is not None:
            table = compare(table, benchmark, q)
        names = {d.id: d.name for d in q.dimensions}
        table.insert(0, "questionnaire", q.id)
        table.insert(2, "name", table["dimension"].map(names).fillna(f"Overall ({q.title})"))
        frames.append(table)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def anonymised_responses(scored: list[Scored]) -> pd.DataFrame:
    """Every answer with its comment, respondents replaced by R1, R2, ... in order of appearance."""
    frames = []
    for s in scored:
        a = s.answers
        texts = {x.id: x.text for x in s.questionnaire.questions}
        frames.append(pd.DataFrame({
            "respondent_key": a["assessment"].astype(str) + "\x1f" + a["respondent"].astype(str),
            "role": a["role"].astype(str),
            "questionnaire": s.questionnaire.id,
            "question": a["question"].astype(str),
            "text": a["question"].astype(str).map(texts),
            "option": a["option"].astype(str),
            "answer": a["raw"].astype(str),
            "comment": a["comment"].astype(str),
        }))
    if not frames:
        return pd.DataFrame(columns=["respondent", "role", "questionnaire", "question", "text",
                                     "option", "answer", "comment"])
    out = pd.concat(frames, ignore_index=True)
    codes, _ = pd.factorize(out.pop("respondent_key"))
    out.insert(0, "respondent", np.char.add("R", (codes + 1).astype(str)))
    return out


def method_lines(questionnaires: list[Questionnaire], benchmark_lines: list[str]
                 ) -> list[tuple[str, str]]:
    q = questionnaires[0] if questionnaires else None
    levels = ", ".join(f"{lv.name} from {lv.threshold:g}" for lv in q.levels) if q else ""
    return [
        ("Answers", "Whole numbers on the questionnaire's scale; blank or n/a means not answered; "
                    "a reverse-coded answer v counts as min + max - v."),
        ("Respondent score", "Per dimension, the weighted mean of the scored (level and likert) "
                             "items the respondent answered; it counts only if they answered at "
                             "least half of the dimension's scored items."),
        ("Score", "The mean of the respondents who count. Respondents: how many count."),
        ("SD", "Sample standard deviation (ddof 1) of the respondents' dimension scores."),
        ("Agreement", "rwg(j) (James, Demaree and Wolf 1984) with a uniform null: sigma_EU^2 = "
                      "(A^2 - 1)/12 for A scale points; s^2 the mean item variance (ddof 1); "
                      "J the number of items; J(1 - s^2/sigma^2) / (J(1 - s^2/sigma^2) + "
                      "s^2/sigma^2), 0 when s^2 >= sigma^2. 1 = full agreement."),
        ("Coverage", "Answered scored items / (respondents present x scored items)."),
        ("Level", f"The highest level whose threshold is at most the unrounded score: {levels}."),
        ("Overall", "The weighted mean of the dimension scores (or the mean of all items, for "
                    "questionnaires scored that way)."),
        ("Target", "One level up (the next level's threshold, capped at the top level), or the "
                   "benchmark's 75th percentile when a benchmark is chosen, or the team's own."),
        ("Gap", "Target minus score, never below 0."),
        ("Importance", "From the trade-off answers: points given to (and rank of) the "
                       "priorities that speak for the dimension, relative to an even share; 1 "
                       "when none does; bounded to 0.5..2."),
        ("Priority", "Value = gap x importance x impact / effort weight ("
                     + ", ".join(f"{k} {v}" for k, v in EFFORT_WEIGHT.items()) + "). Order: "
                     f"leadership commitment actions first while it is below level "
                     f"{COMMITMENT_LEVEL}; then quick wins (impact 4+ for small effort); then by "
                     "value. An action never precedes one it depends on."),
        ("Phase", f"By effort: S {PHASES[0]}, M {PHASES[1]}, L {PHASES[2]}; never before a "
                  "dependency's phase. Default due date: the end of the phase."),
        ("Benchmark", " | ".join(benchmark_lines) or "None chosen."),
        ("Percentile", "Linear interpolation between the benchmark's published percentiles; "
                       "0 at the bottom of the scale, 100 at its top."),
        ("Responses", "Respondents are shown as R1, R2, ...; names are not exported."),
    ]


def build_report(scored: list[Scored], library: ActionLibrary, *, reference: str, client: str,
                 title: str, made: date | None = None,
                 benchmarks: dict[str, Benchmark] | None = None,
                 targets: dict[str, float] | None = None,
                 edits: dict[str, dict] | None = None) -> tuple[PlanReport, pd.DataFrame]:
    """The workbook's content, and the plan table (with edits applied) for the app."""
    made = made or date.today()
    benchmarks = benchmarks or {}
    questionnaires = {s.questionnaire.id: s.questionnaire for s in scored}
    table = combined_scores(scored, benchmarks)
    chosen = {}
    for b in benchmarks.values():
        chosen.update(benchmark_targets(b))
    chosen.update(targets or {})
    allocations = pd.concat([allocation_summary(s.answers, s.questionnaire) for s in scored],
                            ignore_index=True)
    rankings = pd.concat([ranking_summary(s.answers, s.questionnaire) for s in scored],
                         ignore_index=True)
    importance = importance_from_tradeoffs(allocations, rankings, questionnaires)
    dimension_gaps = gaps(table[["questionnaire", "dimension", "score"]] if len(table) else
                          pd.DataFrame(columns=["questionnaire", "dimension", "score"]),
                          questionnaires, chosen, importance)
    level_names = tuple(lv.name for lv in scored[0].questionnaire.levels) if scored else ()
    plan = plan_frame(make_plan(dimension_gaps, library, made, level_names))
    for action_id, edit in (edits or {}).items():
        mask = plan["action_id"] == action_id
        for column in ("owner", "due", "status", "notes"):
            if edit.get(column) not in (None, ""):
                plan.loc[mask, column] = edit[column]
    texts = pd.concat([text_answers(s.answers, s.questionnaire) for s in scored],
                      ignore_index=True)
    choices = pd.concat([choice_counts(s.answers, s.questionnaire) for s in scored],
                        ignore_index=True)
    participants = int(sum(s.answers["respondent"].nunique() for s in scored[:1]))
    if len(scored) > 1:
        participants = int(pd.concat([s.answers["respondent"].astype(str) for s in scored])
                           .nunique())
    benchmark_lines = [b.provenance.line() for b in benchmarks.values()]
    report = PlanReport(
        reference=reference, client=client, title=title, made=made, participants=participants,
        scores=table, gaps=dimension_gaps, plan=plan,
        allocations=allocations, stop_doing=stop_doing(texts, choices),
        responses=anonymised_responses(scored), benchmark_line=" | ".join(benchmark_lines),
        method=method_lines(list(questionnaires.values()), benchmark_lines))
    return report, plan


def score_file(answers: pd.DataFrame, questionnaire: Questionnaire) -> Scored:
    return Scored(questionnaire, answers, score(answers, questionnaire))
