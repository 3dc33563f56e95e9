"""The attacker's view of consultants' accounts: the sign-in door under attempts made at the same
moment (the lockout must hold, memory must stay bounded), and what one account leaves behind in
a browser tab for the next (SQLite and PostgreSQL where the store is involved)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest
import sqlalchemy as sa
from conftest import PASSWORD, ROOT, add_consultant

from assessment.schema import attempts
from assessment.store import Refused, Store, StoreError
from assessment.store import accounts as accounts_module

pytestmark = pytest.mark.postgres


def failures(store, subject: str) -> int:
    with store.engine.connect() as db:
        return db.execute(sa.select(sa.func.count()).select_from(attempts).where(
            attempts.c.subject == subject)).scalar()


def at_once(how_many: int, attempt) -> list:
    """Run `attempt(i)` in that many threads released together; what each returned or raised."""
    start = threading.Barrier(how_many)
    outcome: list = [None] * how_many

    def one(i: int) -> None:
        start.wait()
        try:
            outcome[i] = attempt(i)
        except Exception as e:  # noqa: BLE001 - the outcome under test
            outcome[i] = e

    threads = [threading.Thread(target=one, args=(i,)) for i in range(how_many)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return outcome


def test_guesses_made_at_the_same_moment_still_stop_at_the_lockout(database_url):
    """Ten failures lock a username. A guesser who opens fifteen sessions and sends every guess
    at once must not get fifteen passwords checked: each attempt is counted before its password
    is, so the ones that come later see the ones before them."""
    # A real wait while the door slows guessers down: the window a guesser would use.
    store = Store(database_url, sleep=lambda seconds: time.sleep(0.3))
    store.create_schema()
    try:
        add_consultant(store, "anna")
        for i in range(5):  # five free failures first: from now on each attempt waits
            assert store.authenticate("anna", f"wrong {i}", f"10.0.0.{i}") is None
        outcome = at_once(15, lambda i: store.authenticate("anna", f"guess {i}",
                                                           f"10.1.0.{i}"))
        checked = [o for o in outcome if o is None]
        refused = [o for o in outcome if isinstance(o, Refused)]
        assert (len(checked), len(refused)) == (5, 10), outcome
        assert failures(store, "username:anna") == 10
        # and the lock holds for the right password too
        with pytest.raises(Refused, match="try again in 15 minutes"):
            store.authenticate("anna", PASSWORD, "10.2.0.1")
    finally:
        store.close()


def test_a_right_password_counts_no_failure_even_when_checked_beside_wrong_ones(database_url):
    store = Store(database_url, sleep=lambda seconds: None)
    store.create_schema()
    try:
        add_consultant(store, "anna")
        outcome = at_once(6, lambda i: store.authenticate(
            "anna", PASSWORD if i % 2 else f"wrong {i}", "10.0.0.1"))
        assert sorted(type(o).__name__ for o in outcome) == ["NoneType"] * 3 + ["User"] * 3
        assert failures(store, "username:anna") == 3
        assert failures(store, "address:10.0.0.1") == 3
    finally:
        store.close()


def test_a_sign_in_that_waits_too_long_for_the_hashing_is_refused_as_busy_and_not_counted(
        database_url):
    """Every hashing slot of the process taken (a burst of sign-ins): the next attempt waits at
    most `hashing_wait` seconds, is then told to try again, and is not a failure."""
    store = Store(database_url, sleep=lambda seconds: None)
    store.create_schema()
    store.hashing_wait = 0.2
    slots = accounts_module.HASHES_AT_ONCE
    try:
        add_consultant(store, "anna")
        for _ in range(slots):
            assert accounts_module._hashing.acquire(timeout=5)
        try:
            started = time.monotonic()
            with pytest.raises(StoreError, match="busy checking other sign-ins"):
                store.authenticate("anna", PASSWORD, "10.0.0.1")
            assert time.monotonic() - started < 5
        finally:
            for _ in range(slots):
                accounts_module._hashing.release()
        assert failures(store, "username:anna") == 0
        assert store.authenticate("anna", PASSWORD, "10.0.0.1").username == "anna"
    finally:
        store.close()


MEMORY_PROBE = """
import resource, sys, threading
sys.path.insert(0, {root!r})
from assessment.store.accounts import check_password, hash_password
stored = hash_password("correct horse battery", b"salt" * 4)  # the real cost: 128 MiB
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
threads = [threading.Thread(target=check_password, args=(f"guess {{i}}", stored))
           for i in range({n})]
for t in threads: t.start()
for t in threads: t.join()
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""


def test_sign_ins_at_the_same_moment_do_not_each_take_128_mib():
    """scrypt at OWASP's cost takes 128 MiB per hash: eight sign-ins at once must not take a
    gigabyte (a guesser with a hundred sessions would take 12 GiB and the server with it).
    At most HASHES_AT_ONCE hashes run together in a process; the others queue."""
    n = 8
    probe = subprocess.run([sys.executable, "-c", MEMORY_PROBE.format(root=str(ROOT), n=n)],
                           capture_output=True, text=True, timeout=300)
    assert probe.returncode == 0, probe.stderr
    grown_mib = int(probe.stdout.strip())
    # One hash ran before the baseline was taken, so the peak grows by about
    # (HASHES_AT_ONCE - 1) * 128 MiB; unbounded, it would grow by (n - 1) * 128 MiB.
    assert grown_mib < (accounts_module.HASHES_AT_ONCE + 0.5) * 128, grown_mib


# ---------------------------------------------------------------- one browser tab, two accounts

PLAN = "app_pages/plan.py"


def offered_downloads(at) -> list[str]:
    return [d.proto.label for d in at.get("download_button")]


def test_a_prepared_workbook_is_never_offered_for_another_workshop_or_to_the_next_account(db):
    """A consultant prepares one client's plan workbook, then opens another client's workshop:
    the download there must not hand over the first client's workbook under the second
    client's file name. Signed out, the next consultant on the same browser tab must not be
    offered it either (seen through the websocket: Alice's workbook on Bob's plan page)."""
    from conftest import give, open_workshop_as, sign_in_as
    from streamlit.testing.v1 import AppTest

    from app_pages.common import OPEN_KEY
    from assessment.demo import create_demo
    from assessment.questionnaire import load_shipped

    shipped = load_shipped()
    first = create_demo(db, shipped, read_only=False)
    second = create_demo(db, shipped, read_only=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    ann = open_workshop_as(at, db, first, "ann")
    at.run()
    at.switch_page(PLAN).run()
    at.button(key="prepare_xlsx").click().run()
    assert not at.exception, at.exception
    assert "Download the action plan (.xlsx)" in offered_downloads(at)

    give(db, ann, second.client_id)  # the same consultant, another client's workshop
    at.session_state[OPEN_KEY] = second.id
    at.run()
    assert not at.exception, at.exception
    assert "Download the action plan (.xlsx)" not in offered_downloads(at)

    at.session_state[OPEN_KEY] = first.id  # prepared again, then signed out
    at.run()
    at.button(key="prepare_xlsx").click().run()
    assert "Download the action plan (.xlsx)" in offered_downloads(at)
    at.switch_page("app_pages/signin.py").run()
    at.button(key="sign_out").click().run()
    assert not at.exception, at.exception

    bob = sign_in_as(at, db, "bob")  # the next consultant, on the same tab
    at.run()
    give(db, bob, second.client_id)
    at.session_state[OPEN_KEY] = second.id
    at.switch_page(PLAN).run()
    assert not at.exception, at.exception
    assert "Download the action plan (.xlsx)" not in offered_downloads(at)
    assert "plan_xlsx" not in at.session_state


# ---------------------------------------------------------------- names drawn alike

INVISIBLE = ["\u200b", "\u200d", "\u00ad", "\ufeff", "\u2060", "\u034f", "\u180e"]


@pytest.mark.parametrize("mark", INVISIBLE)
def test_a_username_with_an_invisible_character_is_the_same_username(database_url, mark):
    """'admin' followed by a zero-width space looks like 'admin' on the Users page and in
    'Signed in as': it is taken, and typing either signs in the one account."""
    store = Store(database_url, sleep=lambda seconds: None)
    store.create_schema()
    try:
        add_consultant(store, "admin", admin=True)
        with pytest.raises(StoreError, match="taken"):
            add_consultant(store, f"ad{mark}min")
        assert store.authenticate(f"admin{mark}", PASSWORD, "10.0.0.1").username == "admin"
    finally:
        store.close()


@pytest.mark.parametrize(("typed", "shown"), [
    ("\u202eennA", "ennA"),            # right-to-left override: drawn as "Anne"
    ("\u2066Ann\u2069", "Ann"),        # isolate
    ("Acme\u202d Ltd", "Acme Ltd"),    # left-to-right override
])
def test_direction_overrides_are_taken_out_of_names(database_url, typed, shown):
    store = Store(database_url, sleep=lambda seconds: None)
    store.create_schema()
    try:
        ann = add_consultant(store, "ann")
        assert store.create_client_for(ann, typed).name == shown
        workshop = store.create_workshop_for(ann, store.create_client_for(ann, "Zed").id,
                                             "Offsite", ["commitment"])
        person, _ = store.join(workshop.code, typed, "manager")
        assert person.name == shown
    finally:
        store.close()


@pytest.mark.parametrize("mark", INVISIBLE)
def test_a_participant_name_with_an_invisible_character_cannot_join_beside_its_look_alike(
        database_url, mark):
    store = Store(database_url, sleep=lambda seconds: None)
    store.create_schema()
    try:
        ann = add_consultant(store, "ann")
        workshop = store.create_workshop_for(ann, store.create_client_for(ann, "Acme").id,
                                             "Offsite", ["commitment"])
        store.join(workshop.code, "Ann", "manager")
        with pytest.raises(StoreError, match="already joined"):
            store.join(workshop.code, f"An{mark}n", "manager")
        assert len(store.participants(workshop.id)) == 1
    finally:
        store.close()
