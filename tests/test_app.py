"""Every page of the app, driven through Streamlit's AppTest on a temporary database per test."""

from __future__ import annotations

import json
import os
import re

import pytest
from conftest import ROOT, open_workshop_as, sign_in_as
from streamlit.testing.v1 import AppTest

from assessment.demo import DEMO_TEAM, create_demo, ensure_demo
from assessment.questionnaire import load_shipped
from assessment.store import Store

TIMEOUT = 60


def start(page: str | None = None, store=None, **query) -> AppTest:
    """The app in a new session, with a consultant signed in when a store is given."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    for key, value in query.items():
        at.query_params[key] = value
    if store is not None:
        sign_in_as(at, store)
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def texts(at: AppTest) -> str:
    """What the page says, as a reader sees it: without the backslashes and invisible word
    joiners that keep user text from being read as Markdown (app_pages.common.plain)."""
    parts = [e.value for kind in ("markdown", "caption", "subheader", "title", "info", "success",
                                  "warning", "error", "text", "code")
             for e in getattr(at, kind)]
    text = "\n".join(str(p) for p in parts)
    return re.sub(r"\\([!-/:-@[-`{-~])", r"\1", text).replace("\u2060", "")


@pytest.fixture
def demo(db):
    return ensure_demo(db, load_shipped())


@pytest.fixture
def finished(db):
    """A finished workshop like the demo's, but writable (the demo itself is read-only)."""
    return create_demo(db, load_shipped(), read_only=False)


# ---------------------------------------------------------------- home

def test_home_explains_the_tool_and_offers_both_ways_in(db):
    at = start()
    assert "Customer-centricity maturity" in at.title[0].value
    assert "privately" in texts(at)
    assert at.button(key="go_facilitator") and at.button(key="home_join")


def test_home_offers_the_demo_on_an_empty_database_and_creates_it(db):
    at = start()
    at.button(key="create_demo").click().run()
    assert not at.exception
    assert "sign in and open the demo workshop" in texts(at)
    assert [c.name for c in db.clients()] == ["DEMO · Northwind Utilities (sample data)"]


def test_home_refuses_an_unknown_join_code(db):
    at = start()
    at.text_input(key="home_code").input("ZZZZZZ")
    at.button(key="home_join").click().run()
    assert "No workshop has the join code 'ZZZZZZ'" in texts(at)


# ---------------------------------------------------------------- facilitator

def test_facilitator_creates_a_workshop_and_sees_code_and_link_and_no_key(db):
    at = start("app_pages/facilitator.py", db)
    at.text_input(key="new_client_name").input("Acme Retail")
    at.text_input(key="new_title").input("Board offsite")
    button(at, "Create workshop").click().run()
    assert not at.exception
    workshop = db.workshops()[0]
    shown = texts(at)
    assert workshop.code in [m.value for m in at.metric]
    assert f"?join={workshop.code}" in shown
    assert [c.value for c in at.code] == [f"http://localhost:8501/?join={workshop.code}"]
    assert "key" not in shown.lower()
    assert [c.name for c in db.visible_clients(db.user("ann"))] == ["Acme Retail"]


def test_facilitator_needs_a_name_for_a_new_client(db):
    at = start("app_pages/facilitator.py", db)
    button(at, "Create workshop").click().run()
    assert "The client name must not be empty" in texts(at)
    assert db.workshops() == []


def test_a_consultant_opens_the_demo_from_their_list_where_it_is_marked_as_demo(db, demo):
    at = start("app_pages/facilitator.py", db)
    assert at.selectbox(key="open_client").options == [
        f"{demo.client_name} (demo: invented data)"]
    at.button(key=f"open_workshop_{demo.id}").click().run()
    assert not at.exception
    assert "Leadership workshop (demo)" in texts(at)
    assert "Demo workshop" in texts(at)
    assert any(m.value == "6 of 6" for m in at.metric)  # the progress board
    board = at.dataframe[0]
    headers = {k: v.get("label") for k, v in json.loads(board.proto.columns).items()}
    assert headers["participant"] == "Participant" and headers["role"] == "Role"
    assert set(board.value["role"]) <= {"Executive", "Manager", "Frontline", "Other"}


def test_closing_answering_and_revealing_results_are_stored(db):
    client = db.create_client("Acme")
    own = db.create_workshop(client.id, "Offsite", ["commitment"])
    at = start("app_pages/facilitator.py")
    open_workshop_as(at, db, own)
    at.run()
    at.button(key="close_answering").click().run()
    assert not db.workshop(own.id).answering_open
    at.button(key="reopen_answering").click().run()
    at.button(key="reveal_results").click().run()
    workshop = db.workshop(own.id)
    assert workshop.answering_open and workshop.results_revealed


def test_the_demo_is_read_only_for_visitors(db, demo):
    at = start("app_pages/facilitator.py")
    open_workshop_as(at, db, demo)
    at.run()
    assert at.button(key="reopen_answering").disabled
    assert at.button(key="hide_results").disabled
    with pytest.raises(Exception, match="read-only"):
        db.set_answering_open(demo.id, True)
    with pytest.raises(Exception, match="read-only"):
        db.add_note(demo.id, "defaced")


# ---------------------------------------------------------------- participant

@pytest.fixture
def workshop(db):
    client = db.create_client("Acme")
    workshop = db.create_workshop(client.id, "Offsite", ["commitment", "tradeoffs"])
    return workshop


def join(db, workshop, name="Ann") -> tuple[AppTest, str]:
    at = start(join=workshop.code)
    assert at.text_input(key="join_code").value == workshop.code
    at.text_input(key="join_name").input(name)
    button(at, "Join").click().run()
    assert not at.exception
    token = at.query_params["p"]
    return at, token if isinstance(token, str) else token[0]


def test_a_join_link_opens_the_join_form_and_joining_puts_a_personal_token_in_the_url(db, workshop):
    at, token = join(db, workshop)
    person = db.participant_by_token(token)
    assert person.name == "Ann"
    assert "answering as **Ann**" in texts(at)


def test_every_answer_is_saved_at_once_and_comes_back_in_a_new_session(db, workshop):
    at, token = join(db, workshop)
    at.radio(key="commitment.pu01").set_value(4).run()
    at.radio(key="commitment.pu02").set_value(2).run()
    person = db.participant_by_token(token)
    assert db.answers_of(person.id, "commitment") == {("pu01", ""): "4", ("pu02", ""): "2"}
    again = start(p=token)  # a reload, another device, or the server restarted
    assert again.radio(key="commitment.pu01").value == 4
    assert again.radio(key="commitment.pu02").value == 2
    assert again.radio(key="commitment.pu03").value is None


def test_a_participant_never_sees_another_participants_answers(db, workshop):
    first, _ = join(db, workshop, "Ann")
    first.radio(key="commitment.pu01").set_value(5).run()
    second, token = join(db, workshop, "Bob")
    assert second.radio(key="commitment.pu01").value is None
    assert "Ann" not in texts(second)


def test_sections_move_forward_and_the_review_lists_what_is_open(db, workshop):
    at, token = join(db, workshop)
    at.radio(key="questionnaire_choice").set_value("tradeoffs").run()
    at.button(key="next").click().run()
    assert at.query_params["s"] in ("1", ["1"])
    at.number_input(key="tradeoffs.tr_alloc.cost_reduction").set_value(60).run()
    assert "60 of 100 points allocated: 40 left" in texts(at)
    at.button(key="next").click().run()
    assert "question(s) still open" in texts(at)


def test_a_bad_personal_link_says_so_and_offers_to_join(db, workshop):
    at = start(p="not-a-token")
    assert "not recognised" in texts(at)
    assert at.text_input(key="join_name")


def test_answers_cannot_be_changed_after_answering_closes(db, workshop):
    at, token = join(db, workshop)
    db.set_answering_open(workshop.id, False)
    at.run()
    assert "closed answering" in texts(at)
    assert at.radio(key="commitment.pu01").disabled


# ---------------------------------------------------------------- results

def test_results_ask_for_a_sign_in_first_and_then_for_a_workshop(db, demo):
    at = start("app_pages/results.py")
    assert "Results are for consultants. Sign in first" in texts(at)
    assert not at.dataframe and demo.client_name not in texts(at)
    at = start("app_pages/results.py", db)
    assert "Open one on the Facilitator page first" in texts(at)
    assert not at.dataframe


def test_results_of_a_workshop_nobody_has_answered_say_so(db):
    client = db.create_client("Quiet Co")
    workshop = db.create_workshop(client.id, "Kick-off", ["commitment"])
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    open_workshop_as(at, db, workshop)
    at.run()
    at.switch_page("app_pages/results.py").run()
    assert not at.exception, at.exception
    assert "Nobody has answered" in texts(at)
    assert not at.metric


def chart(at: AppTest, field: str) -> str:
    """The Vega-Lite spec of the one chart on the page that encodes this field."""
    specs = [c.proto.spec for c in at.get("vega_lite_chart") if f'"field": "{field}"' in c.proto.spec]
    assert len(specs) == 1, f"{len(specs)} charts encode {field!r}"
    return specs[0]


def signed_in(demo, page: str) -> AppTest:
    """A session in which the facilitator has opened the demo workshop, on the given page."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    store = Store(os.environ["DATABASE_URL"])  # the db fixture's database
    open_workshop_as(at, store, demo)
    store.close()
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def signed_in_results(demo) -> AppTest:
    return signed_in(demo, "app_pages/results.py")


def test_results_show_scores_levels_charts_and_the_discussion_agenda(demo):
    at = signed_in_results(demo)
    assert {m.label for m in at.metric} >= {"Overall score", "Overall level"}
    assert at.metric[0].value == "6"
    scores = at.dataframe[0].value
    assert list(scores["name"]) == ["Strategic purpose", "Leadership commitment",
                                    "People and capability", "Measurement, feedback and rewards",
                                    "Culture and staying focused", "Overall"]
    assert scores["score"].between(1, 5).all()
    agenda = at.dataframe[1].value
    assert agenda["sd"].is_monotonic_decreasing
    assert "Strategic purpose" in chart(at, "threshold")  # scores against level thresholds


def test_respondent_names_are_hidden_until_the_facilitator_shows_them(demo):
    at = signed_in_results(demo)
    heatmap = chart(at, "who")
    assert "P1" in heatmap and DEMO_TEAM[0][0] not in heatmap
    at.toggle(key="show_names").set_value(True).run()
    assert DEMO_TEAM[0][0] in chart(at, "who")


def test_an_agreed_score_is_recorded_beside_the_computed_one(db, finished):
    demo = finished
    at = signed_in_results(demo)
    at.selectbox(key="agree_dimension").set_value("measures")
    at.number_input(key="agree_value").set_value(2.5)
    at.text_area(key="agree_rationale").input("Feedback exists but drives no decisions.")
    button(at, "Record agreed score").click().run()
    assert not at.exception
    agreed = db.agreed_scores(demo.id)
    row = agreed[agreed["dimension_id"] == "measures"].iloc[0]
    assert row["agreed_score"] == 2.5 and row["rationale"].startswith("Feedback exists")
    assert 1 <= row["computed_score"] <= 5
    assert at.dataframe[0].value.set_index("name").loc[
        "Measurement, feedback and rewards", "agreed"] == 2.5


def test_after_recording_an_agreed_score_the_form_is_empty_again(db, finished):
    at = signed_in_results(finished)
    at.selectbox(key="agree_dimension").set_value("measures")
    at.number_input(key="agree_value").set_value(2.5)
    at.text_area(key="agree_rationale").input("Feedback exists but drives no decisions.")
    button(at, "Record agreed score").click().run()
    assert not at.exception
    assert any(m.value.startswith("Recorded 2.5") for m in at.success)
    assert at.number_input(key="agree_value").value is None
    assert at.text_area(key="agree_rationale").value == ""
    at.radio(key="results_questionnaire").set_value("proposition").run()
    assert at.number_input(key="agree_value").value is None
    assert at.text_area(key="agree_rationale").value == ""


def test_the_trade_off_summary_shows_points_and_the_stop_doing_list(demo):
    at = signed_in_results(demo)
    at.radio(key="results_questionnaire").set_value("tradeoffs").run()
    assert not at.exception
    shown = texts(at)
    assert "mean points per priority" in shown
    assert "Stop measuring call handling time as the main target." in shown
    assert chart(at, "mean_points")


def test_a_benchmark_shows_percentiles_and_its_provenance_under_every_figure(demo):
    at = signed_in_results(demo)
    assert at.selectbox(key="benchmark_choice").options == [
        "No benchmark", "Illustration: Leadership commitment (synthetic: illustration only)"]
    at.selectbox(key="benchmark_choice").set_value("synthetic-commitment").run()
    assert not at.exception
    shown = texts(at)
    assert "Synthetic: illustration only" in shown
    provenance = [c.value for c in at.caption if c.value.startswith("Benchmark: ")]
    assert len(provenance) == 2  # under the table and under the chart
    assert "n = 40 organisations" in provenance[0] and "SYNTHETIC" in provenance[0]
    compared = at.dataframe[1].value
    assert compared["benchmark_percentile"].between(0, 100).all()
    assert "Source: XM Institute" in shown and "n = 234 practitioners" in shown
    assert "Source: Forrester" in shown and "n = 45 organisations" in shown


# ---------------------------------------------------------------- change plan

def signed_in_plan(demo) -> AppTest:
    return signed_in(demo, "app_pages/plan.py")


def test_the_plan_needs_a_signed_in_consultant(db, demo):
    at = start("app_pages/plan.py")
    assert "The plan is for consultants. Sign in first" in texts(at)


def test_the_plan_shows_targets_actions_quick_wins_and_the_stop_doing_list(db, demo):
    at = signed_in_plan(demo)
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Actions"]) > 0
    assert 0 <= int(metrics["Quick wins"]) <= int(metrics["Actions"])
    assert 3 <= int(metrics["Priorities"]) <= 5
    shown = texts(at)
    assert "What we will stop doing" in shown and "No decision recorded yet." in shown
    # participants' answers are inputs for the facilitator, not the team's decisions
    assert "• Stop measuring call handling time as the main target." in shown
    assert chart(at, "impact")  # impact against effort


def test_saving_the_plan_and_targets_is_kept_in_the_store(db, finished):
    demo = finished
    at = signed_in_plan(demo)
    at.button(key="save_plan").click().run()
    assert not at.exception
    # an unchanged grid saves nothing and says so (tests/test_plan_page.py has the rest)
    assert "Nothing to save" in texts(at)
    assert db.plan_edits(demo.id) == {}


def test_revealed_team_results_need_three_participants(db, workshop):
    at, token = join(db, workshop, "Ann")
    at.radio(key="commitment.pu01").set_value(4).run()
    db.set_results_revealed(workshop.id, True)
    at.run()
    assert "Team results appear once at least 3 people have answered" in texts(at)
    for name in ("Bob", "Cy"):
        other, _ = join(db, workshop, name)
        other.radio(key="commitment.pu01").set_value(2).run()
    at.run()
    assert "Nobody's individual answers are shown" in texts(at)
    assert "Team results appear" not in texts(at)

