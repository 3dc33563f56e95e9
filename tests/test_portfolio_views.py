"""The consultant's views against a real database (SQLite and PostgreSQL): the score cache,
history, comparison, portfolio overview, benchmarks, the workbook, and who may see what."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pytest
import sqlalchemy as sa

from assessment.history import ComparisonRefused, compare, history, portfolio_overview
from assessment.importing import import_assessment, preview
from assessment.portfolio import build_benchmark
from assessment.portfolio_export import SHEETS, gather, workbook_bytes
from assessment.schema import clients as clients_table
from assessment.schema import dimension_scores
from assessment.store import Forbidden, Store
from assessment.workshop import results

pytestmark = pytest.mark.postgres


@pytest.fixture
def pstore(database_url, mini):
    s = Store(database_url, questionnaires={"mini": mini})
    s.create_schema()
    s.scrypt_n = 2**10  # cheap test accounts (each stored hash keeps its own cost)
    yield s
    s.close()


@pytest.fixture
def ann(pstore):
    return pstore.add_user("ann", "correct horse battery")


@pytest.fixture
def bob(pstore):
    return pstore.add_user("bob", "correct horse battery")


def workshop_of(store, client_id, title="Workshop"):
    made = store.create_workshop(client_id, title, ["mini"])
    return made[0] if isinstance(made, tuple) else made


def answered(store, client_id, values, title="Workshop", close=True):
    """A live workshop where each person answers q1..q4 with the given values."""
    w = workshop_of(store, client_id, title)
    for i, (q1, q2, q3, q4) in enumerate(values):
        person, _ = store.join(w.code, f"P{i}", "manager")
        store.save_answers(person.id, "mini", [("q1", "", str(q1)), ("q2", "", str(q2)),
                                               ("q3", "", str(q3)), ("q4", "", str(q4))])
    if close:
        store.set_answering_open(w.id, False)
    return w


def imported(store, user, client_id, rows, held_on, mini):
    text = "respondent,role,question,option,value\n" + "".join(
        f"P{i},manager,q{j + 1},,{v}\n" for i, r in enumerate(rows) for j, v in enumerate(r))
    return import_assessment(store, user, client_id, preview(text.encode(), "past.csv", mini),
                             held_on, "Past")


def test_closing_answering_caches_what_results_computes(pstore, ann, mini):
    client = pstore.create_client_for(ann, "Acme")
    w = answered(pstore, client.id, [(4, 2, 5, 4), (2, 4, 3, 3), (3, 3, 4, 2)])
    expected = results(pstore.answer_frame(w.id, "mini"), mini).scores.set_index("dimension")
    _, _, cached = pstore.history_frame(ann, client.id)
    cached = cached.set_index("dimension_id")
    for dim in ("d1", "d2", "overall"):
        assert cached.at[dim, "score"] == pytest.approx(expected.at[dim, "score"])
        assert cached.at[dim, "respondents"] == expected.at[dim, "respondents"]
    assert cached.at["d1", "spread"] == pytest.approx(expected.at["d1", "sd"])
    assert set(cached["questionnaire_version"]) == {"1.0"}


def test_an_agreed_score_reaches_the_history_at_once(pstore, ann, mini):
    client = pstore.create_client_for(ann, "Acme")
    w = answered(pstore, client.id, [(4, 2, 5, 4), (2, 4, 3, 3)])
    pstore.record_agreed_score(w.id, "mini", "d1", 4.5, "We saw the evidence", None)
    client_, entries, cached = pstore.history_frame(ann, client.id)
    row = history(entries, cached, mini).set_index("dimension").loc["d1"]
    assert row["score"] == 4.5 and row["agreed"] == 4.5


def test_a_missing_cache_is_rebuilt_on_reading(pstore, ann, mini):
    client = pstore.create_client_for(ann, "Acme")
    w = answered(pstore, client.id, [(4, 2, 5, 4), (2, 4, 3, 3)])
    with pstore.writer.begin() as db:
        db.execute(dimension_scores.delete())
    _, _, cached = pstore.history_frame(ann, client.id)
    assert set(cached["workshop_id"]) == {w.id} and len(cached) == 3


def test_history_runs_from_the_imported_past_to_the_latest_workshop(pstore, ann, mini):
    client = pstore.create_client_for(ann, "Acme")
    # Imported: d1 per person (q1 + (6 - q2)) / 2 = 2, 2 -> 2.0, sd 0
    imported(pstore, ann, client.id, [(2, 4, 3, 3), (2, 4, 3, 3)], date(2023, 4, 1), mini)
    # Live: d1 per person 4 and 3 -> 3.5, sd 0.7071; change 1.5, noise sqrt((0 + 0.5) / 2) = 0.5
    answered(pstore, client.id, [(4, 2, 5, 4), (3, 3, 4, 2)], "Today")
    _, entries, cached = pstore.history_frame(ann, client.id)
    table = history(entries, cached, mini)
    d1 = table[table["dimension"] == "d1"]
    assert list(d1["status"]) == ["imported", "closed"]
    assert list(d1["score"]) == pytest.approx([2.0, 3.5])
    last = d1.iloc[-1]
    assert (last["change"], last["arrow"], last["noise"], last["within_noise"]) == (
        pytest.approx(1.5), "↑", pytest.approx(0.5), False)


def test_comparison_uses_each_clients_latest_completed_workshop(pstore, ann, mini):
    a = pstore.create_client_for(ann, "Acme")
    b = pstore.create_client_for(ann, "Borealis")
    answered(pstore, a.id, [(1, 5, 1, 1), (1, 5, 1, 1)], "Old")
    answered(pstore, a.id, [(4, 2, 4, 4), (4, 2, 4, 4)], "New")
    answered(pstore, a.id, [(5, 1, 5, 5)], "Still open", close=False)   # open: not counted
    imported(pstore, ann, b.id, [(2, 4, 2, 2), (2, 4, 2, 2)], date(2024, 1, 1), mini)
    found, latest, scores = pstore.latest_completed(ann, [a.id, b.id], "mini")
    table = compare(found, latest, scores, mini).table.set_index("client")
    assert table.at["Acme", "d1"] == 4.0 and table.at["Borealis", "d1"] == 2.0
    assert table.at["Acme", "d2"] == 4.0 and table.at["Borealis", "d2"] == 2.0


def test_comparing_across_questionnaire_versions_is_refused(pstore, ann, mini):
    a = pstore.create_client_for(ann, "Acme")
    b = pstore.create_client_for(ann, "Borealis")
    answered(pstore, a.id, [(4, 2, 4, 4), (3, 3, 3, 3)])
    wb = answered(pstore, b.id, [(2, 4, 2, 2), (3, 3, 3, 3)])
    with pstore.writer.begin() as db:  # as if Borealis had answered an older version
        db.execute(dimension_scores.update().where(dimension_scores.c.workshop_id == wb.id)
                   .values(questionnaire_version="0.9"))
    found, latest, scores = pstore.latest_completed(ann, [a.id, b.id], "mini")
    with pytest.raises(ComparisonRefused, match=r"version 0\.9: Borealis; version 1\.0: Acme"):
        compare(found, latest, scores, mini)


def make_demo(store, mini):
    demo = store.create_client("DEMO · Sample", sector="Utilities")
    answered(store, demo.id, [(5, 1, 5, 5), (5, 1, 5, 5)])
    store.mark_demo(demo.id)
    return demo


def test_the_demo_is_visible_and_marked_but_never_compared_or_counted(pstore, ann, mini):
    demo = make_demo(pstore, mini)
    a = pstore.create_client_for(ann, "Acme", sector="Utilities")
    answered(pstore, a.id, [(2, 4, 2, 2), (2, 4, 2, 2)])
    listed, total = pstore.client_page(ann)
    assert [(c.name, c.is_demo) for c in listed] == [("Acme", False), ("DEMO · Sample", True)]
    found, latest, scores = pstore.latest_completed(ann, [a.id, demo.id], "mini")
    with pytest.raises(ComparisonRefused, match="demo client never counts"):
        compare(found, latest, scores, mini)
    overview = portfolio_overview(pstore.portfolio_latest(ann, "mini"), mini)
    assert overview.clients == 1
    assert overview.levels.set_index("dimension").at["d1", "Low"] == 1


def test_benchmarks_leave_the_demo_out_and_take_imports_at_their_own_date(pstore, ann, mini):
    make_demo(pstore, mini)
    for i in range(5):
        c = pstore.create_client_for(ann, f"Client {i}")
        answered(pstore, c.id, [(4, 2, 4, 4), (4, 2, 4, 4)], "This year")   # d1 4.0
        # imported later, but held long ago: it must not count as the latest
        imported(pstore, ann, c.id, [(1, 5, 1, 1), (1, 5, 1, 1)], date(2020, 1, 1), mini)
    benchmark = build_benchmark(pstore, mini)
    assert benchmark.provenance.sample == 5
    frame = pstore.benchmark_scores("mini", "1.0")
    assert set(frame[frame["dimension_id"] == "d1"]["score"]) == {4.0}


def test_the_portfolio_workbook_has_one_sheet_per_view_and_keeps_text_as_text(pstore, ann, mini):
    a = pstore.create_client_for(ann, "=HYPERLINK(\"http://x\")")
    b = pstore.create_client_for(ann, "Borealis")
    answered(pstore, a.id, [(4, 2, 4, 4), (3, 3, 3, 3)])
    answered(pstore, b.id, [(2, 4, 2, 2), (3, 3, 3, 3)])
    data = workbook_bytes(gather(pstore, ann, [a.id, b.id], mini))
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert tuple(wb.sheetnames) == SHEETS
    cell = wb["Comparison"]["A2"]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")
    assert wb["Heatmap"]["B1"].value == "First"
    assert wb["History"].max_row == 1 + 2 * 3  # two clients, one workshop, d1 d2 overall


@pytest.mark.parametrize("call", [
    lambda s, u, c: s.history_frame(u, c),
    lambda s, u, c: s.plan_done(u, c),
    lambda s, u, c: s.latest_completed(u, [c], "mini"),
    lambda s, u, c: s.update_client(u, c, "Banking", "", ""),
    lambda s, u, c: gather(s, u, [c, c + 1000], s.questionnaires["mini"]),
])
def test_a_consultant_cannot_reach_another_consultants_client(pstore, ann, bob, mini, call):
    theirs = pstore.create_client_for(ann, "Acme")
    answered(pstore, theirs.id, [(4, 2, 4, 4), (3, 3, 3, 3)])
    with pytest.raises(Forbidden):
        call(pstore, bob, theirs.id)
    listed, total = pstore.client_page(bob)
    assert total == 0 and listed == []
    assert pstore.workshops_by_client(bob, [theirs.id]) == {}
    assert pstore.portfolio_latest(bob, "mini").empty


def test_an_admin_sees_every_client_and_sector_edits_are_kept(pstore, ann, mini):
    boss = pstore.add_user("boss", "correct horse battery", admin=True)
    client = pstore.create_client_for(ann, "Acme")
    pstore.update_client(boss, client.id, " Banking ", "50-250", "Nordics")
    listed, _ = pstore.client_page(ann, sector="Banking")
    assert [(c.sector, c.size_band, c.region) for c in listed] == [("Banking", "50-250",
                                                                    "Nordics")]
    with pstore.engine.connect() as db:
        assert db.execute(sa.select(sa.func.count()).select_from(clients_table)).scalar() == 1


def test_the_share_of_plan_actions_done_counts_saved_actions_not_dropped(pstore, ann, mini):
    client = pstore.create_client_for(ann, "Acme")
    w = answered(pstore, client.id, [(4, 2, 4, 4), (3, 3, 3, 3)])
    pstore.save_plan_edits(w.id, [
        {"action_id": "a1", "status": "Done"}, {"action_id": "a2", "status": "Done"},
        {"action_id": "a3", "status": "In progress"}, {"action_id": "a4", "status": "Dropped"},
        {"action_id": "a5", "status": "Not started"}])
    from assessment.history import plan_share

    share = plan_share(pstore.plan_done(ann, client.id), [w.id]).iloc[0]
    assert (share["done"], share["actions"], share["share"]) == (2, 4, 0.5)
