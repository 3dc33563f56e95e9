"""Assemble a plan report (scores, targets, ranked plan, discussion, trade-offs, responses,
method): what the workbook and the PDF show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from .benchmarks import Benchmark, compare
from .export import PlanReport
from .model import ActionLibrary, Decision, Questionnaire
from .planning import (
    COMMITMENT_LEVEL,
    EFFORT_WEIGHT,
    PHASES,
    PRIORITY_MAX,
    PRIORITY_MIN,
    PRIORITY_PER_DIMENSION,
    gaps,
    importance_from_tradeoffs,
    make_plan,
    plan_frame,
    stop_doing_inputs,
)
from .scoring import allocation_summary, level_names, score
from .workshop import (
    SAY_DO_POINTS_SHARE,
    SAY_DO_RANK_MARGIN,
    choice_counts,
    disagreement_agenda,
    ranking_summary,
    say_do_gaps,
    text_answers,
)

AGENDA_SIZE = 10        # questions per questionnaire on the discussion agenda
MIN_GROUP = 3           # a role held by fewer people is shown as HIDDEN_GROUP
HIDDEN_GROUP = "—"


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


def combined_scores(scored: list[Scored], benchmarks: dict[str, Benchmark],
                    agreed: pd.DataFrame | None = None) -> pd.DataFrame:
    """Scores of every questionnaire with its title and the dimension names, and benchmark
    columns if any. `agreed` (Store.agreed_scores: questionnaire_id, dimension_id, agreed_score,
    rationale): where the team agreed a score, `score` is the agreed one (and `level` its
    level); `computed_score` is always the computed one, `agreed_score` NaN and `rationale` ""
    where none was agreed. The overall rows stay as computed."""
    frames = []
    agreed = agreed if agreed is not None else pd.DataFrame(
        columns=["questionnaire_id", "dimension_id", "agreed_score", "rationale"])
    for s in scored:
        q = s.questionnaire
        table = s.scores.copy()
        mine = agreed[agreed["questionnaire_id"] == q.id].drop_duplicates(
            "dimension_id", keep="last").set_index("dimension_id")
        known = table["dimension"].isin([d.id for d in q.dimensions])
        table["computed_score"] = table["score"].astype(float)
        table["agreed_score"] = table["dimension"].map(mine["agreed_score"]).astype(float) \
            .where(known)
        rationale = table["dimension"].map(mine["rationale"]).astype(object)
        table["rationale"] = [str(r) if known_ and isinstance(r, str) else ""
                              for r, known_ in zip(rationale, known, strict=True)]
        has = table["agreed_score"].notna().to_numpy()
        table["score"] = table["agreed_score"].where(has, table["computed_score"])
        if has.any():
            table["level"] = table["level"].astype(object)
            table.loc[has, "level"] = level_names(table.loc[has, "score"].to_numpy(float), q)
        benchmark = benchmarks.get(q.id)
        if benchmark is not None:
            table = compare(table, benchmark, q)
        names = {d.id: d.name for d in q.dimensions}
        table.insert(0, "questionnaire", q.id)
        table.insert(1, "title", q.title)
        table.insert(3, "name", table["dimension"].map(names).fillna(f"Overall ({q.title})"))
        frames.append(table)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def answer_texts(answers: pd.DataFrame, questionnaire: Questionnaire) -> np.ndarray:
    """What each answer means in words, beside its value: the anchor or scale label of a scored
    answer, the option of a choice, 'rank N' and 'N points'; '' for free text."""
    q_of = {x.id: x for x in questionnaire.questions}
    words: dict[str, str] = {}
    for x in questionnaire.questions:
        if x.type in ("level", "likert"):
            labels = x.anchors if x.type == "level" else (x.labels or questionnaire.scale.labels)
            for i, label in enumerate(labels):
                words[f"{x.id}\x1f{questionnaire.scale.min + i}"] = label
        elif x.type == "choice":
            for o in x.options:
                words[f"{x.id}\x1f{o.id}"] = o.label
    question = answers["question"].astype(str)
    raw = answers["raw"].astype(str).str.strip()
    found = (question + "\x1f" + raw).map(words).astype(object)
    kind = question.map({k: v.type for k, v in q_of.items()}).astype(object)
    blank = raw.str.lower().isin(["", "n/a", "na"])
    out = np.where(kind == "ranking", "rank " + raw,
                   np.where(kind == "allocation", raw + " points", found.fillna("")))
    out = np.where(blank & kind.isin(["level", "likert"]), "not answered (n/a)", out)
    return np.where(kind == "text", "", out).astype(object)


RESPONSE_COLUMNS = ["respondent", "role", "questionnaire", "questionnaire_title", "question",
                    "text", "option", "answer", "answer_text", "comment"]


def anonymised_responses(scored: list[Scored]) -> pd.DataFrame:
    """Every answer with what it means in words and its comment; respondents replaced by R1,
    R2, ... in order of appearance; a role held by fewer than MIN_GROUP respondents shown as
    HIDDEN_GROUP, so that nobody can be picked out by it."""
    frames = []
    for s in scored:
        a = s.answers
        q = s.questionnaire
        texts = {x.id: x.text for x in q.questions}
        options = {(x.id, o.id): o.label for x in q.questions for o in x.options}
        option = a["option"].astype(str)
        frames.append(pd.DataFrame({
            "respondent_key": a["assessment"].astype(str) + "\x1f" + a["respondent"].astype(str),
            "role": a["role"].astype(str),
            "questionnaire": q.id,
            "questionnaire_title": q.title,
            "question": a["question"].astype(str),
            "text": a["question"].astype(str).map(texts),
            "option": [options.get((x, o), o) for x, o in zip(a["question"].astype(str), option,
                                                              strict=True)],
            "answer": a["raw"].astype(str),
            "answer_text": answer_texts(a, q),
            "comment": a["comment"].astype(str),
        }))
    if not frames:
        return pd.DataFrame(columns=RESPONSE_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    key = out.pop("respondent_key")
    people = pd.Series(key.to_numpy()).groupby(out["role"].to_numpy()).nunique()
    small = [r for r, n in people.items() if r.strip() and n < MIN_GROUP]
    out["role"] = out["role"].where(~out["role"].isin(small), HIDDEN_GROUP)
    codes, _ = pd.factorize(key)
    out.insert(0, "respondent", np.char.add("R", (codes + 1).astype(str)))
    return out[RESPONSE_COLUMNS]


def discussion_agenda(scored: list[Scored], size: int = AGENDA_SIZE) -> pd.DataFrame:
    """Per questionnaire, the `size` scored questions the team disagreed most about, with the
    spread of the answers (lowest, highest, how many chose each point)."""
    frames = [disagreement_agenda(s.answers, s.questionnaire).head(size)
              .assign(questionnaire=s.questionnaire.title) for s in scored]
    columns = ["questionnaire", "dimension", "question", "text", "answers", "mean", "sd", "low",
               "high", "spread", "distribution"]
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True)[columns] if frames else \
        pd.DataFrame(columns=columns)


def say_do(scored: list[Scored]) -> pd.DataFrame:
    """Priorities the team ranks vital yet gives few points to (workshop.say_do_gaps)."""
    columns = ["questionnaire", "label", "mean_rank", "mean_points", "even_share"]
    frames = [say_do_gaps(s.answers, s.questionnaire).assign(questionnaire=s.questionnaire.title)
              for s in scored]
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True)[columns] if frames else \
        pd.DataFrame(columns=columns)


def ranking_results(scored: list[Scored]) -> pd.DataFrame:
    """Mean rank per option of every ranking question (1 = most vital), with the question."""
    columns = ["questionnaire", "question", "label", "mean_rank", "ranked", "respondents"]
    frames = []
    for s in scored:
        ranks = ranking_summary(s.answers, s.questionnaire)
        if len(ranks):
            texts = {x.id: x.text for x in s.questionnaire.questions}
            frames.append(ranks.assign(questionnaire=s.questionnaire.title,
                                       question=ranks["question"].map(texts)))
    return pd.concat(frames, ignore_index=True)[columns] if frames else \
        pd.DataFrame(columns=columns)


def discussion_notes(notes: pd.DataFrame | None, questionnaires: dict[str, Questionnaire]
                     ) -> pd.DataFrame:
    """The facilitator's notes (Store.notes) with the questionnaire's title, oldest first."""
    columns = ["questionnaire", "text", "created_at"]
    if notes is None or notes.empty:
        return pd.DataFrame(columns=columns)
    titles = {k: q.title for k, q in questionnaires.items()}
    return pd.DataFrame({
        "questionnaire": notes["questionnaire_id"].map(titles).fillna("").astype(str),
        "text": notes["text"].astype(str),
        "created_at": pd.to_datetime(notes["created_at"], utc=True).dt.tz_localize(None),
    })[columns]


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
        ("Agreed score", "Where the team recorded an agreed score for a dimension after "
                         "discussion, that is the team's score: targets, gaps, priorities, the "
                         "plan and this workbook use it, and show it as 'agreed 2.6; computed "
                         "3.24' beside the score computed from the answers (its level is the "
                         "agreed score's level). Otherwise the computed score is used. The "
                         "overall score stays as computed from the answers."),
        ("Gap", "Target minus score (the agreed score where there is one), never below 0."),
        ("Importance", "From the trade-off answers: points given to (and rank of) the "
                       "priorities that speak for the dimension, relative to an even share; 1 "
                       "when none does; bounded to 0.5..2."),
        ("Priority", "Value = gap x importance x impact / effort weight ("
                     + ", ".join(f"{k} {v}" for k, v in EFFORT_WEIGHT.items()) + "). Order: "
                     f"leadership commitment actions first while it is below level "
                     f"{COMMITMENT_LEVEL}; then quick wins (impact 4+ for small effort); then by "
                     "value. An action never precedes one it depends on."),
        ("Priorities", f"The short list that carries the first 90 days. In plan order an "
                       f"action becomes a priority while there are fewer than {PRIORITY_MAX}, "
                       f"its dimension has fewer than {PRIORITY_PER_DIMENSION} and every action "
                       f"it depends on is a priority; if that gives fewer than {PRIORITY_MIN}, "
                       f"the next actions fill up to {PRIORITY_MIN} whatever their dimension. "
                       "The rest is the backlog. The facilitator can promote, demote or drop "
                       "an action; their reason is kept and shown as its Why."),
        ("Why and Details", "Why: one sentence on why the action sits where it does. Details: "
                            "the numbers behind it (score, target, gap, importance, impact, "
                            "effort, priority value, rank by the rules)."),
        ("Phase", f"By effort: S {PHASES[0]}, M {PHASES[1]}, L {PHASES[2]}; never before a "
                  "dependency's phase. Default due date: the end of the phase."),
        ("Stop doing", "Participants' 'stop doing / give up' answers are inputs (they stay in "
                       "Responses); only what the facilitator recorded as the team's decision, "
                       "in their words and with an owner, is listed as what we will stop "
                       "doing."),
        ("Discussion agenda", f"Per questionnaire the {AGENDA_SIZE} scored questions with the "
                              "largest standard deviation of the answers (then the widest "
                              "range); Answers per point: scale point: how many chose it."),
        ("Say-do gap", f"A priority the team ranks clearly vital (mean rank at least "
                       f"{SAY_DO_RANK_MARGIN:g} better than the middle) yet gives at most "
                       f"{SAY_DO_POINTS_SHARE:.0%} of an even share of the points."),
        ("Benchmark", " | ".join(benchmark_lines) or "None chosen."),
        ("Percentile", "Linear interpolation between the benchmark's published percentiles; "
                       "0 at the bottom of the scale, 100 at its top."),
        ("Responses", f"Respondents are shown as R1, R2, ...; names are not exported. A role "
                      f"held by fewer than {MIN_GROUP} respondents is shown as "
                      f"'{HIDDEN_GROUP}' so that nobody can be recognised by it. Answer text: "
                      "what the value means (the answer's wording on the questionnaire)."),
    ]


def build_report(scored: list[Scored], library: ActionLibrary, *, reference: str, client: str,
                 title: str, made: date | None = None,
                 benchmarks: dict[str, Benchmark] | None = None,
                 targets: dict[str, float] | None = None,
                 edits: dict[str, dict] | None = None,
                 agreed: pd.DataFrame | None = None,
                 notes: pd.DataFrame | None = None,
                 decisions: list[Decision] | None = None) -> tuple[PlanReport, pd.DataFrame]:
    """The workbook's (and the PDF's) content, and the plan table (with edits applied).

    `edits` (Store.plan_edits): per action id, owner, due, status, notes and the facilitator's
    tier and tier_reason; `agreed` (Store.agreed_scores) the team's agreed scores, which drive
    the targets, gaps and plan; `notes` (Store.notes); `decisions` (Store.decisions) what the
    team will stop doing."""
    made = made or date.today()
    benchmarks = benchmarks or {}
    edits = edits or {}
    questionnaires = {s.questionnaire.id: s.questionnaire for s in scored}
    table = combined_scores(scored, benchmarks, agreed)
    chosen = {}
    for b in benchmarks.values():
        chosen.update(benchmark_targets(b))
    chosen.update(targets or {})
    allocations = pd.concat([allocation_summary(s.answers, s.questionnaire) for s in scored],
                            ignore_index=True)
    rankings = pd.concat([ranking_summary(s.answers, s.questionnaire) for s in scored],
                         ignore_index=True)
    importance = importance_from_tradeoffs(allocations, rankings, questionnaires)
    columns = ["questionnaire", "dimension", "score", "computed_score", "agreed_score",
               "rationale"]
    dimension_gaps = gaps(table[columns] if len(table) else pd.DataFrame(columns=columns),
                          questionnaires, chosen, importance)
    level_names_ = tuple(lv.name for lv in scored[0].questionnaire.levels) if scored else ()
    tiers = {a: (e.get("tier"), e.get("tier_reason") or "") for a, e in edits.items()
             if e.get("tier")}
    plan = plan_frame(make_plan(dimension_gaps, library, made, level_names_, tiers))
    for action_id, edit in edits.items():
        mask = plan["action_id"] == action_id
        # A blank owner or due date keeps the plan's default; notes are whatever was saved.
        for column in ("owner", "due", "status"):
            if edit.get(column) not in (None, ""):
                plan.loc[mask, column] = edit[column]
        if edit.get("notes") is not None:
            plan.loc[mask, "notes"] = edit["notes"]
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
        # most points first, as a client reads a ranking
        allocations=allocations.sort_values("mean_points", ascending=False, kind="stable")
        .reset_index(drop=True),
        responses=anonymised_responses(scored), benchmark_line=" | ".join(benchmark_lines),
        method=method_lines(list(questionnaires.values()), benchmark_lines),
        decisions=list(decisions or []), agenda=discussion_agenda(scored),
        notes=discussion_notes(notes, questionnaires), say_do=say_do(scored),
        rankings=ranking_results(scored),
        stop_doing_inputs=stop_doing_inputs(texts, choices))
    return report, plan


def score_file(answers: pd.DataFrame, questionnaire: Questionnaire) -> Scored:
    return Scored(questionnaire, answers, score(answers, questionnaire))
