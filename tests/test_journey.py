"""The participant's journey in the engine and the store: rankings that count only when they
are a real ordering (or the questionnaire's top K), results that never invent a rank, and a
comment per question saved like an answer and exported beside it."""

from __future__ import annotations

import dataclasses
import math

import pandas as pd
import pytest

from assessment.report import Scored, anonymised_responses
from assessment.store import MAX_COMMENT, Store, StoreError
from assessment.workshop import is_answered, long_format, ranking_summary, results


def top(mini, k):
    """The mini questionnaire with rank_top: k on its ranking question."""
    questions = tuple(dataclasses.replace(x, rank_top=k) if x.id == "rank" else x
                      for x in mini.questions)
    return dataclasses.replace(mini, questions=questions)


def ranked(**ranks) -> dict:
    return {("rank", o): str(r) for o, r in ranks.items()}


# ---------------------------------------------------------------- answered or not

def test_a_partial_ranking_is_not_answered(mini):
    rank = mini.question("rank")
    assert not is_answered(rank, {})
    assert not is_answered(rank, ranked(x=1))
    assert not is_answered(rank, ranked(x=1, y=2))
    assert not is_answered(rank, ranked(x=1, y=2, z=""))
    assert is_answered(rank, ranked(x=3, y=1, z=2))


def test_rank_top_says_when_a_partial_ranking_is_enough(mini):
    rank = top(mini, 2).question("rank")
    assert not is_answered(rank, ranked(x=1))
    assert not is_answered(rank, ranked(x=1, y=3))   # ranks 1 and 2 are needed, not any two
    assert is_answered(rank, ranked(x=2, z=1))
    assert is_answered(rank, ranked(x=2, z=1, y=3))


# ---------------------------------------------------------------- results

def frame(rows, comments=()) -> pd.DataFrame:
    """A store-like answer frame: (participant, question, option, value[, comment])."""
    out = pd.DataFrame([(p, "mini", q, o, v) for p, q, o, v in rows],
                       columns=["participant_id", "questionnaire_id", "question_id", "option_id",
                                "value"]).assign(role="manager", comment="")
    for p, q, text in comments:
        mask = (out["participant_id"] == p) & (out["question_id"] == q)
        if mask.any():
            out.loc[mask.idxmax(), "comment"] = text
        else:
            out.loc[len(out)] = dict(participant_id=p, questionnaire_id="mini", question_id=q,
                                     option_id="", value="", role="manager", comment=text)
    return out


def test_an_unfinished_ranking_is_left_out_of_results_and_named(mini):
    answers = frame([(1, "rank", "x", "1"), (1, "rank", "y", "2"), (1, "rank", "z", "3"),
                     (2, "rank", "x", "1"), (2, "rank", "y", ""), (2, "rank", "z", "")])
    long, left_out = long_format(answers, mini)
    assert set(long["respondent"]) == {"1"}
    assert left_out == ['1 unfinished ranking(s) ("Rank them.")']


def test_an_option_nobody_ranked_gets_no_mean_rank_and_says_so(mini):
    questionnaire = top(mini, 1)
    answers = frame([(1, "rank", "x", "1"), (2, "rank", "x", "1"), (3, "rank", "y", "1"),
                     (3, "rank", "x", "2")])
    outcome = results(answers, questionnaire)
    table = outcome.rankings.set_index("option")
    assert list(table.index) == ["x", "y", "z"]  # best first, the unranked last
    assert table.loc["x", "ranked"] == 3 and table.loc["y", "ranked"] == 1
    assert table.loc["z", "ranked"] == 0 and math.isnan(table.loc["z", "mean_rank"])
    assert (table["respondents"] == 3).all()
    # x: 1, 1, 2; y: ranked 1 once, else tied in the places left (2.5, 2.5)
    assert table.loc["x", "mean_rank"] == pytest.approx(4 / 3)
    assert table.loc["y", "mean_rank"] == pytest.approx(2.0)


def test_a_full_ranking_gives_every_option_a_rank_and_a_count(mini):
    answers = frame([(p, "rank", o, str(r)) for p in (1, 2)
                     for o, r in zip("xyz", (1, 2, 3) if p == 1 else (2, 1, 3), strict=True)])
    table = ranking_summary(results(answers, mini).answers, mini).set_index("option")
    assert list(table["mean_rank"]) == [1.5, 1.5, 3.0]
    assert list(table["ranked"]) == [2, 2, 2]


def test_comments_reach_the_results_and_the_responses_sheet(mini):
    answers = frame([(1, "q1", "", "4"), (2, "q1", "", "2"),
                     (1, "alloc", "x", "6"), (1, "alloc", "y", "3")],   # unfinished: 9 of 10
                    comments=[(1, "q1", "We say it, we do not fund it."),
                              (2, "q3", "Depends on the region."),      # no answer at all
                              (1, "alloc", "Hard to split.")])
    outcome = results(answers, mini)
    assert list(outcome.comments["comment"]) == ["We say it, we do not fund it.",
                                                 "Depends on the region.", "Hard to split."]
    assert list(outcome.comments["question"]) == ["q1", "q3", "alloc"]
    assert outcome.participants == 2
    assert not any("does not fit" in note for note in outcome.left_out)
    sheet = anonymised_responses([Scored(mini, outcome.answers, outcome.scores)])
    said = sheet[sheet["comment"] != ""]
    assert set(said["comment"]) == set(outcome.comments["comment"])
    alone = said[said["comment"] == "Depends on the region."].iloc[0]
    assert alone["answer"] == "" and alone["question"] == "q3"
    # the unfinished allocation is still left out; its comment stays, without the points
    assert said[said["question"] == "alloc"]["answer"].tolist() == [""]


def test_a_participant_who_only_commented_is_not_counted_as_answering(mini):
    answers = frame([(1, "q1", "", "4")], comments=[(2, "q1", "Not my area.")])
    assert results(answers, mini).participants == 1


# ---------------------------------------------------------------- the store

@pytest.fixture
def shop(database_url, mini):
    store = Store(database_url, questionnaires={"mini": mini})
    store.create_schema()
    client = store.create_client("Acme")
    workshop = store.create_workshop(client.id, "Offsite", ["mini"])
    ann, _ = store.join(workshop.code, "Ann", "executive")
    bob, _ = store.join(workshop.code, "Bob", "manager")
    yield store, workshop, ann, bob
    store.close()


def test_a_comment_is_saved_cleaned_replaced_and_removed(shop):
    store, workshop, ann, _ = shop
    assert store.save_comment(ann.id, "mini", "q1", "  two\x00 words\r\nand a line ") == \
        "two words\nand a line"
    assert store.comments_of(ann.id, "mini") == {"q1": "two words\nand a line"}
    store.save_comment(ann.id, "mini", "q1", "changed my mind")
    assert store.comments_of(ann.id, "mini") == {"q1": "changed my mind"}
    assert store.save_comment(ann.id, "mini", "q1", "   ") == ""
    assert store.comments_of(ann.id, "mini") == {}


@pytest.mark.parametrize(("question", "text", "message"), [
    ("q1", "x" * (MAX_COMMENT + 1), "limited to 2000 characters"),
    ("nope", "fine", "not in 'mini'"),
    ("q1", ["a list"], "must be text"),
])
def test_a_comment_that_does_not_fit_is_refused(shop, question, text, message):
    store, _, ann, _ = shop
    with pytest.raises(StoreError, match=message):
        store.save_comment(ann.id, "mini", question, text)
    assert store.comments_of(ann.id, "mini") == {}


def test_no_comment_once_answering_is_closed(shop):
    store, workshop, ann, _ = shop
    store.set_answering_open(workshop.id, False)
    with pytest.raises(StoreError, match="closed"):
        store.save_comment(ann.id, "mini", "q1", "late")


def test_the_answer_frame_carries_comments_with_or_without_an_answer(shop, mini):
    store, workshop, ann, bob = shop
    store.save_answers(ann.id, "mini", [("q1", "", "4"), ("rank", "x", "1"), ("rank", "y", "2"),
                                        ("rank", "z", "3")])
    store.save_answers(bob.id, "mini", [("q1", "", "2")])
    before = store.answers_version(workshop.id)
    store.save_comment(ann.id, "mini", "rank", "Cost first, sadly.")
    store.save_comment(bob.id, "mini", "q2", "No view.")
    assert store.answers_version(workshop.id) != before  # results are recomputed
    answers = store.answer_frame(workshop.id, "mini")
    said = answers[answers["comment"] != ""]
    assert len(said) == 2
    on_rank = said[said["question_id"] == "rank"].iloc[0]
    assert (on_rank["participant_id"], on_rank["option_id"]) == (ann.id, "x")
    alone = said[said["question_id"] == "q2"].iloc[0]
    assert (alone["participant_id"], alone["option_id"], alone["value"]) == (bob.id, "", "")
    assert len(answers) == 6  # five answers and the comment without one
    outcome = results(answers, mini, {ann.id: "Ann", bob.id: "Bob"})
    assert set(outcome.comments["comment"]) == {"Cost first, sadly.", "No view."}
    assert not outcome.left_out


def test_removing_a_participant_removes_their_comments(shop):
    store, workshop, ann, _ = shop
    store.save_comment(ann.id, "mini", "q1", "mine")
    store.remove_participant(workshop.id, ann.id)
    assert store.comment_frame(workshop.id).empty


def test_all_of_a_participants_answers_in_one_read(shop):
    store, _, ann, _ = shop
    store.save_answers(ann.id, "mini", [("q1", "", "4"), ("alloc", "x", "10")])
    assert store.answers_by_questionnaire(ann.id) == {
        "mini": {("q1", ""): "4", ("alloc", "x"): "10"}}


def test_store_ranks_are_checked_whatever_rank_top_says(database_url, mini):
    from assessment.answering import AnswerError

    store = Store(database_url, questionnaires={"mini": top(mini, 1)})
    store.create_schema()
    try:
        client = store.create_client("Acme")
        workshop = store.create_workshop(client.id, "Offsite", ["mini"])
        ann, _ = store.join(workshop.code, "Ann", "executive")
        store.save_answers(ann.id, "mini", [("rank", "x", "1"), ("rank", "y", "3")])
        with pytest.raises(AnswerError, match="out of range 1..3"):
            store.save_answer(ann.id, "mini", "rank", "4", "z")
        with pytest.raises(AnswerError, match="already the rank"):
            store.save_answer(ann.id, "mini", "rank", "1", "z")
    finally:
        store.close()
