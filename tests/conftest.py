"""Shared fixtures: a small questionnaire written to a temporary folder, and file helpers."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# A small but complete questionnaire. Tests edit it line by line, so keep line numbers stable:
# line 1 is "id: mini".
MINI_YAML = textwrap.dedent("""\
    id: mini
    version: "1.0"
    title: Mini
    description: A small questionnaire for tests.
    scale:
      min: 1
      max: 5
      labels: [Strongly disagree, Disagree, Neutral, Agree, Strongly agree]
    overall: dimensions
    levels:
      - {name: Low, description: Just starting., threshold: 1}
      - {name: Middle, description: Getting there., threshold: 2.5}
      - {name: High, description: Embedded., threshold: 4}
    dimensions:
      - {id: d1, name: First, description: The first dimension.}
      - {id: d2, name: Second, description: The second dimension., weight: 2}
    questions:
      - {id: q1, dimension: d1, type: likert, text: First statement.}
      - {id: q2, dimension: d1, type: likert, text: Second statement., reverse: true}
      - {id: q3, dimension: d2, type: level, text: Which is true today?, allow_na: true, anchors: [a, b, c, d, e]}
      - {id: q4, dimension: d2, type: level, text: And this one?, weight: 3, anchors: [a, b, c, d, e]}
      - id: alloc
        type: allocation
        text: Spread 10 points.
        total: 10
        options:
          - {id: x, label: Option X}
          - {id: y, label: Option Y}
      - {id: rank, type: ranking, text: Rank them., options: [{id: x, label: X}, {id: y, label: Y}, {id: z, label: Z}]}
      - {id: pick, type: choice, text: Pick one., options: [{id: x, label: X}, {id: y, label: Y}]}
      - {id: stop, type: text, text: What will we stop doing?}
    """)


@pytest.fixture
def write(tmp_path):
    """Write text to a file in the test's temporary folder and return its path."""

    def _write(name: str, text: str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    return _write


@pytest.fixture
def mini_path(write) -> Path:
    return write("mini.yaml", MINI_YAML)


@pytest.fixture
def mini(mini_path):
    from assessment.questionnaire import load_questionnaire

    return load_questionnaire(mini_path)


# ---------------------------------------------------------------- databases

def _postgres_server():
    """TEST_DATABASE_URL if set; else a throwaway local server when PostgreSQL is installed."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url, None
    from pg import TempPostgres

    try:
        server = TempPostgres()
        return server.start(), server
    except (RuntimeError, subprocess.CalledProcessError, FileNotFoundError, KeyError) as e:
        if os.environ.get("CI"):
            raise  # CI installs PostgreSQL: a missing server there is a failure, not a skip
        return None, str(e)


@pytest.fixture(scope="session")
def postgres_admin_url():
    url, server = _postgres_server()
    if url is None:
        pytest.skip(f"no PostgreSQL server: {server}")
    yield url
    if server is not None:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A fresh, empty database per test: a SQLite file, and a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    import sqlalchemy as sa

    admin_url = request.getfixturevalue("postgres_admin_url")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as db:
        db.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as db:
        db.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def db(tmp_path, monkeypatch):
    """A temporary SQLite database that the app under test opens through DATABASE_URL."""
    from assessment.store import Store

    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    store = Store(url)
    store.create_schema()
    yield store
    store.close()


@pytest.fixture
def store(database_url):
    from assessment.store import Store

    s = Store(database_url)
    s.create_schema()
    yield s
    s.close()


# ---------------------------------------------------------------- consultants' accounts

CHEAP_SCRYPT_N = 2**4  # accounts for tests: the real cost (2^17) is checked in test_accounts
PASSWORD = "correct horse battery"


def add_consultant(store, username: str, admin: bool = False, password: str = PASSWORD):
    """An account made cheaply (a low-cost scrypt hash; every check reads the cost from the
    stored hash, so signing in works as for any account)."""
    store.scrypt_n = CHEAP_SCRYPT_N
    try:
        return store.add_user(username, password, admin=admin)
    finally:
        del store.scrypt_n


def sign_in_as(at, store, username: str = "ann", admin: bool = False):
    """Put a live session of this consultant (made if needed) into an AppTest's session state,
    as the sign-in page does; returns the user."""
    from app_pages.common import SESSION_KEY
    from assessment.store import StoreError

    try:
        user = store.user(username)
    except StoreError:
        user = add_consultant(store, username, admin)
    at.session_state[SESSION_KEY] = store.start_session(user)
    return user


def give(store, user, client_id: int) -> None:
    """Give a consultant a client, as an admin would on the Users page."""
    import sqlalchemy as sa

    from assessment.schema import client_access
    from assessment.store import now

    try:
        with store.writer.begin() as db:
            db.execute(client_access.insert().values(client_id=client_id, user_id=user.id,
                                                     created_at=now()))
    except sa.exc.IntegrityError:
        pass  # given already


def open_workshop_as(at, store, workshop, username: str = "ann"):
    """Sign a consultant in who may see this workshop's client, with the workshop opened (as
    the Facilitator page leaves it); returns the user."""
    from app_pages.common import OPEN_KEY

    user = sign_in_as(at, store, username)
    give(store, user, workshop.client_id)
    at.session_state[OPEN_KEY] = workshop.id
    return user
