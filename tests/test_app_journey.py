"""The participant's whole journey through Streamlit's AppTest: joining from Home, one progress
figure for the workshop, each review leading to the next questionnaire, "you are done" only at
the very end, rankings as an ordering, comments, and what the facilitator's results say."""

from __future__ import annotations

import dataclasses

import pytest
import streamlit as st
from conftest import ROOT, open_workshop_as
from streamlit.testing.v1 import AppTest
from test_app import button, start, texts

from assessment.questionnaire import load_shipped
from assessment.store import Store

TIMEOUT = 60
ALL = ["commitment", "proposition", "tradeoffs"]


@pytest.fixture
def workshop(db):
    client = db.create_client("Acme")
    workshop = db.create_workshop(client.id, "Offsite", ALL)
    return workshop


def every_answer(q, person: int = 0) -> list[tuple[str, str, str]]:
    rows = []
    for i, question in enumerate(q.questions):
        if question.scored:
            rows.append((question.id, "", str(q.scale.min + (i + person) % 3)))
        elif question.type == "allocation":
            share = [question.total // len(question.options)] * len(question.options)
            share[0] += question.total - sum(share)
            rows.extend((question.id, o.id, str(p))
                        for o, p in zip(question.options, share, strict=True))
        elif question.type == "ranking":
            rows.extend((question.id, o.id, str(r + 1)) for r, o in enumerate(question.options))
        elif question.type == "choice":
            rows.append((question.id, "", question.options[0].id))
        elif question.type == "text":
            rows.append((question.id, "", "less internal reporting"))
    return rows


def progress(at: AppTest) -> str:
    return at.get("progress")[0].proto.text


def joined(db, workshop, name="Ann") -> tuple[AppTest, int]:
    at = start(join=workshop.code)
    at.text_input(key="join_name").input(name)
    button(at, "Join").click().run()
    assert not at.exception, at.exception
    token = at.query_params["p"]
    person = db.participant_by_token(token if isinstance(token, str) else token[0])
    return at, person.id


def query(at: AppTest, name: str) -> str:
    value = at.query_params[name]
    return value if isinstance(value, str) else value[0]


def review_of(at: AppTest, questionnaire: str) -> AppTest:
    """Open a questionnaire's review (after its last section), as its Review button does."""
    pages = len(load_shipped()[questionnaire].pages())
    at.query_params["q"] = questionnaire
    at.query_params["s"] = str(pages)
    at.run()
    assert not at.exception, at.exception
    return at


# ---------------------------------------------------------------- joining from Home

def test_home_join_carries_the_typed_code_to_the_join_form(db, workshop):
    at = start()
    at.text_input(key="home_code").input(workshop.code.lower())
    at.button(key="home_join").click().run()
    assert not at.exception
    assert query(at, "join") == workshop.code
    assert at.text_input(key="join_code").value == workshop.code
    assert "Offsite" in texts(at)


def test_home_refuses_a_closed_workshop_with_the_reason(db, workshop):
    db.set_answering_open(workshop.id, False)
    at = start()
    at.text_input(key="home_code").input(workshop.code)
    at.button(key="home_join").click().run()
    assert "This workshop is closed for answers" in texts(at)
    assert at.text_input(key="home_code")  # still on Home


# ---------------------------------------------------------------- the whole journey

def test_progress_counts_the_whole_workshop_and_the_time_left(db, workshop):
    at, me = joined(db, workshop)
    assert progress(at) == ("Whole workshop: 0 of 71 answered · about 24 minutes left "
                            "(71 questions at about 20 seconds each)")
    each = ("Leadership commitment: {} of 34 · Customers and proposition: 0 of 24 · "
            "Trade-offs: what are we prepared to give up? 0 of 13")  # never "?:"
    assert each.format(0) in texts(at)
    at.radio(key="commitment.pu01").set_value(4).run()
    at.button(key="next").click().run()  # a full rerun: the figures follow
    assert progress(at).startswith("Whole workshop: 1 of 71 answered")
    assert each.format(1) in texts(at)


def test_the_review_of_a_finished_questionnaire_leads_to_the_next_one(db, workshop):
    at, me = joined(db, workshop)
    db.save_answers(me, "commitment", every_answer(load_shipped()["commitment"]))
    review_of(at, "commitment")
    shown = texts(at)
    assert "All 34 questions of Leadership commitment answered" in shown
    assert "You are done" not in shown and "every question" not in shown
    assert "37 question(s) still open in this workshop" in shown
    assert progress(at).startswith("Whole workshop: 34 of 71 answered · about 13 minutes left")
    following = at.button(key="next_questionnaire")
    assert following.label == "Next: Customers and proposition, 24 questions →"
    following.click().run()
    assert (query(at, "q"), query(at, "s")) == ("proposition", "0")
    assert at.radio(key="questionnaire_choice").value == "proposition"
    assert at.radio(key="proposition.in01").value is None
    assert at.subheader[0].value == "1. Customer knowledge and insight"


def test_open_questions_are_listed_across_questionnaires_and_each_can_be_reached(db, workshop):
    at, me = joined(db, workshop)
    shipped = load_shipped()
    db.save_answers(me, "commitment", every_answer(shipped["commitment"]))
    db.save_answers(me, "proposition", [r for r in every_answer(shipped["proposition"])
                                        if r[0] != "pr_matters"])
    db.save_answers(me, "tradeoffs", every_answer(shipped["tradeoffs"]))
    review_of(at, "tradeoffs")  # the last questionnaire, but not everything is answered
    shown = texts(at)
    assert "You are done" not in shown
    assert "1 question(s) still open in this workshop" in shown
    assert at.button(key="next_questionnaire").label.startswith(
        "Next: Customers and proposition, 24 questions (1 still open)")
    at.button(key="goto.proposition.pr_matters").click().run()
    pages = shipped["proposition"].pages()
    section = next(i for i, p in enumerate(pages) if "pr_matters" in p.question_ids)
    assert (query(at, "q"), query(at, "s")) == ("proposition", str(section))
    assert any(s.key.startswith("proposition.pr_matters.") for s in at.segmented_control)


def test_you_are_done_only_when_every_questionnaire_is_complete(db, workshop):
    at, me = joined(db, workshop)
    shipped = load_shipped()
    for qid in ALL:
        review_of(at, qid)
        assert "You are done" not in texts(at)
        db.save_answers(me, qid, every_answer(shipped[qid]))
    at.run()
    shown = texts(at)
    assert progress(at) == "Whole workshop: 71 of 71 answered"
    assert "You are done." in shown and "(71 of 71)" in shown
    # the summary of what they answered, one table per questionnaire
    tables = [d.value for d in at.dataframe]
    assert len(tables) == 3 and [len(t) for t in tables] == [34, 24, 13]
    assert "less internal reporting" in set(tables[2]["answer"])
    assert not any(b.key == "next_questionnaire" for b in at.button)


# ---------------------------------------------------------------- ranking

def test_a_ranking_counts_only_when_every_option_is_ranked_and_ranks_move(db, workshop):
    at, me = joined(db, workshop)
    at.radio(key="questionnaire_choice").set_value("tradeoffs").run()
    at.button(key="next").click().run()
    options = [o.id for o in load_shipped()["tradeoffs"].question("tr_rank").options]
    box = {o: f"tradeoffs.tr_rank.{o}" for o in options}
    assert at.segmented_control(key=box[options[0]]).options == ["1st", "2nd", "3rd", "4th",
                                                                 "5th", "6th"]
    at.segmented_control(key=box[options[0]]).set_value(1).run()
    at.segmented_control(key=box[options[1]]).set_value(2).run()
    stored = db.answers_of(me, "tradeoffs")
    assert stored[("tr_rank", options[0])] == "1" and stored[("tr_rank", options[1])] == "2"
    review_of(at, "tradeoffs")
    assert "Your view of the choices ahead: Rank these by how vital" in texts(at)  # still open
    at.query_params["s"] = "1"
    at.run()
    # taking a rank that another option holds swaps the two, as the caption says
    assert ("Rank all 6 options, 1st = most important. Picking a rank that another option "
            "already has swaps the two.") in texts(at)
    at.segmented_control(key=box[options[1]]).set_value(1).run()
    ranks = [at.segmented_control(key=box[o]).value for o in options[:2]]
    assert ranks == [2, 1]
    at.segmented_control(key=box[options[0]]).set_value(None).run()
    assert db.answers_of(me, "tradeoffs")[("tr_rank", options[0])] == ""
    at.segmented_control(key=box[options[0]]).set_value(2).run()
    for rank, option in enumerate(options[2:], start=3):
        at.segmented_control(key=box[option]).set_value(rank).run()
    assert not at.exception
    assert "Your order: 1st" in texts(at)
    review_of(at, "tradeoffs")
    assert "Rank these by how vital" not in texts(at)  # answered now


# ---------------------------------------------------------------- comments

def test_a_comment_is_saved_from_its_box_and_shown_to_the_facilitator(db, workshop):
    at, me = joined(db, workshop)
    at.text_area(key="comment.commitment.pu01").input("We [fund](http://x) it *twice*").run()
    assert db.comments_of(me, "commitment") == {"pu01": "We [fund](http://x) it *twice*"}
    commitment = load_shipped()["commitment"]
    db.save_answers(me, "commitment", every_answer(commitment, 0))
    for n, name in enumerate(("Bob", "Cy"), start=1):
        person, _ = db.join(workshop.code, name, "manager")
        db.save_answers(person.id, "commitment", every_answer(commitment, n))
        db.save_answer(person.id, "commitment", "pu01", str(1 + 4 * (n - 1)))  # 1 and 5: top
    results = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    open_workshop_as(results, db, workshop)
    results.run()
    results.switch_page("app_pages/results.py").run()
    assert not results.exception
    agenda = results.dataframe[1].value
    row = agenda[agenda["text"].str.startswith("How clearly is customer-centricity")]
    assert row["comments"].iloc[0] == "We [fund](http://x) it *twice*"
    assert "• We [fund](http://x) it *twice*" in [t.value for t in results.text]


# ---------------------------------------------------------------- results with rank_top

@pytest.fixture
def top_two(monkeypatch):
    """The shipped questionnaires, with rank_top: 2 on the trade-offs ranking."""
    import app_pages.common as common

    shipped = load_shipped()
    tradeoffs = shipped["tradeoffs"]
    shipped["tradeoffs"] = dataclasses.replace(tradeoffs, questions=tuple(
        dataclasses.replace(x, rank_top=2) if x.id == "tr_rank" else x
        for x in tradeoffs.questions))
    st.cache_resource.clear()
    monkeypatch.setattr(common, "load_shipped", lambda: shipped)
    yield shipped
    st.cache_resource.clear()
    st.cache_data.clear()


def test_results_never_show_a_rank_for_an_option_nobody_ranked(db, top_two):
    store = Store(db.url, questionnaires=top_two)
    client = store.create_client("Acme")
    workshop = store.create_workshop(client.id, "Offsite", ["tradeoffs"])
    question = top_two["tradeoffs"].question("tr_rank")
    first, second, *rest = [o.id for o in question.options]
    for name in ("Ann", "Bob", "Cy"):
        person, _ = store.join(workshop.code, name, "manager")
        store.save_answers(person.id, "tradeoffs", [("tr_rank", first, "1"),
                                                    ("tr_rank", second, "2")])
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    open_workshop_as(at, store, workshop)
    at.run()
    at.switch_page("app_pages/results.py").run()
    assert not at.exception, at.exception
    table = next(d.value for d in at.dataframe if "ranked_by" in d.value.columns)
    ranked = table.set_index("label")
    labels = {o.id: o.label for o in question.options}
    assert ranked.loc[labels[first], "mean_rank"] == 1.0
    assert ranked.loc[labels[first], "ranked_by"] == "3 of 3"
    for option in rest:
        assert ranked.loc[labels[option], "ranked_by"] == "0 of 3"
        assert ranked.loc[labels[option], "mean_rank"] != ranked.loc[labels[option], "mean_rank"]
    assert f"Nobody ranked {labels[rest[0]]}" in texts(at)
    store.close()


# ---------------------------------------------------------------- answers never lost

def test_an_answer_shown_without_its_callback_having_run_is_saved_on_the_next_run(db, workshop):
    """Streamlit 1.67 can set a widget's new value without calling its callback (a full rerun
    coalescing with pending fragment reruns); the page saves what it shows all the same."""
    at, me = joined(db, workshop)
    at.session_state["commitment.pu02"] = 5      # a value set, no callback
    at.session_state["comment.commitment.pu03"] = "said, never saved"
    at.button(key="next").click().run()
    assert not at.exception
    assert db.answers_of(me, "commitment") == {("pu02", ""): "5"}
    assert db.comments_of(me, "commitment") == {"pu03": "said, never saved"}


def test_an_answer_changed_on_another_device_is_not_overwritten_by_an_older_page(db, workshop):
    at, me = joined(db, workshop)
    at.radio(key="commitment.pu01").set_value(4).run()
    db.save_answer(me, "commitment", "pu01", "2")   # the same person, on their phone
    at.button(key="next").click().run()
    assert db.answers_of(me, "commitment") == {("pu01", ""): "2"}
