"""The floor app's database: three tables, plain SQLAlchemy Core, SQLite or PostgreSQL.

A module of its own, imported once per process, because a Streamlit script runs again from the
top on every click: tables defined in the script itself would be new objects each run, and
every new Table object gets new entries in SQLAlchemy's compiled-statement cache (hundreds of
thousands of live objects after a few hundred clicks, which made each click's full garbage
collection slower and slower). The real app keeps its schema in a module for the same reason.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()
workshops = sa.Table("floor_workshops", metadata, sa.Column("code", sa.String(16), primary_key=True))
participants = sa.Table(
    "floor_participants", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(16), nullable=False),
    sa.Column("name", sa.String(80), nullable=False),
    sa.Column("token", sa.String(64), nullable=False, unique=True),  # in clear: a bench, no users
)
answers = sa.Table(
    "floor_answers", metadata,
    sa.Column("participant_id", sa.Integer, primary_key=True),
    sa.Column("question_id", sa.String(100), primary_key=True),
    sa.Column("value", sa.String(20), nullable=False),
)


def make_engine(url: str) -> sa.Engine:
    """The ordinary settings: a pool like the app's; SQLite in WAL with a busy timeout."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                              pool_size=10, max_overflow=20)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


def create_schema(engine: sa.Engine, code: str | None = None) -> None:
    """The tables (if missing) and, if given, a workshop with this join code."""
    metadata.create_all(engine, checkfirst=True)
    if code:
        with engine.begin() as db:
            db.execute(workshops.insert().values(code=code))


def join(engine: sa.Engine, code: str, name: str, token: str) -> bool:
    """Add a participant to the workshop with this code; False if there is no such workshop."""
    with engine.begin() as db:
        if not db.execute(sa.select(workshops.c.code).where(workshops.c.code == code)).first():
            return False
        db.execute(participants.insert().values(code=code, name=name.strip(), token=token))
    return True


def participant(engine: sa.Engine, token: str) -> int | None:
    with engine.connect() as db:
        return db.execute(sa.select(participants.c.id).where(participants.c.token == token)
                          ).scalar()


def answers_of(engine: sa.Engine, participant_id: int) -> dict[str, str]:
    with engine.connect() as db:
        return dict(db.execute(sa.select(answers.c.question_id, answers.c.value).where(
            answers.c.participant_id == participant_id)).all())


def save_answer(engine: sa.Engine, participant_id: int, question_id: str, value: str) -> None:
    """Insert or replace one answer (SQLite and PostgreSQL both spell ON CONFLICT)."""
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(answers).values(participant_id=participant_id, question_id=question_id,
                                       value=value)
    statement = statement.on_conflict_do_update(
        index_elements=["participant_id", "question_id"], set_={"value": statement.excluded.value})
    with engine.begin() as db:
        db.execute(statement)


def stored_answers(engine: sa.Engine, code: str) -> dict[tuple[str, str], str]:
    """The answers given in the workshop with this code, as (participant name, question) ->
    value, for the load test."""
    with engine.connect() as db:
        rows = db.execute(sa.select(participants.c.name, answers.c.question_id, answers.c.value)
                          .join(participants, participants.c.id == answers.c.participant_id)
                          .where(participants.c.code == code)).all()
    return {(name, qid): value for name, qid, value in rows}
