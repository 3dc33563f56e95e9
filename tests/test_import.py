"""Importing a past assessment: a preview that names every bad row, then all or nothing
(SQLite and PostgreSQL)."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pytest
import sqlalchemy as sa

from assessment.errors import StoreError
from assessment.importing import ImportRefused, import_assessment, import_file, preview
from assessment.schema import answers, comments, dimension_scores, participants, workshops
from assessment.store import Forbidden, Store
from assessment.store.portfolio import ImportedPerson

pytestmark = pytest.mark.postgres

GOOD = ("respondent,role,question,option,value,comment\n"
        "Ann,manager,q1,,4,\n"
        "Ann,manager,q2,,2,too slow\n"
        "Ann,manager,q3,,5,\n"
        "Ann,manager,q4,,4,\n"
        "Ben,executive,q1,,2,\n"
        "Ben,executive,q2,,4,\n"
        "Ben,executive,q3,,n/a,\n"
        "Ben,executive,q4,,3,\n"
        "Ben,executive,stop,,Status meetings,\n")
TABLES = (workshops, participants, answers, comments, dimension_scores)


@pytest.fixture
def pstore(database_url, mini):
    s = Store(database_url, questionnaires={"mini": mini})
    s.create_schema()
    s.scrypt_n = 2**10
    yield s
    s.close()


@pytest.fixture
def ann(pstore):
    return pstore.add_user("ann", "correct horse battery")


def counts(store) -> tuple[int, ...]:
    with store.engine.connect() as db:
        return tuple(db.execute(sa.select(sa.func.count()).select_from(t)).scalar()
                     for t in TABLES)


def test_a_sound_file_becomes_a_closed_workshop_marked_imported_with_its_date(pstore, ann, mini):
    client = pstore.create_client_for(ann, "Acme")
    wid = import_assessment(pstore, ann, client.id, preview(GOOD.encode(), "past.csv", mini),
                            date(2023, 5, 1), "Leadership 2023")
    entry = pstore.workshops_by_client(ann, [client.id])[client.id][0]
    assert (entry.id, entry.status, entry.held_on, entry.title) == (
        wid, "imported", date(2023, 5, 1), "Leadership 2023")
    assert pstore.workshop(wid).answering_open is False
    assert sorted((p.name, p.role) for p in pstore.participants(wid)) == [
        ("Ann", "manager"), ("Ben", "executive")]
    assert counts(pstore) == (1, 2, 9, 1, 3)
    # The cache written by the import equals a fresh scoring of the stored answers.
    before = pstore.history_frame(ann, client.id)[2].set_index("dimension_id")["score"]
    pstore.refresh_dimension_scores(wid)
    after = pstore.history_frame(ann, client.id)[2].set_index("dimension_id")["score"]
    assert after.to_dict() == pytest.approx(before.to_dict())
    assert before["d1"] == pytest.approx(3.0)  # Ann (4 + 4) / 2, Ben (2 + 2) / 2


def test_the_same_assessment_imported_twice_is_refused_and_writes_nothing(pstore, ann, mini):
    client = pstore.create_client_for(ann, "Acme")
    checked = preview(GOOD.encode(), "past.csv", mini)
    import_assessment(pstore, ann, client.id, checked, date(2023, 5, 1))
    before = counts(pstore)
    with pytest.raises(StoreError, match="imported into this client already"):
        import_assessment(pstore, ann, client.id, checked, date(2023, 5, 1), "Again")
    assert counts(pstore) == before
    # Another date is another assessment (a team that answered alike a year later).
    import_assessment(pstore, ann, client.id, checked, date(2024, 5, 1))
    assert counts(pstore)[0] == before[0] + 1


@pytest.mark.parametrize("row, bad, named", [
    (6, "Ben,executive,q1,,2,", "Ben,executive,q1,,9,"),          # out of range
    (3, "Ann,manager,q2,,2,too slow", "Ann,manager,q9,,2,"),      # unknown question
    (8, "Ben,executive,q3,,n/a,", "Ben,chief,q3,,n/a,"),          # unknown role
    (10, "Ben,executive,stop,,Status meetings,", "Ben,executive,q4,,1,"),  # the same answer twice
])
def test_one_bad_row_writes_nothing_and_is_named(pstore, ann, mini, row, bad, named):
    client = pstore.create_client_for(ann, "Acme")
    checked = preview(GOOD.replace(bad, named).encode(), "past.csv", mini)
    assert not checked.ok
    assert [p.row for p in checked.problems] == [row]
    before = counts(pstore)
    with pytest.raises(ImportRefused, match=f"row {row}"):
        import_assessment(pstore, ann, client.id, checked, date(2023, 5, 1))
    assert counts(pstore) == before


def test_the_preview_lists_every_problem_by_row(mini):
    text = (GOOD.replace("Ann,manager,q1,,4,", "Ann,manager,q1,,x,")
            .replace("Ben,executive,q2,,4,", "Ben,boss,q2,,7,"))
    checked = preview(text.encode(), "past.csv", mini)
    assert [(p.row, p.column) for p in checked.problems] == [(2, "value"), (7, "role"),
                                                            (7, "value")]
    assert checked.total_problems == 3


def test_a_failure_inside_the_transaction_leaves_nothing_behind(pstore, ann, mini):
    client = pstore.create_client_for(ann, "Acme")
    checked = preview(GOOD.encode(), "past.csv", mini)
    twins = [ImportedPerson("Ann", "manager"), ImportedPerson("ANN", "manager")]  # one name key
    with pytest.raises(sa.exc.IntegrityError):
        pstore.import_workshop(ann, client.id, "Past", mini, date(2023, 5, 1), twins,
                               list(checked.answer_rows), [], checked.scores)
    assert counts(pstore) == (0, 0, 0, 0, 0)


@pytest.mark.parametrize("text, message", [
    (GOOD.replace("Ben,", "ann,"), "looks the same as respondent 'Ann'"),
    ("respondent,question,value\n", "holds no answers"),
    ("assessment," + GOOD.replace("\nAnn", "\nx,Ann").replace("\nBen", "\ny,Ben"),
     "one past assessment per file"),
])
def test_what_a_workshop_needs_beyond_valid_answers_is_checked(mini, text, message):
    checked = preview(text.encode(), "past.csv", mini)
    assert not checked.ok and message in "\n".join(str(p) for p in checked.problems)


def test_a_file_over_the_upload_limit_is_refused_before_reading(mini):
    checked = preview(GOOD.encode() + b"x" * 5_000_001, "huge.csv", mini)
    assert not checked.ok and "limit" in str(checked.problems[0])


def test_a_workbook_imports_like_a_csv(pstore, ann, mini, tmp_path):
    wb = openpyxl.Workbook()
    for line in GOOD.strip().split("\n"):
        wb.active.append(line.split(","))
    path = tmp_path / "past.xlsx"
    wb.save(path)
    client = pstore.create_client_for(ann, "Acme")
    wid = import_file(pstore, ann, client.id, path, mini, date(2022, 11, 30))
    assert len(pstore.participants(wid)) == 2
    assert io.BytesIO(path.read_bytes()).getbuffer().nbytes > 0


def test_nobody_imports_into_the_demo_or_another_consultants_client(pstore, ann, mini):
    bob = pstore.add_user("bob", "correct horse battery")
    theirs = pstore.create_client_for(ann, "Acme")
    demo = pstore.create_client("DEMO", is_demo=True)
    checked = preview(GOOD.encode(), "past.csv", mini)
    with pytest.raises(Forbidden):
        import_assessment(pstore, bob, theirs.id, checked, date(2023, 5, 1))
    with pytest.raises(StoreError, match="demo client is read-only"):
        import_assessment(pstore, bob, demo.id, checked, date(2023, 5, 1))
    with pytest.raises(StoreError, match="past date"):
        import_assessment(pstore, ann, theirs.id, checked, date(2999, 1, 1))
    assert counts(pstore) == (0, 0, 0, 0, 0)
