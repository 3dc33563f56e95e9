"""Consultants' accounts in the store, on SQLite and PostgreSQL: passwords, the guarded sign-in,
server-side sessions, and who may see which client; and the `user` commands of the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
import sqlalchemy as sa
from conftest import PASSWORD, ROOT, add_consultant

from assessment.schema import account_sessions, attempts
from assessment.store import Forbidden, Refused, Store, StoreError
from assessment.store.accounts import (
    MIN_PASSWORD,
    SCRYPT_N,
    check_password,
    hash_password,
)

UNICODE_PASSWORD = "Zürich-Ωmega-密码"


@pytest.fixture
def fakesleep():
    """Records the waits a guarded door asks for instead of sleeping."""
    return []


@pytest.fixture
def accounts(database_url, fakesleep):
    store = Store(database_url, sleep=fakesleep.append)
    store.create_schema()
    yield store
    store.close()


def age(store, table, column, by: timedelta) -> None:
    """Move every row's time back, as if that much time had passed (in Python: SQLite keeps
    times as text, where SQL arithmetic would not work)."""
    with store.writer.begin() as db:
        rows = db.execute(sa.select(table.c.id, table.c[column])).all()
        for row_id, stamp in rows:
            db.execute(table.update().where(table.c.id == row_id).values({column: stamp - by}))


# ---------------------------------------------------------------- passwords

def test_passwords_are_hashed_with_scrypt_at_owasp_parameters_and_salted():
    one, two = hash_password("same password"), hash_password("same password")
    assert one.startswith(f"scrypt${SCRYPT_N}$8$1$") and SCRYPT_N == 2**17
    assert one != two and check_password("same password", one) and check_password(
        "same password", two)
    assert "same password" not in one


@pytest.mark.parametrize(("stored", "why"), [
    ("not-a-hash", "no fields"),
    ("bcrypt$1$2$3$00$00", "another kind"),
    ("scrypt$x$8$1$00$00", "a cost that is not a number"),
    ("scrypt$16$8$1$zz$00", "a salt that is not hex"),
])
def test_a_damaged_stored_hash_never_matches(stored, why):
    assert not check_password("anything at all", stored), why


def test_the_same_password_typed_in_another_unicode_form_matches():
    stored = hash_password("Ångström-café-Ωmega", n=2**4)
    composed_differently = "A\u030angstro\u0308m-cafe\u0301-\u2126mega"
    assert check_password(composed_differently, stored)


def test_a_non_ascii_password_signs_in_and_a_wrong_one_is_refused(accounts):
    accounts.add_user("anna", UNICODE_PASSWORD)  # at the real cost, once
    assert accounts.authenticate("anna", UNICODE_PASSWORD, "10.0.0.1").username == "anna"
    assert accounts.authenticate("ANNA", UNICODE_PASSWORD, "10.0.0.1").username == "anna"
    assert accounts.authenticate("anna", "Zurich-Omega-密码", "10.0.0.1") is None


@pytest.mark.parametrize(("password", "message"), [
    ("x" * (MIN_PASSWORD - 1), "at least 10 characters"),
    ("x" * 1025, "at most 1024 characters"),
])
def test_a_password_too_short_or_too_long_is_refused(accounts, password, message):
    with pytest.raises(StoreError, match=message):
        add_consultant(accounts, "anna", password=password)


@pytest.mark.parametrize(("username", "message"), [
    ("", "username"),
    ("ann smith", "no spaces"),
    ("x" * 81, "username"),
])
def test_a_username_must_be_one_word(accounts, username, message):
    with pytest.raises(StoreError, match=message):
        add_consultant(accounts, username)


def test_a_username_is_taken_whatever_its_case(accounts):
    add_consultant(accounts, "Anna")
    with pytest.raises(StoreError, match="taken"):
        add_consultant(accounts, "aNNA")


# ---------------------------------------------------------------- the guarded sign-in

def test_failures_are_slowed_down_then_refused_even_with_the_right_password_until_the_wait(
        accounts, fakesleep):
    add_consultant(accounts, "anna")
    for _ in range(10):
        assert accounts.authenticate("anna", "wrong password", "10.0.0.1") is None
    # five free failures, then one second more per failure, at most five
    assert fakesleep == [1.0, 2.0, 3.0, 4.0, 5.0]
    for address in ("10.0.0.1", "10.9.9.9"):  # the username is locked, from anywhere
        with pytest.raises(Refused, match="too many failed attempts: try again in 15 minutes"):
            accounts.authenticate("anna", PASSWORD, address)
    age(accounts, attempts, "created_at", timedelta(minutes=14))
    with pytest.raises(Refused, match="try again in 1 minute$"):
        accounts.authenticate("anna", PASSWORD, "10.0.0.1")
    age(accounts, attempts, "created_at", timedelta(minutes=1, seconds=1))
    assert accounts.authenticate("anna", PASSWORD, "10.0.0.1").username == "anna"


def test_one_address_guessing_many_usernames_is_refused_from_30_failures(accounts, fakesleep):
    add_consultant(accounts, "anna")
    for i in range(30):
        assert accounts.authenticate(f"guess{i}", "wrong password", "10.0.0.1") is None
    assert max(fakesleep) == 5.0
    with pytest.raises(Refused, match="try again in 15 minutes"):
        accounts.authenticate("anna", PASSWORD, "10.0.0.1")
    assert accounts.authenticate("anna", PASSWORD, "10.0.0.2").username == "anna"


def test_a_disabled_account_cannot_sign_in(accounts):
    add_consultant(accounts, "root", admin=True)
    add_consultant(accounts, "anna")
    accounts.set_disabled("anna")
    assert accounts.authenticate("anna", PASSWORD) is None
    accounts.set_disabled("anna", False)
    assert accounts.authenticate("anna", PASSWORD).username == "anna"


def test_the_last_admin_cannot_be_disabled(accounts):
    add_consultant(accounts, "root", admin=True)
    with pytest.raises(StoreError, match="last admin"):
        accounts.set_disabled("root")
    add_consultant(accounts, "second", admin=True)
    accounts.set_disabled("root")
    assert accounts.user("root").disabled


def test_changing_my_password_needs_the_current_one(accounts):
    anna = add_consultant(accounts, "anna")
    with pytest.raises(StoreError, match="current password is not right"):
        accounts.change_password(anna, "not my password", "a brand new password")
    accounts.scrypt_n = 2**4
    accounts.change_password(anna, PASSWORD, "a brand new password")
    assert accounts.authenticate("anna", PASSWORD) is None
    assert accounts.authenticate("anna", "a brand new password").username == "anna"


# ---------------------------------------------------------------- sessions

def test_a_session_finds_its_user_until_it_is_ended(accounts):
    anna = add_consultant(accounts, "anna")
    token = accounts.start_session(anna)
    assert accounts.session_user(token) == anna
    with accounts.engine.connect() as db:
        stored = db.execute(sa.select(account_sessions.c.token_hash)).scalar()
    assert token not in stored
    accounts.end_session(token)
    assert accounts.session_user(token) is None


@pytest.mark.parametrize("how", ["new password", "disabled"])
def test_a_new_password_or_disabling_ends_every_session_at_once(accounts, how):
    add_consultant(accounts, "root", admin=True)
    anna = add_consultant(accounts, "anna")
    tokens = [accounts.start_session(anna) for _ in range(2)]
    if how == "new password":
        accounts.scrypt_n = 2**4
        accounts.set_password("anna", "another good password")
    else:
        accounts.set_disabled("anna")
    assert [accounts.session_user(t) for t in tokens] == [None, None]


@pytest.mark.parametrize(("column", "by", "alive"), [
    ("last_seen_at", timedelta(hours=11, minutes=59), True),
    ("last_seen_at", timedelta(hours=12), False),       # idle for 12 hours
    ("expires_at", timedelta(seconds=-60), True),
    ("expires_at", timedelta(days=7), False),           # 7 days after the sign-in
])
def test_a_session_ends_after_12_idle_hours_or_7_days(accounts, column, by, alive):
    anna = add_consultant(accounts, "anna")
    token = accounts.start_session(anna)
    age(accounts, account_sessions, column, by)
    assert (accounts.session_user(token) == anna) is alive


@pytest.mark.parametrize("token", [None, "", "x" * 500, 12, "'; DROP TABLE users; --"])
def test_a_made_up_session_token_opens_nothing(accounts, token):
    add_consultant(accounts, "anna")
    assert accounts.session_user(token) is None


# ---------------------------------------------------------------- who sees what

@pytest.fixture
def two(accounts):
    """Two consultants with a client each, and the demo client."""
    ann, bob = add_consultant(accounts, "ann"), add_consultant(accounts, "bob")
    acme = accounts.create_client_for(ann, "Acme")
    bolt = accounts.create_client_for(bob, "Bolt")
    demo = accounts.create_client("DEMO · Sample", is_demo=True)
    w_acme = accounts.create_workshop_for(ann, acme.id, "Offsite", ["commitment"])
    w_bolt = accounts.create_workshop_for(bob, bolt.id, "Offsite", ["commitment"])
    w_demo = accounts.create_workshop(demo.id, "Demo", ["commitment"])
    return ann, bob, (acme, w_acme), (bolt, w_bolt), (demo, w_demo)


def test_a_consultant_sees_their_own_clients_and_the_demo_marked_as_demo(accounts, two):
    ann, bob, (acme, _), (bolt, _), (demo, _) = two
    seen = accounts.visible_clients(ann)
    assert [(c.name, c.is_demo) for c in seen] == [("Acme", False), ("DEMO · Sample", True)]
    assert [c.name for c in accounts.visible_clients(bob)] == ["Bolt", "DEMO · Sample"]
    assert accounts.client_for(bob, demo.id).is_demo


def test_a_consultant_cannot_reach_another_consultants_client_by_any_id(accounts, two):
    ann, bob, (acme, w_acme), _, _ = two
    calls = [
        lambda: accounts.client_for(bob, acme.id),
        lambda: accounts.workshop_for(bob, w_acme.id),
        lambda: accounts.workshops_of(bob, acme.id),
        lambda: accounts.create_workshop_for(bob, acme.id, "Mine now", ["commitment"]),
        lambda: accounts.grant(bob, acme.id, "bob"),
        lambda: accounts.revoke(bob, acme.id, "ann"),
    ]
    for call in calls:
        with pytest.raises(Forbidden) as refused:
            call()
        assert "Acme" not in str(refused.value)
    assert accounts.client_for(ann, acme.id) == acme


@pytest.mark.parametrize("forged", [999999, -1, 0, 2**40, "1 OR 1=1", None, 1.5e300, "abc"])
def test_a_forged_id_gets_the_same_answer_as_someone_elses(accounts, two, forged):
    _, bob, (acme, w_acme), _, _ = two
    with pytest.raises(Forbidden) as forged_client:
        accounts.client_for(bob, forged)
    with pytest.raises(Forbidden) as theirs:
        accounts.client_for(bob, acme.id)
    assert str(forged_client.value) == str(theirs.value) == "no client of yours has that id"
    with pytest.raises(Forbidden, match="no workshop of yours has that id"):
        accounts.workshop_for(bob, forged)


def test_a_client_given_to_a_consultant_is_theirs_until_taken_back(accounts, two):
    ann, bob, (acme, w_acme), _, _ = two
    accounts.grant(ann, acme.id, "bob")
    assert accounts.workshop_for(bob, w_acme.id) == w_acme
    assert accounts.client_users(acme.id) == ["ann", "bob"]
    accounts.revoke(ann, acme.id, "bob")
    with pytest.raises(Forbidden):
        accounts.workshop_for(bob, w_acme.id)


def test_an_admin_sees_every_client(accounts, two):
    _, _, (acme, w_acme), (bolt, w_bolt), _ = two
    root = add_consultant(accounts, "root", admin=True)
    assert {c.name for c in accounts.visible_clients(root)} == {"Acme", "Bolt", "DEMO · Sample"}
    assert accounts.workshop_for(root, w_bolt.id) == w_bolt


def test_the_demo_client_takes_no_new_workshops(accounts, two):
    ann, _, _, _, (demo, _) = two
    with pytest.raises(StoreError, match="demo client is read-only"):
        accounts.create_workshop_for(ann, demo.id, "Mine", ["commitment"])


def test_the_first_admin_is_given_every_client_made_before_accounts_but_not_the_demo(accounts):
    old = accounts.create_client("Made before accounts")
    accounts.create_client("DEMO · Sample", is_demo=True)
    root = add_consultant(accounts, "root", admin=True)
    assert accounts.client_users(old.id) == ["root"]
    add_consultant(accounts, "second", admin=True)
    assert accounts.client_users(old.id) == ["root"]
    assert root.is_admin


def test_init_makes_one_admin_with_a_random_password_only_on_a_database_without_accounts(
        accounts):
    user, password = accounts.init_admin()
    assert user.username == "admin" and user.is_admin and len(password) >= 20
    assert accounts.authenticate("admin", password).is_admin
    assert accounts.init_admin() is None


@pytest.mark.parametrize(("email", "verified", "opens"), [
    ("ann@example.com", True, "ann@example.com"),
    ("ANN@Example.com", None, "ann@example.com"),
    ("ann@example.com", False, None),       # the provider has not verified it
    ("bob@example.com", True, None),        # no account of that name
    ("off@example.com", True, None),        # disabled
    ("", True, None),
    (None, True, None),
])
def test_an_identity_providers_email_opens_the_account_of_that_name(accounts, email, verified,
                                                                    opens):
    add_consultant(accounts, "root", admin=True)
    add_consultant(accounts, "ann@example.com")
    add_consultant(accounts, "off@example.com")
    accounts.set_disabled("off@example.com")
    user = accounts.identity_user(email, verified)
    assert (user.username if user else None) == opens


# ---------------------------------------------------------------- the command line

def cli(*args: str, stdin: str = "", url: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assessment", "user", *args], cwd=ROOT,
                          input=stdin.encode(), capture_output=True, timeout=120,
                          env={**os.environ, "DATABASE_URL": url})


def test_the_cli_adds_lists_disables_and_resets_accounts(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    done = cli("add", "anna", "--admin", stdin=UNICODE_PASSWORD + "\n", url=url)
    assert done.returncode == 0 and b"added admin 'anna'" in done.stderr
    assert cli("add", "bob", stdin="bobs long password\n", url=url).returncode == 0
    listed = cli("list", url=url)
    assert listed.stdout.decode().split() == ["anna", "admin", "enabled",
                                              "bob", "consultant", "enabled"]
    assert cli("disable", "bob", url=url).returncode == 0
    assert "bob   consultant  disabled" in cli("list", url=url).stdout.decode()
    assert cli("enable", "bob", url=url).returncode == 0
    assert cli("passwd", "bob", stdin="a newer long password\n", url=url).returncode == 0
    store = Store(url)
    assert store.authenticate("anna", UNICODE_PASSWORD).is_admin
    assert store.authenticate("bob", "a newer long password").username == "bob"
    store.close()


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (("add", "anna"), "short\n", "at least 10 characters"),
    (("add", "anna"), "", "no password on standard input"),
    (("add", "an na"), "a long enough one\n", "no spaces"),
    (("passwd", "nobody"), "a long enough one\n", "no user named 'nobody'"),
    (("disable", "nobody"), "", "no user named 'nobody'"),
])
def test_the_cli_says_what_is_wrong_without_a_traceback(tmp_path, args, stdin, message):
    done = cli(*args, stdin=stdin, url=f"sqlite:///{tmp_path / 'cli.db'}")
    assert done.returncode == 1
    assert message in done.stderr.decode() and "Traceback" not in done.stderr.decode()


def test_the_cli_refuses_a_password_that_is_not_utf8(tmp_path):
    done = subprocess.run([sys.executable, "-m", "assessment", "user", "add", "anna"], cwd=ROOT,
                          input=b"\xff\xfe bad bytes here\n", capture_output=True, timeout=120,
                          env={**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}"})
    assert done.returncode == 1 and b"not UTF-8" in done.stderr


def test_user_init_prints_a_password_once_and_then_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    first = cli("init", url=url)
    assert first.returncode == 0
    password = first.stdout.decode().split("password")[1].split()[0]
    assert len(password) >= 20
    again = cli("init", url=url)
    assert again.returncode == 0 and again.stdout == b""
    store = Store(url)
    assert store.authenticate("admin", password).is_admin
    store.close()


def test_make_run_creates_the_first_admin_and_readme_quick_start_keeps_two_commands():
    makefile = (ROOT / "Makefile").read_text()
    run = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    steps = [line.strip() for line in run.splitlines()[1:]]
    assert steps.index("$(PY) -m assessment user init") < steps.index(
        "$(PY) -m streamlit run app.py")
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    assert quick.split("\n")[:-1] == ["make run", "make test"]
    assert "random password" in readme and "never a default password" in readme
