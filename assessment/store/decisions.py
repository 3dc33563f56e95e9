"""What the team decided to stop doing or give up (part of Store).

Participants' "stop doing / give up" answers stay in the answers table as inputs; a decision is
the facilitator's wording of what the team adopted, with an owner and the answer it came from.
"""

from __future__ import annotations

import sqlalchemy as sa

from assessment.errors import StoreError
from assessment.model import Decision
from assessment.schema import MAX_TEXT, decisions
from assessment.text import clean_name, clean_text

from .security import now


class DecisionStore:
    """Stop-doing decisions: add, edit, remove, list (part of Store)."""

    def add_decision(self, workshop_id: int, text: str, owner: str = "", source: str = ""
                     ) -> int:
        """Record a decision; its id. StoreError for blank text or a read-only workshop."""
        text = clean_text(text, "decision", MAX_TEXT, required=True)
        owner = clean_name(owner or "", "owner", 200, required=False)
        source = clean_text(source or "")[:MAX_TEXT]  # an input as given: kept, never refused
        stamp = now()
        with self.writer.begin() as db:
            self._writable(db, workshop_id)
            return int(db.execute(decisions.insert().values(
                workshop_id=workshop_id, text=text, owner=owner, source=source,
                created_at=stamp, updated_at=stamp)).inserted_primary_key[0])

    def update_decision(self, workshop_id: int, decision_id: int, text: str, owner: str = ""
                        ) -> None:
        """New wording and owner for a decision of this workshop."""
        text = clean_text(text, "decision", MAX_TEXT, required=True)
        owner = clean_name(owner or "", "owner", 200, required=False)
        with self.writer.begin() as db:
            self._writable(db, workshop_id)
            done = db.execute(decisions.update().where(
                decisions.c.id == decision_id, decisions.c.workshop_id == workshop_id).values(
                text=text, owner=owner, updated_at=now())).rowcount
        if not done:
            raise StoreError(f"this workshop has no decision {decision_id!r}")

    def remove_decision(self, workshop_id: int, decision_id: int) -> None:
        with self.writer.begin() as db:
            self._writable(db, workshop_id)
            done = db.execute(decisions.delete().where(
                decisions.c.id == decision_id, decisions.c.workshop_id == workshop_id)).rowcount
        if not done:
            raise StoreError(f"this workshop has no decision {decision_id!r}")

    def decisions(self, workshop_id: int) -> list[Decision]:
        """The workshop's decisions, oldest first."""
        with self.engine.connect() as db:
            rows = db.execute(sa.select(decisions).where(
                decisions.c.workshop_id == workshop_id).order_by(decisions.c.id)).mappings()
            return [Decision(text=r["text"], owner=r["owner"], source=r["source"], id=r["id"])
                    for r in rows]
