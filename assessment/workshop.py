"""A workshop's answers turned into progress, scores, the discussion agenda and trade-offs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .model import Question, Questionnaire
from .responses import validate_lenient
from .scoring import allocation_summary, level_names, respondent_scores, score

WORKSHOP_ASSESSMENT = "workshop"
# Below this many respondents a "team" result shows individuals' answers: flagged to the
# facilitator, and not revealed to participants.
MIN_RESPONDENTS = 3


def is_answered(question: Question, given: dict[tuple[str, str], str]) -> bool:
    """Whether a participant's saved values answer a question (n/a counts as answered)."""
    if question.type == "allocation":
        points = [_int(given.get((question.id, o.id), "")) for o in question.options]
        return sum(p or 0 for p in points) == question.total
    if question.type == "ranking":
        return any(given.get((question.id, o.id), "") for o in question.options)
    return given.get((question.id, ""), "") != ""


def _int(text: str) -> int | None:
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


def progress(frame: pd.DataFrame, people: list, questionnaires: dict[str, Questionnaire]
             ) -> pd.DataFrame:
    """Percent of questions answered per participant (rows) and questionnaire (columns)."""
    table = pd.DataFrame({"participant": [p.name for p in people],
                          "role": [p.role for p in people]})
    for qid, q in questionnaires.items():
        mine = frame[frame["questionnaire_id"] == qid]
        percents = []
        for p in people:
            rows = mine[mine["participant_id"] == p.id]
            given = dict(zip(zip(rows["question_id"], rows["option_id"], strict=True),
                             rows["value"], strict=True))
            done = sum(is_answered(x, given) for x in q.questions)
            percents.append(round(100 * done / len(q.questions)))
        table[q.title] = percents
    return table


def long_format(frame: pd.DataFrame, questionnaire: Questionnaire) -> tuple[pd.DataFrame, list]:
    """Stored answers as the scoring engine's long format, leaving out what cannot be scored yet.

    Allocations still being filled in (not adding up to the total) and answers to questions no
    longer in the questionnaire are left out, and listed in the second value.
    """
    rows = frame[frame["questionnaire_id"] == questionnaire.id]
    known = {q.id for q in questionnaire.questions}
    left_out = []
    unknown = ~rows["question_id"].isin(known)
    if unknown.any():
        left_out.append(f"{unknown.sum()} answer(s) to questions no longer in the questionnaire")
        rows = rows[~unknown]
    for q in questionnaire.questions:
        if q.type != "allocation":
            continue
        mine = rows[rows["question_id"] == q.id]
        points = pd.to_numeric(mine["value"], errors="coerce").fillna(0)
        sums = points.groupby(mine["participant_id"]).sum()
        partial = sums[sums != q.total].index
        if len(partial):
            left_out.append(f"{len(partial)} unfinished allocation(s) of points "
                            f"(\"{q.text[:60]}\")")
            rows = rows[~((rows["question_id"] == q.id) & rows["participant_id"].isin(partial))]
    long = pd.DataFrame({
        "assessment": WORKSHOP_ASSESSMENT,
        "respondent": rows["participant_id"].astype(str),
        "role": rows["role"],
        "question": rows["question_id"],
        "option": rows["option_id"],
        "value": rows["value"],
    })
    return long, left_out


@dataclass(frozen=True)
class Results:
    """Everything the results page shows for one questionnaire."""

    questionnaire: Questionnaire
    answers: pd.DataFrame         # validated answers (responses.ANSWER_COLUMNS)
    scores: pd.DataFrame          # per dimension and overall (scoring.SCORE_COLUMNS)
    respondents: pd.DataFrame     # per participant and dimension
    agenda: pd.DataFrame          # scored questions, most disagreement first
    allocations: pd.DataFrame     # mean points per option
    rankings: pd.DataFrame        # mean rank per option
    say_do: pd.DataFrame          # options ranked vital but given few points
    texts: pd.DataFrame           # free-text answers (question, answer)
    choices: pd.DataFrame         # counts per choice option
    left_out: tuple[str, ...]
    participants: int


def results(frame: pd.DataFrame, questionnaire: Questionnaire,
            names: dict[int, str] | None = None) -> Results:
    """Score a workshop's stored answers to one questionnaire."""
    long, left_out = long_format(frame, questionnaire)
    # Stored answers that no longer fit (from an older version, or written by hand) are left
    # out, each named, so that one bad value never takes the workshop's results down.
    answers, misfits = validate_lenient(long.reset_index(drop=True), questionnaire)
    who = long["respondent"].reset_index(drop=True)
    for p in misfits:
        person = who.iloc[p.row - 2]
        person = (names or {}).get(int(person), f"participant {person}") if str(person).isdigit() \
            else person
        left_out.append(f"{person}'s answer {p.value!r} to question {p.question!r}, which "
                        f"does not fit: {p.message}")
    table = score(answers, questionnaire)
    people = respondent_scores(answers, questionnaire)
    if names:
        people["name"] = people["respondent"].astype(int).map(names)
    return Results(
        questionnaire=questionnaire,
        answers=answers,
        scores=table,
        respondents=people,
        agenda=disagreement_agenda(answers, questionnaire),
        allocations=allocation_summary(answers, questionnaire),
        rankings=ranking_summary(answers, questionnaire),
        say_do=say_do_gaps(answers, questionnaire),
        texts=text_answers(answers, questionnaire),
        choices=choice_counts(answers, questionnaire),
        left_out=tuple(left_out),
        participants=int(pd.Series(long["respondent"]).nunique()),
    )


def disagreement_agenda(answers: pd.DataFrame, questionnaire: Questionnaire) -> pd.DataFrame:
    """Scored questions ranked by how much the team disagrees (sd, then range of answers)."""
    scored = {q.id: q for q in questionnaire.scored_questions}
    rows = answers[answers["question"].isin(list(scored)) & answers["value"].notna()]
    rows = rows.astype({"question": object})
    columns = ["question", "dimension", "text", "answers", "mean", "sd", "low", "high", "spread",
               "distribution"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    stats = rows.groupby("question")["value"].agg(["size", "mean", "std", "min", "max"])
    stats = stats[stats["size"] >= 2]
    points = range(questionnaire.scale.min, questionnaire.scale.max + 1)
    counts = rows.groupby(["question", "value"]).size().unstack(fill_value=0)
    out = pd.DataFrame({
        "question": stats.index,
        "dimension": [questionnaire.dimension(scored[q].dimension).name for q in stats.index],
        "text": [scored[q].text for q in stats.index],
        "answers": stats["size"].to_numpy(),
        "mean": stats["mean"].to_numpy(),
        "sd": stats["std"].to_numpy(),
        "low": stats["min"].to_numpy(),
        "high": stats["max"].to_numpy(),
        "spread": (stats["max"] - stats["min"]).to_numpy(),
        "distribution": [" ".join(f"{p}:{int(counts.loc[q].get(float(p), 0))}" for p in points)
                         for q in stats.index],
    })
    return out.sort_values(["sd", "spread"], ascending=False, kind="stable").reset_index(drop=True)


def ranking_summary(answers: pd.DataFrame, questionnaire: Questionnaire) -> pd.DataFrame:
    """Mean rank per option of each ranking question (1 = most vital).

    A respondent who ranked only some options is taken to place the others, tied, in the
    positions left (each gets the mean of the unused ranks), so a lone first choice does not
    make an option look unanimously vital.
    """
    columns = ["question", "option", "label", "mean_rank", "respondents"]
    out = []
    for q in questionnaire.questions:
        if q.type != "ranking":
            continue
        rows = answers[(answers["question"] == q.id) & answers["value"].notna()]
        if rows.empty:
            continue
        ranks = rows.pivot_table(index=["assessment", "respondent"], columns="option",
                                 values="value", aggfunc="first", observed=True)
        ranks = ranks.reindex(columns=list(q.option_ids))
        n = len(q.options)
        used = ranks.notna()
        # mean of the ranks not used by each respondent: (sum 1..n - sum used) / count unused
        unused = n - used.sum(axis=1)
        fill = ((n * (n + 1) / 2 - ranks.sum(axis=1, min_count=1).fillna(0))
                / unused.where(unused > 0))
        filled = ranks.apply(lambda column, fill=fill: column.fillna(fill))
        for o in q.options:
            out.append({"question": q.id, "option": o.id, "label": o.label,
                        "mean_rank": float(filled[o.id].mean()), "respondents": len(filled)})
    if not out:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame(out, columns=columns).sort_values(["question", "mean_rank"],
                                                          kind="stable").reset_index(drop=True)


SAY_DO_RANK_MARGIN = 0.5
SAY_DO_POINTS_SHARE = 0.8


def say_do_gaps(answers: pd.DataFrame, questionnaire: Questionnaire) -> pd.DataFrame:
    """Options the team ranks clearly vital (mean rank at least half a place better than the
    middle) yet gives clearly few points (at most 80% of an even share)."""
    ranks = ranking_summary(answers, questionnaire)
    points = allocation_summary(answers, questionnaire)
    columns = ["option", "label", "mean_rank", "mean_points", "even_share"]
    if ranks.empty or points.empty:
        return pd.DataFrame(columns=columns)
    alloc = {q.id: q for q in questionnaire.questions if q.type == "allocation"}
    merged = ranks.merge(points[["question", "option", "mean_points"]].rename(
        columns={"question": "alloc_question"}), on="option")
    merged["even_share"] = [alloc[a].total / len(alloc[a].options)
                            for a in merged["alloc_question"]]
    n_options = merged.groupby("question")["option"].transform("size")
    vital = merged["mean_rank"] <= (n_options + 1) / 2 - SAY_DO_RANK_MARGIN
    gaps = merged[vital & (merged["mean_points"] <= SAY_DO_POINTS_SHARE * merged["even_share"])]
    return gaps.loc[:, columns].reset_index(drop=True)


def text_answers(answers: pd.DataFrame, questionnaire: Questionnaire) -> pd.DataFrame:
    """Free-text answers, by question, without who gave them."""
    texts = {q.id: q for q in questionnaire.questions if q.type == "text"}
    rows = answers[answers["question"].isin(list(texts))]
    rows = rows[rows["text"].astype(object).fillna("") != ""]
    return pd.DataFrame({"question": [texts[q].text for q in rows["question"].astype(object)],
                         "answer": rows["text"].astype(object).to_numpy()})


def choice_counts(answers: pd.DataFrame, questionnaire: Questionnaire) -> pd.DataFrame:
    """How many chose each option of each choice question."""
    out = []
    for q in questionnaire.questions:
        if q.type != "choice":
            continue
        chosen = answers.loc[answers["question"] == q.id, "text"].astype(object).value_counts()
        out.extend({"question": q.text, "option": o.label, "count": int(chosen.get(o.id, 0))}
                   for o in q.options)
    return pd.DataFrame(out, columns=["question", "option", "count"])


def level_of(score_value: float, questionnaire: Questionnaire) -> str:
    """The level name for one score ('' when blank)."""
    return str(level_names(np.array([score_value], dtype=float), questionnaire)[0])
