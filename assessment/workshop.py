"""A workshop's answers turned into progress, scores, the discussion agenda and trade-offs."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .model import Question, Questionnaire
from .perception import PerceptionGap, perception_gap
from .responses import validate_lenient
from .scoring import allocation_summary, level_names, respondent_scores, score

WORKSHOP_ASSESSMENT = "workshop"
# Below this many respondents a "team" result shows individuals' answers: flagged to the
# facilitator, and not revealed to participants.
MIN_RESPONDENTS = 3


def is_answered(question: Question, given: dict[tuple[str, str], str]) -> bool:
    """Whether a participant's saved values answer a question (n/a counts as answered; a
    ranking needs every option ranked, or ranks 1..rank_top)."""
    if question.type == "allocation":
        points = [_int(given.get((question.id, o.id), "")) for o in question.options]
        return sum(p or 0 for p in points) == question.total
    if question.type == "ranking":
        return ranking_complete(question, [given.get((question.id, o.id), "")
                                           for o in question.options])
    return given.get((question.id, ""), "") != ""


def ranking_complete(question: Question, values) -> bool:
    """Whether ranks 1..question.ranks_needed are all among the values (every option's rank by
    default; the first rank_top ones when the questionnaire says so)."""
    ranks = {_int(v) for v in values}
    return set(range(1, question.ranks_needed + 1)) <= ranks


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

    Allocations still being filled in (not adding up to the total), rankings still being ranked
    (ranks 1..rank_top, by default every option, not all given) and answers to questions no
    longer in the questionnaire are left out, and listed in the second value. A participant's
    comment on a question (the frame's `comment` column) stays, on a row of its own when its
    answer is left out or was never given.
    """
    mine = frame["questionnaire_id"].to_numpy(dtype=object) == questionnaire.id
    column = {name: (frame[name].to_numpy(dtype=object)[mine] if name in frame else
                     np.full(int(mine.sum()), "", dtype=object))
              for name in ("participant_id", "role", "question_id", "option_id", "value",
                           "comment")}
    question, participant = column["question_id"], column["participant_id"]
    value, option = column["value"].copy(), column["option_id"].copy()
    comment = np.array(["" if c is None or c != c else str(c) for c in column["comment"]],
                       dtype=object)
    left_out = []
    keep = pd.Index([q.id for q in questionnaire.questions]).get_indexer(question) >= 0
    if not keep.all():
        left_out.append(f"{(~keep).sum()} answer(s) to questions no longer in the questionnaire")
    known = keep.copy()
    for q in questionnaire.questions:
        if q.type not in ("allocation", "ranking"):
            continue
        this = keep & (question == q.id)
        # A comment without an answer is stored without an option: give it the first one.
        option[this & (option == "") & (value == "") & (comment != "")] = q.options[0].id
        who, people = pd.factorize(participant[this])
        if not len(people):
            continue
        if q.type == "allocation":
            points = pd.Series(pd.to_numeric(value[this], errors="coerce")).fillna(0)
            sums = points.groupby(who).sum().to_numpy()
            # someone who only commented on the question has not started it
            started = np.bincount(who, weights=value[this] != "", minlength=len(people)) > 0
            partial = np.flatnonzero((sums != q.total) & started)
            what = "allocation(s) of points"
        else:
            # Only ranks of the question's own options count here; a row naming an unknown
            # option is left to the validation, which names it.
            this &= pd.Index(list(q.option_ids)).get_indexer(option) >= 0
            who, people = pd.factorize(participant[this])
            values = value[this]
            partial = np.array([p for p in range(len(people))
                                if any(values[who == p] != "")
                                and not ranking_complete(q, values[who == p])], dtype=np.int64)
            what = "ranking(s)"
        if len(partial):
            left_out.append(f"{len(partial)} unfinished {what} (\"{q.text[:60]}\")")
            keep &= ~(this & pd.Index(participant).isin(people[partial]))
    # What is left out keeps its comment, on a row without an answer.
    rescued = ~keep & known & (comment != "")
    value[rescued] = ""
    keep |= rescued
    long = pd.DataFrame({
        "assessment": WORKSHOP_ASSESSMENT,
        "respondent": np.array([str(p) for p in participant[keep]], dtype=object),
        "role": column["role"][keep],
        "question": question[keep],
        "option": option[keep],
        "value": value[keep],
        "comment": comment[keep],
    }, dtype=object)
    return long, left_out


def comment_table(long: pd.DataFrame, questionnaire: Questionnaire) -> pd.DataFrame:
    """Participants' comments, in questionnaire order, without who made them."""
    texts = {q.id: q.text for q in questionnaire.questions}
    given = long[(long["comment"] != "") & long["question"].isin(list(texts))]
    order = {qid: i for i, qid in enumerate(texts)}
    given = given.assign(_order=given["question"].map(order)).sort_values("_order",
                                                                          kind="stable")
    return pd.DataFrame({"question": given["question"].astype(str).to_numpy(),
                         "text": given["question"].map(texts).astype(str).to_numpy(),
                         "comment": given["comment"].astype(str).to_numpy()})


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
    comments: pd.DataFrame        # participants' comments (question, text, comment), no names
    perception: PerceptionGap     # each group's view beside leadership's


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
    allocations = allocation_summary(answers, questionnaire)
    rankings = ranking_summary(answers, questionnaire)
    return Results(
        questionnaire=questionnaire,
        answers=answers,
        scores=table,
        respondents=people,
        agenda=disagreement_agenda(answers, questionnaire),
        allocations=allocations,
        rankings=rankings,
        say_do=say_do_gaps(answers, questionnaire, rankings, allocations),
        texts=text_answers(answers, questionnaire),
        choices=choice_counts(answers, questionnaire),
        left_out=tuple(left_out),
        # a row that only carries a comment does not make its author a respondent
        participants=int(pd.Series(long["respondent"][(long["value"] != "")
                                                      | (long["comment"] == "")]).nunique()),
        comments=comment_table(long, questionnaire),
        perception=perception_gap(answers, questionnaire),
    )


def _codes(values, sort: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of a column and its distinct values (categories in their own order)."""
    codes, uniques = pd.factorize(values, sort=sort)
    return codes, np.asarray(uniques, dtype=object)


def disagreement_agenda(answers: pd.DataFrame, questionnaire: Questionnaire) -> pd.DataFrame:
    """Scored questions ranked by how much the team disagrees (sd, then range of answers)."""
    scored = {q.id: q for q in questionnaire.scored_questions}
    columns = ["question", "dimension", "text", "answers", "mean", "sd", "low", "high", "spread",
               "distribution"]
    values = answers["value"].to_numpy(dtype=float)
    question = answers["question"].to_numpy(dtype=object)
    rows = np.flatnonzero((pd.Index(list(scored)).get_indexer(question) >= 0) & ~np.isnan(values))
    if not len(rows):
        return pd.DataFrame(columns=columns)
    # Questions in sorted order, as a group-by on the question text gives them.
    group, ids = _codes(question[rows], sort=True)
    value = values[rows]
    grouped = pd.Series(value).groupby(group)
    size = np.bincount(group, minlength=len(ids))
    mean, sd = grouped.mean().to_numpy(), grouped.std().to_numpy()
    low, high = grouped.min().to_numpy(), grouped.max().to_numpy()
    lo, hi = questionnaire.scale.min, questionnaire.scale.max
    width = hi - lo + 1
    on_scale = (value >= lo) & (value <= hi) & (value == np.floor(value))
    counts = np.bincount(group[on_scale] * width + (value[on_scale] - lo).astype(np.int64),
                         minlength=len(ids) * width).reshape(len(ids), width)
    keep = np.flatnonzero(size >= 2)
    out = pd.DataFrame({
        "question": pd.Index(ids[keep], dtype="str"),
        "dimension": [questionnaire.dimension(scored[q].dimension).name for q in ids[keep]],
        "text": [scored[q].text for q in ids[keep]],
        "answers": size[keep],
        "mean": mean[keep],
        "sd": sd[keep],
        "low": low[keep],
        "high": high[keep],
        "spread": high[keep] - low[keep],
        "distribution": [" ".join(f"{lo + k}:{n}" for k, n in enumerate(counts[i]))
                         for i in keep],
    })
    order = np.lexsort((-out["spread"].to_numpy(), -out["sd"].to_numpy()))
    return out.iloc[order].reset_index(drop=True)


def ranking_summary(answers: pd.DataFrame, questionnaire: Questionnaire) -> pd.DataFrame:
    """Mean rank per option of each ranking question (1 = most vital), how many respondents
    ranked the option (`ranked`) and how many answered the question (`respondents`).

    A respondent who ranked only some options (a top-k ranking, or a file with partial ones) is
    taken to place the others, tied, in the positions left (each gets the mean of the unused
    ranks), so a lone first choice does not make an option look unanimously vital. An option
    that nobody ranked has no mean rank (NaN): it comes last, and `ranked` says 0.
    """
    columns = ["question", "option", "label", "mean_rank", "ranked", "respondents"]
    ranking = [q for q in questionnaire.questions if q.type == "ranking"]
    out = []
    if ranking:
        values = answers["value"].to_numpy(dtype=float)
        question, qids = _codes(answers["question"])
        question_code = {name: i for i, name in enumerate(qids)}
        option, oids = _codes(answers["option"])
        # Respondents in sorted order (assessment, then respondent), as a pivot gives them.
        assessment, _ = _codes(answers["assessment"], sort=True)
        respondent, respondents = _codes(answers["respondent"], sort=True)
        person = assessment * (len(respondents) + 1) + respondent
        given = ~np.isnan(values)
    for q in ranking:
        rows = np.flatnonzero((question == question_code.get(q.id, -2)) & given)
        if not len(rows):
            continue
        n = len(q.options)
        people, row_of = np.unique(person[rows], return_inverse=True)
        column = pd.Index(list(q.option_ids)).get_indexer(oids)[option[rows]]
        known = column >= 0
        ranks = np.full((len(people), n), np.nan)
        # The first value given for an option counts (there is one: the store checks it).
        cell = row_of[known] * n + column[known]
        rows = rows[known]
        _, first = np.unique(cell, return_index=True)
        ranks.ravel()[cell[first]] = values[rows[first]]
        used = ~np.isnan(ranks)
        unused = n - used.sum(axis=1)
        # mean of the ranks not used by each respondent: (sum 1..n - sum used) / count unused
        with np.errstate(invalid="ignore", divide="ignore"):
            fill = (n * (n + 1) / 2 - np.where(used, ranks, 0).sum(axis=1)) / np.where(
                unused > 0, unused, np.nan)
        filled = np.ascontiguousarray(np.where(used, ranks, fill[:, None]).T)
        ranked = used.sum(axis=0)
        for o, mean, count in zip(q.options, _column_means(filled), ranked, strict=True):
            out.append((q.id, o.id, o.label, mean if count else np.nan, int(count),
                        len(people)))
    if not out:
        return pd.DataFrame(columns=columns)
    out.sort(key=lambda r: (r[0], np.isnan(r[3]), r[3]))
    return pd.DataFrame(out, columns=columns)


def _column_means(rows: np.ndarray) -> list[float]:
    """Mean of each row's numbers, NaN left out, summed as pandas' Series.mean sums them."""
    means = []
    for row in rows:
        present = ~np.isnan(row)
        count = int(present.sum())
        means.append(float(np.where(present, row, 0.0).sum() / count) if count else np.nan)
    return means


SAY_DO_RANK_MARGIN = 0.5
SAY_DO_POINTS_SHARE = 0.8


def say_do_gaps(answers: pd.DataFrame, questionnaire: Questionnaire,
                ranks: pd.DataFrame | None = None,
                points: pd.DataFrame | None = None) -> pd.DataFrame:
    """Options the team ranks clearly vital (mean rank at least half a place better than the
    middle) yet gives clearly few points (at most 80% of an even share).

    `ranks` and `points` (ranking_summary and allocation_summary of the same answers) are
    computed here when not given."""
    ranks = ranking_summary(answers, questionnaire) if ranks is None else ranks
    points = allocation_summary(answers, questionnaire) if points is None else points
    columns = ["option", "label", "mean_rank", "mean_points", "even_share"]
    if ranks.empty or points.empty:
        return pd.DataFrame(columns=columns)
    alloc = {q.id: q for q in questionnaire.questions if q.type == "allocation"}
    # Each ranked option with every allocation answer summary of the same option, in the
    # rankings' order (an inner join on the option).
    given: dict[str, list[tuple[float, float]]] = {}
    for question, option, mean in zip(points["question"], points["option"],
                                      points["mean_points"], strict=True):
        q = alloc[question]
        given.setdefault(option, []).append((float(mean), q.total / len(q.options)))
    merged = [(question, option, label, float(rank), mean, even)
              for question, option, label, rank in zip(ranks["question"], ranks["option"],
                                                        ranks["label"], ranks["mean_rank"],
                                                        strict=True)
              for mean, even in given.get(option, [])]
    n_options = Counter(m[0] for m in merged)
    gaps = [m[1:] for m in merged
            if m[3] <= (n_options[m[0]] + 1) / 2 - SAY_DO_RANK_MARGIN
            and m[4] <= SAY_DO_POINTS_SHARE * m[5]]
    return pd.DataFrame({
        "option": pd.Series([g[0] for g in gaps], dtype="str"),
        "label": pd.Series([g[1] for g in gaps], dtype="str"),
        "mean_rank": np.array([g[2] for g in gaps], dtype=float),
        "mean_points": np.array([g[3] for g in gaps], dtype=float),
        "even_share": np.array([g[4] for g in gaps], dtype=float),
    })


def text_answers(answers: pd.DataFrame, questionnaire: Questionnaire) -> pd.DataFrame:
    """Free-text answers, by question, without who gave them."""
    texts = {q.id: q for q in questionnaire.questions if q.type == "text"}
    question = answers["question"].to_numpy(dtype=object)
    answer = answers["text"].to_numpy(dtype=object)
    given = ~pd.isna(answer)
    given[given] = answer[given] != ""
    rows = np.flatnonzero((pd.Index(list(texts)).get_indexer(question) >= 0) & given)
    return pd.DataFrame({"question": [texts[q].text for q in question[rows]],
                         "answer": answer[rows]})


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
