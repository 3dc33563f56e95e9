"""Schema migrations: any database of this app comes to the latest revision with its data."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
import sqlalchemy as sa
from conftest import ROOT, add_consultant

from assessment.questionnaire import load_shipped
from assessment.schema import metadata
from assessment.store import Forbidden, Store
from assessment.store.engine import head_revision
from assessment.workshop import results

RELEASE_DB = ROOT / "tests" / "data" / "release-0.1.0.db"
# What tests/data/release-0.1.0.db holds: made by release 0.1.0's own code (the demo, a second
# client "Harbourline Ferries" with workshop C2KTSN (and a facilitator key "release-key", which
# opens nothing since accounts replaced keys), one participant "Ann"
# with an answer to a question id that never existed, an agreed score, a note, a target, a
# plan edit).
RELEASE_COUNTS = {"clients": 2, "workshops": 2, "participants": 7, "answers": 511,
                  "agreed_scores": 1, "notes": 1, "targets": 1, "plan_items": 1}
RELEASE_TOKEN = "0RkQMfKxnejU7QVtjAr-U13YW-TUs4tm"


def counts(store: Store) -> dict[str, int]:
    with store.engine.connect() as db:
        return {t: db.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar()
                for t in RELEASE_COUNTS}


@pytest.fixture
def release_db(tmp_path):
    path = tmp_path / "release.db"
    shutil.copy(RELEASE_DB, path)
    return f"sqlite:///{path}"


def test_a_database_made_by_release_0_1_0_upgrades_in_place_with_its_data(release_db):
    store = Store(release_db)
    assert store.revision() == "0001"
    before = counts(store)
    assert before == RELEASE_COUNTS
    assert store.create_schema() == head_revision() == store.revision()
    assert counts(store) == before
    workshop = store.workshop_by_code("C2KTSN")
    assert workshop.client_name == "Harbourline Ferries"
    # Workshops made before accounts belong to the first admin; the demo stays everyone's.
    root = add_consultant(store, "root", admin=True)
    other = add_consultant(store, "ann")
    assert store.workshop_for(root, workshop.id) == workshop
    with pytest.raises(Forbidden):
        store.workshop_for(other, workshop.id)
    assert [(c.name, c.is_demo) for c in store.visible_clients(other)] == [
        ("DEMO · Northwind Utilities (sample data)", True)]
    ann = store.participant_by_token(RELEASE_TOKEN)
    assert ann.name == "Ann"
    with pytest.raises(Exception, match="already joined"):
        store.join("C2KTSN", "ANN", "manager")  # the folded names were filled in
    store.close()


def test_results_of_an_upgraded_database_leave_out_what_no_longer_fits(release_db):
    store = Store(release_db)
    store.create_schema()
    workshop = store.workshop_by_code("C2KTSN")
    shipped = load_shipped()
    outcome = results(store.answer_frame(workshop.id, "commitment"), shipped["commitment"])
    assert any("no longer in the questionnaire" in note for note in outcome.left_out)
    store.close()


def test_upgrading_twice_changes_nothing(release_db):
    store = Store(release_db)
    store.create_schema()
    first = counts(store)
    store.create_schema()
    assert counts(store) == first
    store.close()


def test_the_migrations_build_exactly_the_schema_the_code_uses(database_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    store = Store(database_url)
    store.create_schema()
    with store.engine.connect() as db:
        differences = compare_metadata(MigrationContext.configure(db), metadata)
    store.close()
    assert differences == []


def test_two_processes_starting_at_once_migrate_once(database_url):
    env = {**os.environ, "DATABASE_URL": database_url}
    command = [sys.executable, "-m", "assessment", "db", "upgrade"]
    runs = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outputs = [r.communicate(timeout=120) for r in runs]
    assert [r.returncode for r in runs] == [0, 0, 0], outputs
    said = [out for out, _ in outputs]
    assert sum("(was empty)" in s or "(was None)" in s for s in said) == 1, said
    assert sum("already the latest" in s for s in said) == 2, said
    current = subprocess.run([sys.executable, "-m", "assessment", "db", "current"], cwd=ROOT,
                             env=env, capture_output=True, text=True, timeout=60)
    assert current.stdout.strip() == f"{head_revision()} (latest {head_revision()})"
