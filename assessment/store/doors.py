"""Guarded doors: failed attempts at a join code or a password, counted per subject (client
address, username) in the database so that every app process sees them."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from assessment.errors import StoreError
from assessment.schema import attempts

from .security import DOORS, now

# Any constant: the PostgreSQL advisory lock that admits one attempt at a guarded door at a time.
DOOR_LOCK = 0x43434430


class Refused(StoreError):
    """A guarded door that refuses every attempt for now; `wait` says for how long."""

    def __init__(self, message: str, wait: timedelta):
        super().__init__(message)
        self.wait = wait


def _minutes(delta: timedelta) -> str:
    minutes = max(1, round(delta.total_seconds() / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


class DoorStore:
    """Slowing down, then refusing, whoever keeps failing at a door (part of Store)."""

    def _failures(self, db, door: str, subject: str, since: datetime) -> list[datetime]:
        return list(db.execute(sa.select(attempts.c.created_at).where(
            attempts.c.door == door, attempts.c.subject == subject,
            attempts.c.created_at >= since).order_by(attempts.c.created_at)).scalars())

    def _admit(self, door: str, subjects: dict[str, str]) -> list[int]:
        """Let an attempt through a door: it is counted as a failure before it is checked,
        so that attempts made at the same moment (many sessions, several processes) each see
        the ones before them and the lockout holds; `_forgive` takes the count back when the
        attempt succeeds. One attempt at a time is admitted (the write lock on SQLite, an
        advisory lock on PostgreSQL). Refused while any subject is locked out (nothing is
        counted then); otherwise waits as long as its failures say. Returns the rows counted."""
        stamp = now()
        delay = 0.0
        with self.writer.begin() as db:
            if db.dialect.name == "postgresql":
                db.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": DOOR_LOCK})
            for kind, subject in subjects.items():
                policy = DOORS[(door, kind)]
                failures = self._failures(db, door, f"{kind}:{subject}", stamp - policy.window)
                if len(failures) >= policy.lock:
                    last = failures[-1]
                    last = last if last.tzinfo else last.replace(tzinfo=stamp.tzinfo)
                    raise Refused(f"too many failed attempts: try again in "
                                  f"{_minutes(last + policy.window - stamp)}",
                                  last + policy.window - stamp)
                delay = max(delay, policy.delay(len(failures)))
            counted = [db.execute(attempts.insert().values(
                door=door, subject=f"{kind}:{subject}", created_at=stamp)).inserted_primary_key[0]
                for kind, subject in subjects.items()]
            db.execute(attempts.delete().where(attempts.c.created_at < stamp - timedelta(days=1)))
        if delay:
            self.sleep(delay)
        return counted

    def _forgive(self, counted: list[int]) -> None:
        """An attempt admitted by `_admit` succeeded (or was never checked): not a failure."""
        if counted:
            with self.writer.begin() as db:
                db.execute(attempts.delete().where(attempts.c.id.in_(counted)))
