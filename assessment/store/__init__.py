"""Storage of clients, workshops, participants and answers: SQLite by default, PostgreSQL by URL.

Every answer is checked against its question and written the moment it is given, one row per
participant, questionnaire, question and option, with timestamps; a comment on a question has
its own row. Text is cleaned once, here (assessment.text). The schema lives in
assessment.schema and is brought up to date by the migrations (assessment.migrations) when the
store opens. Only SQLAlchemy Core with bound parameters; nothing specific to one database except
the upsert, which SQLAlchemy spells for each.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from assessment.errors import StoreError
from assessment.schema import MAX_NAME, MAX_TEXT

from .accounts import AccountStore, Forbidden, User
from .answers import AnswerStore
from .comments import MAX_COMMENT, CommentStore
from .decisions import DecisionStore
from .discussion import DiscussionStore
from .doors import DoorStore, Refused
from .engine import current_revision, database_url, make_engine, upgrade, writer
from .portfolio import PortfolioStore
from .security import now, token_hash
from .workshops import (
    JOIN_ALPHABET,
    ROLES,
    Client,
    Participant,
    Workshop,
    WorkshopStore,
)

__all__ = ["JOIN_ALPHABET", "AccountStore", "Forbidden", "User",
           "MAX_COMMENT", "MAX_NAME", "MAX_TEXT", "ROLES", "Client",
           "Participant", "Refused", "Store", "StoreError", "Workshop",
           "database_url", "make_engine", "now", "token_hash"]


class Store(WorkshopStore, DoorStore, AnswerStore, CommentStore, DiscussionStore, DecisionStore,
            AccountStore, PortfolioStore):
    """The application's data, behind plain methods that speak the domain."""

    def __init__(self, url: str | None = None, questionnaires: Mapping | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.url = url or database_url()
        self.engine = make_engine(self.url)
        self.writer = writer(self.engine)
        self.sleep = sleep  # how a guarded door slows a guesser down (tests pass a fake)
        self._questionnaires = questionnaires

    @property
    def questionnaires(self) -> Mapping:
        """The questionnaires answers are checked against (the shipped ones unless given)."""
        if self._questionnaires is None:
            from assessment.questionnaire import load_shipped

            self._questionnaires = load_shipped()
        return self._questionnaires

    def create_schema(self) -> str:
        """Bring the database to the latest schema revision, keeping its data."""
        return self.migrate()[1]

    def migrate(self) -> tuple[str | None, str]:
        """Upgrade to the latest revision; the revisions before and after."""
        return upgrade(self.engine)

    def revision(self) -> str | None:
        return current_revision(self.engine)

    def close(self) -> None:
        self.engine.dispose()
