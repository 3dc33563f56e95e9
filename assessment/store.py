"""Storage of clients, workshops, participants and answers: SQLite by default, PostgreSQL by URL.

Every answer is written the moment it is given, one row per participant, questionnaire,
question and option, with timestamps. Creating the schema is idempotent and never drops data.
Only SQLAlchemy Core with bound parameters; no SQL specific to one database except the upsert,
which SQLAlchemy spells for each dialect.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from .errors import StoreError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = f"sqlite:///{PROJECT_ROOT / 'data' / 'assessment.db'}"
ROLES = ("executive", "manager", "frontline", "other")
JOIN_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread aloud
MAX_NAME = 80
MAX_TEXT = 5000

metadata = sa.MetaData()

clients = sa.Table(
    "clients", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("sector", sa.String(100), nullable=False, server_default=""),
    sa.Column("size_band", sa.String(50), nullable=False, server_default=""),
    sa.Column("region", sa.String(100), nullable=False, server_default=""),
    sa.Column("is_demo", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

workshops = sa.Table(
    "workshops", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("client_id", sa.Integer, sa.ForeignKey("clients.id"), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("code", sa.String(16), nullable=False, unique=True),
    sa.Column("questionnaires", sa.String(500), nullable=False),  # ids, comma-separated
    sa.Column("facilitator_key_hash", sa.String(200), nullable=False),
    sa.Column("answering_open", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("results_revealed", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("closed_at", sa.DateTime(timezone=True)),
)

participants = sa.Table(
    "participants", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("workshop_id", sa.Integer, sa.ForeignKey("workshops.id"), nullable=False,
              index=True),
    sa.Column("name", sa.String(MAX_NAME), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

answers = sa.Table(
    "answers", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("participant_id", sa.Integer, sa.ForeignKey("participants.id"), nullable=False),
    sa.Column("questionnaire_id", sa.String(100), nullable=False),
    sa.Column("question_id", sa.String(100), nullable=False),
    sa.Column("option_id", sa.String(100), nullable=False, server_default=""),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("participant_id", "questionnaire_id", "question_id", "option_id",
                        name="one_answer_per_question_option"),
)

agreed_scores = sa.Table(
    "agreed_scores", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("workshop_id", sa.Integer, sa.ForeignKey("workshops.id"), nullable=False,
              index=True),
    sa.Column("questionnaire_id", sa.String(100), nullable=False),
    sa.Column("dimension_id", sa.String(100), nullable=False),
    sa.Column("computed_score", sa.Float),
    sa.Column("agreed_score", sa.Float, nullable=False),
    sa.Column("rationale", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

notes = sa.Table(
    "notes", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("workshop_id", sa.Integer, sa.ForeignKey("workshops.id"), nullable=False,
              index=True),
    sa.Column("questionnaire_id", sa.String(100), nullable=False, server_default=""),
    sa.Column("dimension_id", sa.String(100), nullable=False, server_default=""),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)


targets = sa.Table(
    "targets", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("workshop_id", sa.Integer, sa.ForeignKey("workshops.id"), nullable=False),
    sa.Column("dimension_id", sa.String(100), nullable=False),
    sa.Column("target", sa.Float, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("workshop_id", "dimension_id", name="one_target_per_dimension"),
)

plan_items = sa.Table(
    "plan_items", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("workshop_id", sa.Integer, sa.ForeignKey("workshops.id"), nullable=False),
    sa.Column("action_id", sa.String(100), nullable=False),
    sa.Column("owner", sa.String(200), nullable=False, server_default=""),
    sa.Column("due", sa.Date),
    sa.Column("status", sa.String(20), nullable=False, server_default="Not started"),
    sa.Column("notes", sa.Text, nullable=False, server_default=""),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("workshop_id", "action_id", name="one_edit_per_action"),
)


@dataclass(frozen=True)
class Client:
    id: int
    name: str
    sector: str = ""
    size_band: str = ""
    region: str = ""
    is_demo: bool = False


@dataclass(frozen=True)
class Workshop:
    id: int
    client_id: int
    client_name: str
    title: str
    code: str
    questionnaire_ids: tuple[str, ...]
    answering_open: bool
    results_revealed: bool
    is_demo: bool
    created_at: datetime


@dataclass(frozen=True)
class Participant:
    id: int
    workshop_id: int
    name: str
    role: str


def now() -> datetime:
    return datetime.now(UTC)


def hash_secret(secret: str, salt: bytes | None = None) -> str:
    """scrypt hash of a facilitator key, stored as salt$hash (hex)."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"{salt.hex()}${digest.hex()}"


def check_secret(secret: str, stored: str) -> bool:
    """Compare a key with its stored scrypt hash in constant time."""
    try:
        salt_hex, _ = stored.split("$", 1)
        expected = hash_secret(secret, bytes.fromhex(salt_hex))
    except ValueError:
        return False
    return hmac.compare_digest(expected, stored)


def token_hash(token: str) -> str:
    # Participant tokens are 192 random bits, so a fast hash is enough to keep them out of the
    # database in clear while allowing a direct lookup; scrypt is for human-chosen secrets.
    return hashlib.sha256(token.encode()).hexdigest()


def database_url() -> str:
    """DATABASE_URL from the environment, else a SQLite file in the project's data/ folder."""
    return os.environ.get("DATABASE_URL") or DEFAULT_URL


def make_engine(url: str) -> sa.Engine:
    """An engine for the URL; SQLite gets WAL, a busy timeout, foreign keys and BEGIN IMMEDIATE."""
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    path = sa.engine.make_url(url).database
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                              pool_size=10, max_overflow=20)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # The driver's own transaction handling is switched off so that every transaction can
        # start with BEGIN IMMEDIATE: a writer takes the lock up front and waits its turn,
        # instead of two readers both upgrading to writers and one failing ("deadlock").
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class Store:
    """The application's data, behind plain methods that speak the domain."""

    def __init__(self, url: str | None = None):
        self.url = url or database_url()
        self.engine = make_engine(self.url)
        self._schema_lock = threading.Lock()

    def create_schema(self) -> None:
        """Create missing tables; never drops or alters existing ones."""
        with self._schema_lock:
            metadata.create_all(self.engine, checkfirst=True)

    def close(self) -> None:
        self.engine.dispose()

    # ---------------------------------------------------------------- clients and workshops

    def create_client(self, name: str, sector: str = "", size_band: str = "", region: str = "",
                      is_demo: bool = False) -> Client:
        name = _clean(name, "client name", 200)
        with self.engine.begin() as db:
            cid = db.execute(clients.insert().values(
                name=name, sector=sector.strip(), size_band=size_band.strip(),
                region=region.strip(), is_demo=is_demo, created_at=now())).inserted_primary_key[0]
        return Client(cid, name, sector.strip(), size_band.strip(), region.strip(), is_demo)

    def clients(self) -> list[Client]:
        with self.engine.connect() as db:
            rows = db.execute(sa.select(clients).order_by(clients.c.name)).mappings().all()
        return [Client(r["id"], r["name"], r["sector"], r["size_band"], r["region"], r["is_demo"])
                for r in rows]

    def create_workshop(self, client_id: int, title: str,
                        questionnaire_ids: list[str] | tuple[str, ...],
                        facilitator_key: str | None = None) -> tuple[Workshop, str]:
        """A new workshop with a fresh join code; returns it and the facilitator key (shown once)."""
        title = _clean(title, "workshop title", 200)
        if not questionnaire_ids:
            raise StoreError("choose at least one questionnaire")
        key = facilitator_key or secrets.token_urlsafe(12)
        for _ in range(20):
            code = "".join(secrets.choice(JOIN_ALPHABET) for _ in range(6))
            try:
                with self.engine.begin() as db:
                    wid = db.execute(workshops.insert().values(
                        client_id=client_id, title=title, code=code,
                        questionnaires=",".join(questionnaire_ids),
                        facilitator_key_hash=hash_secret(key), created_at=now(),
                    )).inserted_primary_key[0]
                return self.workshop(wid), key
            except sa.exc.IntegrityError as e:
                if "client" in str(e.orig).lower() and "foreign" in str(e.orig).lower():
                    raise StoreError(f"no client with id {client_id}") from None
                continue  # the join code was taken: draw another
        raise StoreError("could not draw a free join code")

    def _workshops_query(self):
        return sa.select(workshops, clients.c.name.label("client_name"),
                         clients.c.is_demo).join(clients)

    @staticmethod
    def _workshop(row) -> Workshop:
        return Workshop(row["id"], row["client_id"], row["client_name"], row["title"],
                        row["code"], tuple(x for x in row["questionnaires"].split(",") if x),
                        row["answering_open"], row["results_revealed"], row["is_demo"],
                        row["created_at"])

    def workshop(self, workshop_id: int) -> Workshop:
        with self.engine.connect() as db:
            row = db.execute(self._workshops_query().where(workshops.c.id == workshop_id)
                             ).mappings().first()
        if row is None:
            raise StoreError(f"no workshop with id {workshop_id}")
        return self._workshop(row)

    def workshop_by_code(self, code: str) -> Workshop | None:
        code = (code or "").strip().upper()
        with self.engine.connect() as db:
            row = db.execute(self._workshops_query().where(workshops.c.code == code)
                             ).mappings().first()
        return self._workshop(row) if row else None

    def workshops(self) -> list[Workshop]:
        with self.engine.connect() as db:
            rows = db.execute(self._workshops_query().order_by(workshops.c.created_at.desc())
                              ).mappings().all()
        return [self._workshop(r) for r in rows]

    def completed_workshops(self, questionnaire_id: str, sector: str = "", size_band: str = "",
                            region: str = "") -> list[Workshop]:
        """Each matching real client's latest workshop with this questionnaire and answering
        closed; demo clients never count."""
        query = (self._workshops_query()
                 .where(workshops.c.answering_open.is_(False), clients.c.is_demo.is_(False))
                 .order_by(workshops.c.client_id, workshops.c.created_at.desc(),
                           workshops.c.id.desc()))
        for column, value in ((clients.c.sector, sector), (clients.c.size_band, size_band),
                              (clients.c.region, region)):
            if value:
                query = query.where(sa.func.lower(column) == value.strip().lower())
        with self.engine.connect() as db:
            rows = db.execute(query).mappings().all()
        latest: dict[int, Workshop] = {}
        for row in rows:
            workshop = self._workshop(row)
            if questionnaire_id in workshop.questionnaire_ids:
                latest.setdefault(workshop.client_id, workshop)
        return list(latest.values())

    def check_facilitator_key(self, workshop_id: int, key: str) -> bool:
        with self.engine.connect() as db:
            stored = db.execute(sa.select(workshops.c.facilitator_key_hash).where(
                workshops.c.id == workshop_id)).scalar()
        return bool(stored) and check_secret(key or "", stored)

    def set_answering_open(self, workshop_id: int, is_open: bool) -> None:
        with self.engine.begin() as db:
            db.execute(workshops.update().where(workshops.c.id == workshop_id).values(
                answering_open=is_open, closed_at=None if is_open else now()))

    def set_results_revealed(self, workshop_id: int, revealed: bool) -> None:
        with self.engine.begin() as db:
            db.execute(workshops.update().where(workshops.c.id == workshop_id).values(
                results_revealed=revealed))

    # ---------------------------------------------------------------- participants and answers

    def join(self, code: str, name: str, role: str) -> tuple[Participant, str]:
        """Add a participant to the workshop with this code; returns them and their token."""
        workshop = self.workshop_by_code(code)
        if workshop is None:
            raise StoreError(f"no workshop has the join code {code.strip()!r}")
        if not workshop.answering_open:
            raise StoreError("this workshop is closed for answers")
        name = _clean(name, "name", MAX_NAME)
        if role not in ROLES:
            raise StoreError(f"role must be one of {', '.join(ROLES)}")
        token = secrets.token_urlsafe(24)
        with self.engine.begin() as db:
            taken = db.execute(sa.select(sa.func.count()).select_from(participants).where(
                participants.c.workshop_id == workshop.id,
                sa.func.lower(participants.c.name) == name.lower())).scalar()
            if taken:
                # Two rows for one person would count their answers twice; a namesake adds
                # an initial. Someone who has joined returns through their personal link.
                raise StoreError(f"someone named {name!r} has already joined this workshop. "
                                 f"If that is you, open your personal link; otherwise add an "
                                 f"initial to your name")
            pid = db.execute(participants.insert().values(
                workshop_id=workshop.id, name=name, role=role, token_hash=token_hash(token),
                created_at=now())).inserted_primary_key[0]
        return Participant(pid, workshop.id, name, role), token

    def participant_by_token(self, token: str) -> Participant | None:
        if not token:
            return None
        with self.engine.connect() as db:
            row = db.execute(sa.select(participants).where(
                participants.c.token_hash == token_hash(token))).mappings().first()
        return Participant(row["id"], row["workshop_id"], row["name"], row["role"]) if row else None

    def participants(self, workshop_id: int) -> list[Participant]:
        with self.engine.connect() as db:
            rows = db.execute(sa.select(participants).where(
                participants.c.workshop_id == workshop_id).order_by(participants.c.id)
            ).mappings().all()
        return [Participant(r["id"], r["workshop_id"], r["name"], r["role"]) for r in rows]

    def save_answer(self, participant_id: int, questionnaire_id: str, question_id: str,
                    value: str | int | None, option_id: str = "") -> None:
        """Write one answer now (insert or replace); a blank value records 'not answered'."""
        text = "" if value is None else str(value).strip()
        if len(text) > MAX_TEXT:
            raise StoreError(f"an answer is limited to {MAX_TEXT} characters")
        self.save_answers(participant_id, questionnaire_id, [(question_id, option_id, text)])

    def save_answers(self, participant_id: int, questionnaire_id: str,
                     rows: list[tuple[str, str, str]]) -> None:
        """Write several answers (question, option, value) in one transaction."""
        if not rows:
            return
        stamp = now()
        values = [dict(participant_id=participant_id, questionnaire_id=questionnaire_id,
                       question_id=q, option_id=o or "", value="" if v is None else str(v),
                       created_at=stamp, updated_at=stamp) for q, o, v in rows]
        insert = (postgresql.insert if self.engine.dialect.name == "postgresql"
                  else sqlite.insert)(answers)
        statement = insert.on_conflict_do_update(
            index_elements=["participant_id", "questionnaire_id", "question_id", "option_id"],
            set_={"value": insert.excluded.value, "updated_at": insert.excluded.updated_at})
        with self.engine.begin() as db:
            open_ = db.execute(sa.select(workshops.c.answering_open).join(
                participants, participants.c.workshop_id == workshops.c.id).where(
                participants.c.id == participant_id)).scalar()
            if open_ is None:
                raise StoreError(f"no participant with id {participant_id}")
            if not open_:
                raise StoreError("answering is closed for this workshop; your answer was not saved")
            db.execute(statement, values)

    def answers_of(self, participant_id: int, questionnaire_id: str) -> dict[tuple[str, str], str]:
        """A participant's answers to one questionnaire: (question, option) -> value."""
        with self.engine.connect() as db:
            rows = db.execute(sa.select(answers.c.question_id, answers.c.option_id,
                                        answers.c.value).where(
                answers.c.participant_id == participant_id,
                answers.c.questionnaire_id == questionnaire_id)).all()
        return {(q, o): v for q, o, v in rows}

    def answers_version(self, workshop_id: int) -> tuple:
        """Changes whenever an answer or a participant of the workshop changes (for caching)."""
        with self.engine.connect() as db:
            row = db.execute(
                sa.select(sa.func.count(answers.c.id), sa.func.max(answers.c.updated_at),
                          sa.func.count(sa.distinct(participants.c.id)))
                .select_from(participants.outerjoin(
                    answers, answers.c.participant_id == participants.c.id))
                .where(participants.c.workshop_id == workshop_id)).one()
        return tuple(str(v) for v in row)

    def answer_frame(self, workshop_id: int, questionnaire_id: str | None = None) -> pd.DataFrame:
        """All answers of a workshop in the long format (respondent = participant id)."""
        query = (sa.select(answers.c.questionnaire_id, participants.c.id.label("participant_id"),
                           participants.c.name, participants.c.role, answers.c.question_id,
                           answers.c.option_id, answers.c.value, answers.c.updated_at)
                 .join(participants, answers.c.participant_id == participants.c.id)
                 .where(participants.c.workshop_id == workshop_id)
                 .order_by(participants.c.id, answers.c.id))
        if questionnaire_id:
            query = query.where(answers.c.questionnaire_id == questionnaire_id)
        with self.engine.connect() as db:
            frame = pd.DataFrame(db.execute(query).mappings().all(),
                                 columns=["questionnaire_id", "participant_id", "name", "role",
                                          "question_id", "option_id", "value", "updated_at"])
        return frame

    # ---------------------------------------------------------------- discussion

    def record_agreed_score(self, workshop_id: int, questionnaire_id: str, dimension_id: str,
                            agreed: float, rationale: str, computed: float | None) -> None:
        """Keep the team's agreed score beside the computed one; earlier decisions are kept."""
        rationale = _clean(rationale, "rationale", MAX_TEXT)
        with self.engine.begin() as db:
            db.execute(agreed_scores.insert().values(
                workshop_id=workshop_id, questionnaire_id=questionnaire_id,
                dimension_id=dimension_id, agreed_score=float(agreed), rationale=rationale,
                computed_score=None if computed is None or pd.isna(computed) else float(computed),
                created_at=now()))

    def agreed_scores(self, workshop_id: int) -> pd.DataFrame:
        """The latest agreed score per questionnaire and dimension, with its rationale."""
        with self.engine.connect() as db:
            frame = pd.DataFrame(db.execute(sa.select(agreed_scores).where(
                agreed_scores.c.workshop_id == workshop_id).order_by(agreed_scores.c.id)
            ).mappings().all(), columns=[c.name for c in agreed_scores.columns])
        return frame.groupby(["questionnaire_id", "dimension_id"], as_index=False).last()

    def add_note(self, workshop_id: int, text: str, questionnaire_id: str = "",
                 dimension_id: str = "") -> None:
        text = _clean(text, "note", MAX_TEXT)
        with self.engine.begin() as db:
            db.execute(notes.insert().values(workshop_id=workshop_id, text=text,
                                             questionnaire_id=questionnaire_id,
                                             dimension_id=dimension_id, created_at=now()))

    def notes(self, workshop_id: int) -> pd.DataFrame:
        with self.engine.connect() as db:
            return pd.DataFrame(db.execute(sa.select(notes).where(
                notes.c.workshop_id == workshop_id).order_by(notes.c.id)).mappings().all(),
                columns=[c.name for c in notes.columns])

    # ---------------------------------------------------------------- plan

    def _upsert(self, table: sa.Table, keys: list[str], rows: list[dict], update: list[str]):
        insert = (postgresql.insert if self.engine.dialect.name == "postgresql"
                  else sqlite.insert)(table)
        statement = insert.on_conflict_do_update(
            index_elements=keys, set_={c: insert.excluded[c] for c in update})
        with self.engine.begin() as db:
            db.execute(statement, rows)

    def set_targets(self, workshop_id: int, values: dict[str, float]) -> None:
        """The team's targets per dimension (replacing earlier ones for those dimensions)."""
        if values:
            stamp = now()
            self._upsert(targets, ["workshop_id", "dimension_id"],
                         [dict(workshop_id=workshop_id, dimension_id=d, target=float(t),
                               updated_at=stamp) for d, t in values.items()],
                         ["target", "updated_at"])

    def targets(self, workshop_id: int) -> dict[str, float]:
        with self.engine.connect() as db:
            rows = db.execute(sa.select(targets.c.dimension_id, targets.c.target).where(
                targets.c.workshop_id == workshop_id)).all()
        return {d: t for d, t in rows}

    def save_plan_edits(self, workshop_id: int, edits: list[dict]) -> None:
        """Owner, due date, status and notes per action (action_id in each dict)."""
        from .planning import STATUSES

        stamp = now()
        rows = []
        for e in edits:
            status = e.get("status") or STATUSES[0]
            if status not in STATUSES:
                raise StoreError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
            due = e.get("due")
            if isinstance(due, datetime):
                due = due.date()
            if due is not None and pd.isna(due):
                due = None
            rows.append(dict(workshop_id=workshop_id, action_id=e["action_id"],
                             owner=str(e.get("owner") or "")[:200], due=due, status=status,
                             notes=str(e.get("notes") or "")[:MAX_TEXT], updated_at=stamp))
        if rows:
            self._upsert(plan_items, ["workshop_id", "action_id"], rows,
                         ["owner", "due", "status", "notes", "updated_at"])

    def plan_edits(self, workshop_id: int) -> dict[str, dict]:
        with self.engine.connect() as db:
            rows = db.execute(sa.select(plan_items).where(
                plan_items.c.workshop_id == workshop_id)).mappings().all()
        return {r["action_id"]: {"owner": r["owner"], "due": r["due"], "status": r["status"],
                                 "notes": r["notes"]} for r in rows}

    def is_empty(self) -> bool:
        with self.engine.connect() as db:
            return db.execute(sa.select(sa.func.count()).select_from(clients)).scalar() == 0


def _clean(text: str, what: str, limit: int) -> str:
    text = (text or "").strip()
    if not text:
        raise StoreError(f"the {what} must not be empty")
    if len(text) > limit:
        raise StoreError(f"the {what} is limited to {limit} characters")
    return text
