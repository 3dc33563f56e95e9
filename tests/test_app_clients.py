"""My clients and Side by side, driven through AppTest: only my clients, the demo marked, the
history, the comparison and the workbook."""

from __future__ import annotations

import re
from datetime import date

import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from app_pages.common import SESSION_KEY
from assessment.importing import import_assessment, preview
from assessment.questionnaire import load_shipped

TIMEOUT = 60
SHIPPED = load_shipped()
Q = SHIPPED["commitment"]


def texts(at: AppTest) -> str:
    """What the page says, without the escapes of app_pages.common.plain()."""
    parts = [e.value for kind in ("markdown", "caption", "subheader", "title", "header", "info",
                                  "success", "warning", "error", "text")
             for e in getattr(at, kind)]
    return re.sub(r"\\([!-/:-@[-`{-~])", r"\1", "\n".join(map(str, parts))).replace("\u2060", "")


def past_file(level: int) -> bytes:
    """Three respondents answering every scored question of `commitment` around a level."""
    lines = ["respondent,role,question,option,value"]
    for i, lean in enumerate((-1, 0, 1)):
        for q in Q.scored_questions:
            value = min(Q.scale.max, max(Q.scale.min, level + lean))
            if q.reverse:
                value = Q.scale.min + Q.scale.max - value
            lines.append(f"P{i},manager,{q.id},,{value}")
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def people(db):
    db.scrypt_n = 2**10
    ann = db.add_user("ann", "correct horse battery")
    bob = db.add_user("bob", "correct horse battery")
    acme = db.create_client_for(ann, "Acme Ferries", sector="Transport")
    boreal = db.create_client_for(ann, "Borealis Bank", sector="Banking")
    db.create_client_for(bob, "Bob's Secret Client")
    for client, held, level in ((acme, date(2023, 3, 1), 2), (acme, date(2024, 3, 1), 4),
                                (boreal, date(2024, 6, 1), 3)):
        import_assessment(db, ann, client.id, preview(past_file(level), "past.csv", Q), held,
                          f"Workshop {held.year}")
    demo = db.create_client("DEMO · Sample", is_demo=True)
    return {"ann": ann, "bob": bob, "acme": acme, "boreal": boreal, "demo": demo}


def page(db, path: str, user=None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    if user is not None:
        at.session_state[SESSION_KEY] = db.start_session(user)
    at.run()
    at.switch_page(path).run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("path", ["app_pages/clients.py", "app_pages/compare.py"])
def test_without_signing_in_the_pages_show_no_client_at_all(db, people, path):
    at = page(db, path)
    said = texts(at)
    assert "Sign in" in said or "sign in" in said
    assert "Acme" not in said and not at.dataframe


def test_my_clients_lists_mine_and_the_demo_marked_never_anothers(db, people):
    at = page(db, "app_pages/clients.py", people["ann"])
    listed = at.dataframe[0].value
    assert list(listed["Client"]) == ["Acme Ferries", "Borealis Bank",
                                      "DEMO · Sample  (demo: invented data)"]
    assert "2023-03-01 imported · 2024-03-01 imported" in list(listed["Workshops (held, status)"])
    assert "Bob" not in " ".join(listed["Client"])


def test_a_clients_history_shows_the_change_with_its_arrow(db, people):
    at = page(db, "app_pages/clients.py", people["ann"])
    history = at.dataframe[1].value
    latest = history[history["Held"] == date(2024, 3, 1)]
    assert all(c.startswith("↑ +") for c in latest["Change"])
    # +2 against a pooled SD of 1 on every dimension; the overall score has no spread
    assert set(latest[latest["Dimension"] != "Overall"]["Within noise"]) == {"no"}
    assert set(latest[latest["Dimension"] == "Overall"]["Within noise"]) == {""}
    (chart,) = at.get("vega_lite_chart")
    assert '"format": "%d %b %Y"' in chart.proto.spec  # dates as dates, not "Mon 30"


def test_the_plan_share_says_it_counts_the_actions_saved_on_the_plan_page(db, people):
    latest = next(w for w in db.workshops()
                  if w.title == "Workshop 2024" and w.client_id == people["acme"].id)
    db.set_tier(latest.id, "le-3-03", "priority", "the CEO sponsors it")
    at = page(db, "app_pages/clients.py", people["ann"])
    done = at.dataframe[2].value.set_index("Workshop")["Done"]
    assert done["Workshop 2024"] == "0 of 1 saved action (0%)"
    assert done["Workshop 2023"] == "no plan saved"
    assert "an action never touched there is not counted" in texts(at)


def test_a_client_is_given_a_size_band_from_the_one_list_and_a_save_says_so(db, people):
    from assessment.portfolio import SIZE_BANDS

    at = page(db, "app_pages/clients.py", people["ann"])
    assert at.selectbox(key="clients_new_size").options == ["", *SIZE_BANDS]
    at.text_input(key="clients_new_name").input("Cobalt Energy")
    at.selectbox(key="clients_new_size").set_value("250-999")
    at.button(key="FormSubmitter:new_client-Add client").click().run()
    assert not at.exception, at.exception
    made = next(c for c in db.visible_clients(people["ann"]) if c.name == "Cobalt Energy")
    assert made.size_band == "250-999"
    # a band written before the list existed stays, and a save says it saved
    db.update_client(people["ann"], made.id, "Energy", "big", "")
    at.run()
    (band,) = [s for s in at.selectbox if s.label == "Size band (employees)"
               and s.key != "clients_new_size"]
    assert band.options == ["", *SIZE_BANDS, "big"] and band.value == "big"
    band.set_value("5,000+")
    at.button(key=f"FormSubmitter:client_facts_{made.id}-Save").click().run()
    assert not at.exception, at.exception
    assert db.client_for(people["ann"], made.id).size_band == "5,000+"
    assert "Saved." in texts(at)


def test_the_search_narrows_the_list(db, people):
    at = page(db, "app_pages/clients.py", people["ann"])
    at.text_input(key="clients_search").input("boreal").run()
    assert list(at.dataframe[0].value["Client"]) == ["Borealis Bank"]


def test_two_clients_side_by_side_with_a_workbook_to_download(db, people):
    at = page(db, "app_pages/compare.py", people["ann"])
    assert "DEMO · Sample" not in at.multiselect(key="compare_clients").options
    at.multiselect(key="compare_clients").set_value([people["acme"].id, people["boreal"].id]).run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert list(table["Client"]) == ["Acme Ferries", "Borealis Bank"]
    assert len(at.get("vega_lite_chart")) >= 2
    at.button(key="compare_export").click().run()
    assert not at.exception, at.exception
    assert at.get("download_button")


def test_the_portfolio_overview_counts_my_real_clients_only(db, people):
    at = page(db, "app_pages/compare.py", people["ann"])
    assert "2 of your clients" in texts(at)
