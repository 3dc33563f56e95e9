"""Database engines: SQLite by default (WAL, reads that never take the write lock), PostgreSQL
by URL; and schema migrations to the latest revision, one process at a time."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

import sqlalchemy as sa

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_URL = f"sqlite:///{PROJECT_ROOT / 'data' / 'assessment.db'}"
MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
# Any constant: the PostgreSQL advisory lock that lets one process at a time migrate.
MIGRATION_LOCK = 0x43434D41


def database_url() -> str:
    """DATABASE_URL from the environment, else a SQLite file in the project's data/ folder."""
    return os.environ.get("DATABASE_URL") or DEFAULT_URL


def normalise_url(url: str) -> str:
    """postgres:// and postgresql:// URLs use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str) -> sa.Engine:
    """An engine for the URL; SQLite gets WAL, a busy timeout and foreign keys.

    On SQLite only writing transactions begin IMMEDIATE (taking the write lock up front, so two
    writers queue instead of deadlocking); reads begin DEFERRED and, under WAL, never wait for a
    writer. Writers use `writer(engine)`.
    """
    url = normalise_url(url)
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    path = sa.engine.make_url(url).database
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                              pool_size=10, max_overflow=20)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # The driver's own transaction handling is switched off so that the begin hook below
        # decides how each transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection):
        write = connection.get_execution_options().get("write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def writer(engine: sa.Engine) -> sa.Engine:
    """The same engine (and pool), for transactions that write."""
    return engine.execution_options(write=True)


@contextlib.contextmanager
def _migration_lock(engine: sa.Engine):
    """Held while migrating, so that two processes starting at once do not both migrate."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as lock:
            lock.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
            try:
                yield
            finally:
                lock.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
                lock.commit()
        return
    path = engine.url.database
    if not path or path == ":memory:":
        yield
        return
    with open(f"{path}.migrate-lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _alembic_config(connection):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def current_revision(engine: sa.Engine) -> str | None:
    """The database's revision (None for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as db:
        revision = MigrationContext.configure(db).get_current_revision()
        if revision is None and sa.inspect(db).has_table("workshops"):
            return "0001"  # made by release 0.1.0, before migrations existed
        return revision


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config(None)).get_current_head()


def upgrade(engine: sa.Engine) -> tuple[str | None, str]:
    """Bring the database to the latest revision, keeping its data; returns the revisions
    before and after (read under the lock, so only one of several processes sees a change)."""
    from alembic import command

    with _migration_lock(engine):
        before = current_revision(engine)
        with writer(engine).begin() as db:
            config = _alembic_config(db)
            inspector = sa.inspect(db)
            if not inspector.has_table("alembic_version") and inspector.has_table("workshops"):
                # Release 0.1.0 created its tables without migrations: they are revision 0001.
                command.stamp(config, "0001")
            command.upgrade(config, "head")
    return before, head_revision()
