"""The plan page (issue 10): priorities and backlog, moves kept across a reload, saves that say
what they changed, stop-doing decisions made from the answers; through AppTest on SQLite."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from assessment.actions import load_actions
from assessment.demo import create_demo
from assessment.planning import PRIORITY_MAX
from assessment.questionnaire import load_shipped
from assessment.store import Store

PAGE = "app_pages/plan.py"
ACTION_IDS = {a.title: a.id for a in load_actions().actions}


def texts(at: AppTest) -> str:
    """What the page says, without the escapes that keep user text from being Markdown."""
    parts = [e.value for kind in ("markdown", "caption", "subheader", "title", "info", "success",
                                  "warning", "error", "text")
             for e in getattr(at, kind)]
    return re.sub(r"\\([!-/:-@[-`{-~])", r"\1", "\n".join(map(str, parts))).replace("\u2060", "")


def open_plan(store: Store, workshop) -> AppTest:
    """The plan page with the workshop opened, as the facilitator pages leave it (with the
    consultants' sign-in where this version has it)."""
    import app_pages.common as common

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    if hasattr(common, "OPEN_KEY"):
        from conftest import open_workshop_as

        open_workshop_as(at, store, workshop)
    else:
        at.session_state["facilitator_workshop"] = workshop.id
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def finished(db):
    """A finished, writable workshop with the demo's answers."""
    return create_demo(db, load_shipped(), read_only=False)


def test_the_default_plan_shows_at_most_five_priorities_and_the_rest_as_backlog(db, finished):
    at = open_plan(db, finished)
    metrics = {m.label: int(m.value) for m in at.metric}
    assert 3 <= metrics["Priorities"] <= PRIORITY_MAX
    assert metrics["Priorities"] + metrics["Backlog"] == metrics["Actions"]
    shown = texts(at)
    assert "The workbook holds no changes" not in shown
    assert "What we will stop doing" in shown and "No decision recorded yet." in shown
    # participants' answers are listed as inputs for the facilitator, not as decisions
    assert "• Stop measuring call handling time as the main target." in shown


def test_a_move_with_its_reason_is_kept_across_a_reload_and_a_new_store(db, finished, tmp_path):
    at = open_plan(db, finished)
    before = {m.label: int(m.value) for m in at.metric}
    priority = next(o for o in at.selectbox(key="tier_action").options
                    if o.startswith("Priority · "))
    title = priority.split(" · ", 1)[1]
    at.selectbox(key="tier_action").set_value(ACTION_IDS[title])
    at.radio(key="tier_choice").set_value("backlog")
    at.text_input(key="tier_reason").input("Already under way in the programme")
    at.button(key="move_action").click().run()
    assert not at.exception, at.exception
    assert f"Moved '{title}' to the backlog (reason: Already under way in the programme)." \
        in texts(at)
    # A reload: a new session of the page, and a new Store on the same database.
    again = open_plan(db, finished)
    after = {m.label: int(m.value) for m in again.metric}
    assert after["Priorities"] == before["Priorities"] - 1
    assert after["Backlog"] == before["Backlog"] + 1
    fresh = Store(db.url)
    edits = fresh.plan_edits(finished.id)
    fresh.close()
    (moved,) = [e for e in edits.values() if e["tier"]]
    assert moved == {**moved, "tier": "backlog",
                     "tier_reason": "Already under way in the programme"}


def test_saving_an_unchanged_plan_says_there_was_nothing_to_save(db, finished):
    at = open_plan(db, finished)
    at.button(key="save_plan").click().run()
    assert not at.exception, at.exception
    assert "Nothing to save: no owner, due date, status or note was changed." in texts(at)
    assert db.plan_edits(finished.id) == {}


def test_a_decision_is_made_from_a_participants_answer_and_only_it_is_listed(db, finished):
    at = open_plan(db, finished)
    assert "No decision recorded yet." in texts(at)
    box = at.selectbox(key="decision_source")
    answer = box.options[2]  # after "(write a new decision)": the answer numbered 1
    box.set_value(1).run()
    assert at.text_area(key="decision_text_1").value.startswith(answer.rstrip("…"))
    at.text_area(key="decision_text_1").input("Stop the weekly handling-time league table")
    at.text_input(key="decision_owner").input("COO")
    at.button(key="add_decision").click().run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert ("Recorded the decision 'Stop the weekly handling-time league table', owner COO."
            in shown)
    assert "• Stop the weekly handling-time league table (owner: COO)" in shown
    (decision,) = db.decisions(finished.id)
    assert decision.owner == "COO" and decision.source.startswith(answer.rstrip("…"))


def test_after_recording_a_decision_the_form_is_empty_so_a_second_click_records_nothing(
        db, finished):
    at = open_plan(db, finished)
    at.selectbox(key="decision_source").set_value(1).run()
    at.text_input(key="decision_owner").input("COO")
    at.button(key="add_decision").click().run()
    assert not at.exception, at.exception
    assert at.selectbox(key="decision_source").value is None
    assert at.text_input(key="decision_owner").value == ""
    assert at.text_area(key="decision_text_None").value == ""
    at.button(key="add_decision").click().run()  # nothing written: an empty decision is refused
    assert len(db.decisions(finished.id)) == 1
