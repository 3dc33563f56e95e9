"""A consultant's portfolio: the per-workshop score cache, client lists, history, comparisons,
and past assessments brought in from a file.

Every query that takes a `user` shows only the clients that user may see
(AccountStore._visible): the check is here, not only in the pages.

The cache (table dimension_scores) holds each workshop's team score per questionnaire and
dimension, the latest agreed score, the spread (sample SD of the respondents' dimension scores,
scoring rule 3) and the respondents counted. It is written

- when answering closes (set_answering_open), when an agreed score is recorded
  (record_agreed_score) and when a participant is taken out (remove_participant);
- when a past assessment is imported, in the import's own transaction;
- on reading a workshop for a history or a comparison whose cache is missing or older than its
  newest answer or agreed score (refresh_dimension_scores).

Overall scores are kept as dimension "overall". Scores come from the vectorised results()
(assessment.workshop), never from a loop over answers.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import sqlalchemy as sa

from assessment.errors import StoreError
from assessment.schema import (
    agreed_scores,
    answers,
    clients,
    comments,
    dimension_scores,
    participants,
    plan_items,
    workshops,
)
from assessment.text import clean_name, name_key

from .accounts import Forbidden, User
from .security import now, token_hash
from .workshops import Client

STATUSES = ("open", "closed", "imported")
SCORE_FRAME = ["workshop_id", "questionnaire_id", "questionnaire_version", "dimension_id",
               "score", "agreed_score", "spread", "respondents"]
MAX_COMPARED = 10


@dataclass(frozen=True)
class WorkshopEntry:
    """A workshop as the consultant's lists show it."""

    id: int
    client_id: int
    title: str
    questionnaire_ids: tuple[str, ...]
    held_on: date          # the date it was held (imported) or created (live)
    status: str            # open, closed or imported


@dataclass(frozen=True)
class ImportedPerson:
    name: str
    role: str


def _day(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _status(row) -> str:
    if row["imported_on"] is not None:
        return "imported"
    return "open" if row["answering_open"] else "closed"


def _entry(row) -> WorkshopEntry:
    held = row["imported_on"] if row["imported_on"] is not None else row["created_at"]
    return WorkshopEntry(row["id"], row["client_id"], row["title"],
                         tuple(x for x in row["questionnaires"].split(",") if x), _day(held),
                         _status(row))


def _client(row) -> Client:
    return Client(row["id"], row["name"], row["sector"], row["size_band"], row["region"],
                  bool(row["is_demo"]))


def _frame(rows, columns: list[str]) -> pd.DataFrame:
    """Rows as a frame, column by column (pandas inspects each SQLAlchemy Row on its own,
    which takes seconds for the 60,000 rows of a large portfolio)."""
    if not rows:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame(dict(zip(columns, map(list, zip(*rows, strict=True)), strict=True)))


def cache_rows(workshop_id: int, questionnaire, table: pd.DataFrame,
               agreed: dict[str, float] | None = None) -> list[dict]:
    """Rows of dimension_scores from a scoring table (scoring.SCORE_COLUMNS, one assessment)."""
    agreed = agreed or {}
    stamp = now()
    out = []
    for dim, value, sd, n in zip(table["dimension"], table["score"], table["sd"],
                                 table["respondents"], strict=True):
        out.append(dict(workshop_id=workshop_id, questionnaire_id=questionnaire.id,
                        questionnaire_version=str(questionnaire.version), dimension_id=str(dim),
                        score=None if pd.isna(value) else float(value),
                        agreed_score=agreed.get(str(dim)),
                        spread=None if pd.isna(sd) else float(sd),
                        respondents=int(n), updated_at=stamp))
    return out


class PortfolioStore:
    """The score cache and the consultant's cross-client views (part of Store)."""

    # ---------------------------------------------------------------- the cache

    def _fresh_rows(self, workshop_id: int, questionnaire_ids) -> list[dict]:
        from assessment.workshop import results

        agreed = self.agreed_scores(workshop_id)
        rows = []
        for qid in questionnaire_ids:
            questionnaire = self.questionnaires.get(qid)
            if questionnaire is None:
                continue  # not in this installation: nothing to score it with
            table = results(self.answer_frame(workshop_id, qid), questionnaire).scores
            if table.empty:  # no answers: blank rows, so the workshop counts as cached
                dims = [d.id for d in questionnaire.dimensions] + ["overall"]
                table = pd.DataFrame({"dimension": dims, "score": np.nan, "sd": np.nan,
                                      "respondents": 0})
            mine = agreed[agreed["questionnaire_id"] == qid] if len(agreed) else agreed
            given = dict(zip(mine["dimension_id"], mine["agreed_score"], strict=True)) \
                if len(mine) else {}
            rows.extend(cache_rows(workshop_id, questionnaire, table,
                                   {k: float(v) for k, v in given.items()}))
        return rows

    def refresh_dimension_scores(self, workshop_id: int) -> int:
        """Score one workshop again and replace its cached rows; returns the rows written."""
        with self.engine.connect() as db:
            ids = db.execute(sa.select(workshops.c.questionnaires).where(
                workshops.c.id == workshop_id)).scalar()
        if ids is None:
            raise StoreError(f"no workshop with id {workshop_id}")
        rows = self._fresh_rows(workshop_id, [x for x in ids.split(",") if x])
        with self.writer.begin() as db:
            db.execute(dimension_scores.delete().where(
                dimension_scores.c.workshop_id == workshop_id))
            if rows:
                db.execute(dimension_scores.insert(), rows)
        return len(rows)

    def _stale(self, workshop_ids: list[int]) -> list[int]:
        """Of these workshops, the ones whose cache is missing or older than their newest answer
        or agreed score."""
        if not workshop_ids:
            return []
        cached = (sa.select(sa.func.min(dimension_scores.c.updated_at))
                  .where(dimension_scores.c.workshop_id == workshops.c.id).scalar_subquery())
        answered = (sa.select(sa.func.max(answers.c.updated_at))
                    .join(participants, answers.c.participant_id == participants.c.id)
                    .where(participants.c.workshop_id == workshops.c.id).scalar_subquery())
        agreed = (sa.select(sa.func.max(agreed_scores.c.created_at))
                  .where(agreed_scores.c.workshop_id == workshops.c.id).scalar_subquery())
        query = sa.select(workshops.c.id).where(
            workshops.c.id.in_(workshop_ids),
            sa.or_(cached.is_(None), cached < answered, cached < agreed))
        with self.engine.connect() as db:
            return list(db.execute(query).scalars())

    def fill_missing_scores(self, user: User | None = None, limit: int = 500) -> int:
        """Score the completed workshops (of the user's clients; all without a user) that have
        no cached rows at all, such as those closed before the cache existed; returns how
        many."""
        missing = (sa.select(workshops.c.id).join(clients)
                   .where(sa.or_(workshops.c.answering_open.is_(False),
                                 workshops.c.imported_on.is_not(None)),
                          ~sa.exists().where(dimension_scores.c.workshop_id == workshops.c.id)))
        if user is not None:
            missing = missing.where(self._visible(user))
        with self.engine.connect() as db:
            ids = list(db.execute(missing.limit(limit)).scalars())
        for wid in ids:
            self.refresh_dimension_scores(wid)
        return len(ids)

    def _ensure_fresh(self, workshop_ids: list[int]) -> None:
        for wid in self._stale(workshop_ids):
            self.refresh_dimension_scores(wid)

    # ---------------------------------------------------------------- clients

    def client_page(self, user: User, search: str = "", sector: str = "", size_band: str = "",
                    region: str = "", limit: int = 50, offset: int = 0
                    ) -> tuple[list[Client], int]:
        """One page of the clients this user may see (demo last, then by name), and how many
        match in all."""
        condition = [self._visible(user)]
        if search:
            escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            condition.append(clients.c.name.ilike(f"%{escaped}%", escape="\\"))
        for column, value in ((clients.c.sector, sector), (clients.c.size_band, size_band),
                              (clients.c.region, region)):
            if value:
                condition.append(column == value)
        query = (sa.select(clients).where(*condition)
                 .order_by(clients.c.is_demo, sa.func.lower(clients.c.name), clients.c.id)
                 .limit(max(1, int(limit))).offset(max(0, int(offset))))
        with self.engine.connect() as db:
            rows = db.execute(query).mappings().all()
            total = db.execute(sa.select(sa.func.count()).select_from(clients)
                               .where(*condition)).scalar()
        return [_client(r) for r in rows], int(total)

    def client_facets(self, user: User) -> dict[str, list[str]]:
        """The sectors, size bands and regions in use among this user's clients (for filters)."""
        out = {}
        with self.engine.connect() as db:
            for name in ("sector", "size_band", "region"):
                column = clients.c[name]
                out[name] = sorted(v for v in db.execute(
                    sa.select(column).where(self._visible(user), column != "").distinct()
                ).scalars())
        return out

    def workshops_by_client(self, user: User, client_ids: list[int]
                            ) -> dict[int, list[WorkshopEntry]]:
        """The workshops of these clients (only those the user may see), oldest first."""
        ids = [int(c) for c in client_ids][:1000]
        if not ids:
            return {}
        query = (sa.select(workshops).join(clients)
                 .where(workshops.c.client_id.in_(ids), self._visible(user)))
        with self.engine.connect() as db:
            rows = db.execute(query).mappings().all()
        out: dict[int, list[WorkshopEntry]] = {}
        for row in rows:
            out.setdefault(row["client_id"], []).append(_entry(row))
        for entries in out.values():
            entries.sort(key=lambda e: (e.held_on, e.id))
        return out

    def update_client(self, user: User, client_id: int, sector: str, size_band: str,
                      region: str) -> Client:
        """Sector, size band and region of a client this user may see (not the demo)."""
        client = self.client_for(user, client_id)
        if client.is_demo:
            raise StoreError("the demo client is read-only")
        values = dict(sector=clean_name(sector, "sector", 100, required=False),
                      size_band=clean_name(size_band, "size band", 50, required=False),
                      region=clean_name(region, "region", 100, required=False))
        with self.writer.begin() as db:
            db.execute(clients.update().where(clients.c.id == client.id).values(**values))
        return Client(client.id, client.name, is_demo=False, **values)

    # ---------------------------------------------------------------- history and comparison

    def history_frame(self, user: User, client_id: int) -> tuple[Client, list[WorkshopEntry],
                                                                 pd.DataFrame]:
        """A visible client, its workshops (oldest first) and their cached scores (SCORE_FRAME
        columns), brought up to date first where the cache is missing or stale."""
        client = self.client_for(user, client_id)
        entries = self.workshops_by_client(user, [client.id]).get(client.id, [])
        self._ensure_fresh([e.id for e in entries if e.status != "open"])
        return client, entries, self._scores_of([e.id for e in entries])

    def _scores_of(self, workshop_ids: list[int]) -> pd.DataFrame:
        if not workshop_ids:
            return pd.DataFrame(columns=SCORE_FRAME)
        query = sa.select(*[dimension_scores.c[c] for c in SCORE_FRAME]).where(
            dimension_scores.c.workshop_id.in_(workshop_ids))
        with self.engine.connect() as db:
            rows = db.execute(query).all()
        return _frame(rows, SCORE_FRAME)

    def plan_done(self, user: User, client_id: int) -> dict[int, tuple[int, int]]:
        """Per workshop of a visible client: (actions done, actions in the plan), counting the
        plan actions saved on the plan page that are neither dropped by status nor by tier."""
        client = self.client_for(user, client_id)
        counted = sa.and_(plan_items.c.status != "Dropped",
                          sa.func.coalesce(plan_items.c.tier, "") != "dropped")
        query = (sa.select(plan_items.c.workshop_id,
                           sa.func.sum(sa.case((plan_items.c.status == "Done", 1), else_=0)),
                           sa.func.count())
                 .join(workshops, workshops.c.id == plan_items.c.workshop_id)
                 .where(workshops.c.client_id == client.id, counted)
                 .group_by(plan_items.c.workshop_id))
        with self.engine.connect() as db:
            return {w: (int(d), int(n)) for w, d, n in db.execute(query).all()}

    def latest_completed(self, user: User, client_ids: list[int], questionnaire_id: str
                         ) -> tuple[dict[int, Client], dict[int, WorkshopEntry], pd.DataFrame]:
        """For each visible client: its latest completed workshop (answering closed, or
        imported) with this questionnaire, by the date it was held, and the cached scores of
        those workshops. Forbidden for a client the user may not see."""
        ids = list(dict.fromkeys(int(c) for c in client_ids))
        with self.engine.connect() as db:
            rows = db.execute(sa.select(clients).where(
                clients.c.id.in_(ids), self._visible(user))).mappings().all()
        found = {r["id"]: _client(r) for r in rows}
        if len(found) < len(ids):
            raise Forbidden("client")
        latest: dict[int, WorkshopEntry] = {}
        for cid, entries in self.workshops_by_client(user, ids).items():
            done = [e for e in entries if e.status != "open"
                    and questionnaire_id in e.questionnaire_ids]
            if done:
                latest[cid] = done[-1]
        chosen = [e.id for e in latest.values()]
        self._ensure_fresh(chosen)
        scores = self._scores_of(chosen)
        return found, latest, scores[scores["questionnaire_id"] == questionnaire_id]

    def portfolio_latest(self, user: User, questionnaire_id: str, sector: str = "",
                         size_band: str = "", region: str = "") -> pd.DataFrame:
        """The cached scores of each visible real client's latest completed workshop with this
        questionnaire (demo clients never count), in one query; columns client_id plus
        SCORE_FRAME. The cache is taken as written (the events above keep it current); a
        completed workshop with no cached rows at all (closed before the cache existed) is
        scored first."""
        self.fill_missing_scores(user)
        held = sa.func.coalesce(sa.cast(workshops.c.imported_on, sa.String),
                                sa.cast(workshops.c.created_at, sa.String))
        ranked = (sa.select(workshops.c.id, workshops.c.client_id,
                            sa.func.row_number().over(
                                partition_by=workshops.c.client_id,
                                order_by=(held.desc(), workshops.c.id.desc())).label("n"))
                  .join(clients)
                  .join(dimension_scores, sa.and_(
                      dimension_scores.c.workshop_id == workshops.c.id,
                      dimension_scores.c.questionnaire_id == questionnaire_id,
                      dimension_scores.c.dimension_id == "overall"))
                  .where(self._visible(user), clients.c.is_demo.is_(False),
                         sa.or_(workshops.c.answering_open.is_(False),
                                workshops.c.imported_on.is_not(None))))
        for column, value in ((clients.c.sector, sector), (clients.c.size_band, size_band),
                              (clients.c.region, region)):
            if value:
                ranked = ranked.where(column == value)
        ranked = ranked.subquery()
        query = (sa.select(ranked.c.client_id, *[dimension_scores.c[c] for c in SCORE_FRAME])
                 .join(ranked, ranked.c.id == dimension_scores.c.workshop_id)
                 .where(ranked.c.n == 1, dimension_scores.c.questionnaire_id == questionnaire_id))
        with self.engine.connect() as db:
            rows = db.execute(query).all()
        return _frame(rows, ["client_id", *SCORE_FRAME])

    def benchmark_scores(self, questionnaire_id: str, version: str, sector: str = "",
                         size_band: str = "", region: str = "") -> pd.DataFrame:
        """For benchmarks over the whole installation: the computed scores of each real
        client's latest completed workshop with this questionnaire and version, by the date
        it was held (imported past assessments count at their own date); demo never counts."""
        condition = []
        for column, value in ((clients.c.sector, sector), (clients.c.size_band, size_band),
                              (clients.c.region, region)):
            if value:
                condition.append(sa.func.lower(column) == value.strip().lower())
        query = (sa.select(workshops, dimension_scores.c.dimension_id, dimension_scores.c.score,
                           dimension_scores.c.questionnaire_version)
                 .join(clients).join(dimension_scores, sa.and_(
                     dimension_scores.c.workshop_id == workshops.c.id,
                     dimension_scores.c.questionnaire_id == questionnaire_id))
                 .where(clients.c.is_demo.is_(False), workshops.c.answering_open.is_(False),
                        *condition))
        with self.engine.connect() as db:
            rows = db.execute(query).mappings().all()
        if not rows:
            return pd.DataFrame(columns=["client_id", "workshop_id", "dimension_id", "score"])
        frame = pd.DataFrame({"client_id": [r["client_id"] for r in rows],
                              "workshop_id": [r["id"] for r in rows],
                              "held_on": [_entry(r).held_on for r in rows],
                              "version": [r["questionnaire_version"] for r in rows],
                              "dimension_id": [r["dimension_id"] for r in rows],
                              "score": [r["score"] for r in rows]})
        latest = (frame[["client_id", "workshop_id", "held_on"]].drop_duplicates()
                  .sort_values(["client_id", "held_on", "workshop_id"])
                  .groupby("client_id").tail(1)["workshop_id"])
        frame = frame[frame["workshop_id"].isin(latest) & (frame["version"] == version)]
        return frame[["client_id", "workshop_id", "dimension_id", "score"]].reset_index(
            drop=True)

    # ---------------------------------------------------------------- importing

    def _refuse_same_import(self, db, client_id: int, questionnaire_id: str, held_on: date,
                            incoming: set) -> None:
        """Refuse a file that was imported into this client already (same date held,
        questionnaire, people and answers): a second click or a second upload would count the
        same assessment twice in the history."""
        earlier = db.execute(sa.select(workshops.c.id, workshops.c.title).where(
            workshops.c.client_id == client_id, workshops.c.imported_on == held_on,
            workshops.c.questionnaires == questionnaire_id)).all()
        for wid, title in earlier:
            stored = set(db.execute(
                sa.select(participants.c.name_key, answers.c.question_id, answers.c.option_id,
                          answers.c.value)
                .join(answers, answers.c.participant_id == participants.c.id)
                .where(participants.c.workshop_id == wid,
                       answers.c.questionnaire_id == questionnaire_id)).all())
            if stored == incoming:
                raise StoreError(f"this assessment was imported into this client already, as "
                                 f"{title!r} held on {held_on:%Y-%m-%d}: nothing was written")

    def import_workshop(self, user: User, client_id: int, title: str, questionnaire,
                        held_on: date, people: list[ImportedPerson],
                        answer_rows: list[tuple[int, str, str, str]],
                        comment_rows: list[tuple[int, str, str]],
                        scores: pd.DataFrame) -> int:
        """Write a past assessment in one transaction: a closed workshop marked imported on the
        date it was held, its respondents, answers (person index, question, option, value),
        comments (person index, question, text) and cached scores. Nothing is written if any
        part fails. Returns the new workshop's id."""
        client = self.client_for(user, client_id)
        if client.is_demo:
            raise StoreError("the demo client is read-only: import into a client of your own")
        title = clean_name(title, "workshop title", 200)
        if not isinstance(held_on, date) or held_on > datetime.now(UTC).date() \
                or held_on.year < 1990:
            raise StoreError(f"the date held {held_on!s} must be a past date (from 1990)")
        stamp = now()
        incoming = {(name_key(people[i].name), q, o, v) for i, q, o, v in answer_rows}
        with self.writer.begin() as db:
            self._refuse_same_import(db, client.id, questionnaire.id, held_on, incoming)
            wid = db.execute(workshops.insert().values(
                client_id=client.id, title=title,
                code=secrets.token_hex(8),  # lower case: no join code ever matches it
                questionnaires=questionnaire.id,
                facilitator_key_hash=secrets.token_hex(32),  # no key opens it
                answering_open=False, results_revealed=False, created_at=stamp,
                closed_at=stamp, imported_on=held_on)).inserted_primary_key[0]
            db.execute(participants.insert(), [
                dict(workshop_id=wid, name=p.name, name_key=name_key(p.name), role=p.role,
                     token_hash=token_hash(secrets.token_urlsafe(24)), created_at=stamp)
                for p in people])
            ids = dict(db.execute(sa.select(participants.c.name_key, participants.c.id).where(
                participants.c.workshop_id == wid)).all())
            person_id = [ids[name_key(p.name)] for p in people]
            if answer_rows:
                db.execute(answers.insert(), [
                    dict(participant_id=person_id[i], questionnaire_id=questionnaire.id,
                         question_id=q, option_id=o, value=v, created_at=stamp,
                         updated_at=stamp) for i, q, o, v in answer_rows])
            if comment_rows:
                db.execute(comments.insert(), [
                    dict(participant_id=person_id[i], questionnaire_id=questionnaire.id,
                         question_id=q, text=t, created_at=stamp, updated_at=stamp)
                    for i, q, t in comment_rows])
            rows = cache_rows(wid, questionnaire, scores)
            if rows:
                db.execute(dimension_scores.insert(), rows)
        return wid
