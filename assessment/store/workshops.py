"""Clients, workshops and participants: creating them, opening them, joining them."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from assessment.errors import StoreError
from assessment.schema import MAX_NAME, attempts, clients, participants, workshops
from assessment.text import clean_name, clean_text, name_key

from .doors import Refused
from .security import max_participants, now, token_hash, workshops_per_hour

ROLES = ("executive", "manager", "frontline", "other")
JOIN_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread aloud


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


class WorkshopStore:
    """Clients, workshops and participants (part of Store)."""

    # ---------------------------------------------------------------- clients and workshops

    def create_client(self, name: str, sector: str = "", size_band: str = "", region: str = "",
                      is_demo: bool = False) -> Client:
        name = clean_name(name, "client name", 200)
        sector = clean_name(sector, "sector", 100, required=False)
        size_band = clean_name(size_band, "size band", 50, required=False)
        region = clean_name(region, "region", 100, required=False)
        with self.writer.begin() as db:
            cid = db.execute(clients.insert().values(
                name=name, sector=sector, size_band=size_band, region=region, is_demo=is_demo,
                created_at=now())).inserted_primary_key[0]
        return Client(cid, name, sector, size_band, region, is_demo)

    def mark_demo(self, client_id: int) -> None:
        """Make a client the demo: invented data, read-only, never in benchmarks."""
        with self.writer.begin() as db:
            db.execute(clients.update().where(clients.c.id == client_id).values(is_demo=True))

    def clients(self) -> list[Client]:
        with self.engine.connect() as db:
            rows = db.execute(sa.select(clients).order_by(clients.c.name)).mappings().all()
        return [Client(r["id"], r["name"], r["sector"], r["size_band"], r["region"], r["is_demo"])
                for r in rows]

    def create_workshop(self, client_id: int, title: str,
                        questionnaire_ids: list[str] | tuple[str, ...],
                        address: str = "") -> Workshop:
        """A new workshop with a fresh join code. Who may open it follows from its client
        (client_access): pages create workshops through create_workshop_for.

        One client address may create WORKSHOPS_PER_HOUR workshops an hour (default 10).
        """
        title = clean_name(title, "workshop title", 200)
        if not questionnaire_ids:
            raise StoreError("choose at least one questionnaire")
        unknown = [i for i in questionnaire_ids if i not in self.questionnaires]
        if unknown:
            raise StoreError(f"no questionnaire {unknown[0]!r} in this installation")
        if address:
            with self.engine.connect() as db:
                made = self._failures(db, "create", f"address:{address}",
                                      now() - timedelta(hours=1))
            if len(made) >= workshops_per_hour():
                raise Refused(f"{workshops_per_hour()} workshops an hour can be created from "
                              f"one address: try again later", timedelta(hours=1))
        for _ in range(20):
            code = "".join(secrets.choice(JOIN_ALPHABET) for _ in range(6))
            try:
                with self.writer.begin() as db:
                    wid = db.execute(workshops.insert().values(
                        client_id=client_id, title=title, code=code,
                        questionnaires=",".join(questionnaire_ids),
                        # Facilitator keys are gone (accounts open workshops); the column
                        # is NOT NULL in older databases, so it holds a random value that
                        # no key matches.
                        facilitator_key_hash=secrets.token_hex(32), created_at=now(),
                    )).inserted_primary_key[0]
                    if address:  # counted like a failure, to cap creations per address
                        db.execute(attempts.insert().values(
                            door="create", subject=f"address:{address}", created_at=now()))
                return self.workshop(wid)
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
        code = clean_text(code)[:16].upper()
        with self.engine.connect() as db:
            row = db.execute(self._workshops_query().where(workshops.c.code == code)
                             ).mappings().first()
        return self._workshop(row) if row else None

    def find_workshop(self, code: str, address: str = "") -> Workshop:
        """The workshop with this join code, for someone about to join; wrong codes are slowed
        down and then refused per client address."""
        subjects = {"address": address or "unknown"}
        # Counted before the code is looked up, so that guesses sent at the same moment from
        # many sessions each see the ones before them; taken back when the code is right.
        counted = self._admit("join", subjects)
        try:
            workshop = self.workshop_by_code(code)
        except Exception:
            self._forgive(counted)  # never checked: not a failure
            raise
        if workshop is None:
            raise StoreError(f"no workshop has the join code {clean_text(code)[:16]!r}")
        self._forgive(counted)
        if not workshop.answering_open:
            raise StoreError("this workshop is closed for answers")
        return workshop

    def workshops(self) -> list[Workshop]:
        with self.engine.connect() as db:
            rows = db.execute(self._workshops_query().order_by(workshops.c.created_at.desc())
                              ).mappings().all()
        return [self._workshop(r) for r in rows]

    def demo_workshop(self) -> Workshop | None:
        """The demo client's newest workshop, if there is a demo (one query, however many
        workshops the installation holds)."""
        with self.engine.connect() as db:
            row = db.execute(self._workshops_query().where(clients.c.is_demo.is_(True))
                             .order_by(workshops.c.id.desc()).limit(1)).mappings().first()
        return self._workshop(row) if row else None

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

    def _writable(self, db, workshop_id: int) -> None:
        """Refuse changes to a workshop that does not exist or belongs to the demo client."""
        demo = db.execute(sa.select(clients.c.is_demo).join(workshops).where(
            workshops.c.id == workshop_id)).scalar()
        if demo is None:
            raise StoreError(f"no workshop with id {workshop_id}")
        if demo:
            raise StoreError("the demo workshop is read-only: create a workshop of your own "
                             "to try this")

    def set_answering_open(self, workshop_id: int, is_open: bool) -> None:
        with self.writer.begin() as db:
            self._writable(db, workshop_id)
            db.execute(workshops.update().where(workshops.c.id == workshop_id).values(
                answering_open=is_open, closed_at=None if is_open else now()))
        if not is_open:
            self.refresh_dimension_scores(workshop_id)  # the cache of history and comparisons

    def set_results_revealed(self, workshop_id: int, revealed: bool) -> None:
        with self.writer.begin() as db:
            self._writable(db, workshop_id)
            db.execute(workshops.update().where(workshops.c.id == workshop_id).values(
                results_revealed=revealed))

    def is_empty(self) -> bool:
        with self.engine.connect() as db:
            return db.execute(sa.select(sa.func.count()).select_from(clients)).scalar() == 0

    # ---------------------------------------------------------------- participants

    def join(self, code: str, name: str, role: str, address: str = "") -> tuple[Participant, str]:
        """Add a participant to the workshop with this code; returns them and their token."""
        workshop = self.find_workshop(code, address)
        name = clean_name(name, "name", MAX_NAME)
        key = name_key(name)
        if role not in ROLES:
            raise StoreError(f"role must be one of {', '.join(ROLES)}")
        token = secrets.token_urlsafe(24)
        taken = StoreError(f"someone named {name!r} (or a name that looks the same) has already "
                           f"joined this workshop. If that is you, open your personal link; "
                           f"otherwise add an initial to your name")
        try:
            with self.writer.begin() as db:
                # Locking the workshop's row makes the checks below and the insert one step on
                # PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers.
                db.execute(sa.select(workshops.c.id).where(workshops.c.id == workshop.id)
                           .with_for_update())
                people = db.execute(sa.select(participants.c.name_key).where(
                    participants.c.workshop_id == workshop.id)).scalars().all()
                if key in people:
                    raise taken
                if len(people) >= max_participants():
                    raise StoreError(f"this workshop is full ({max_participants()} participants)")
                pid = db.execute(participants.insert().values(
                    workshop_id=workshop.id, name=name, name_key=key, role=role,
                    token_hash=token_hash(token), created_at=now())).inserted_primary_key[0]
        except sa.exc.IntegrityError:
            raise taken from None  # the unique index caught a join that raced this one
        return Participant(pid, workshop.id, name, role), token

    def participant_by_token(self, token: str) -> Participant | None:
        if not token:
            return None
        with self.engine.connect() as db:
            row = db.execute(sa.select(participants).where(
                participants.c.token_hash == token_hash(str(token)))).mappings().first()
        return Participant(row["id"], row["workshop_id"], row["name"], row["role"]) if row else None

    def participants(self, workshop_id: int) -> list[Participant]:
        with self.engine.connect() as db:
            rows = db.execute(sa.select(participants).where(
                participants.c.workshop_id == workshop_id).order_by(participants.c.id)
            ).mappings().all()
        return [Participant(r["id"], r["workshop_id"], r["name"], r["role"]) for r in rows]
