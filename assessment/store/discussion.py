"""What the team decides: agreed scores with their rationale, notes, targets and the plan."""

from __future__ import annotations

import math
from datetime import date, datetime

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from assessment.errors import StoreError
from assessment.schema import MAX_TEXT, agreed_scores, notes, plan_items, targets, workshops
from assessment.text import clean_name, clean_text

from .security import now


def _score(value, what: str, scale: tuple[int, int] = (0, 100)) -> float:
    """A number on the scale, or StoreError naming it."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise StoreError(f"the {what} must be a number, not {str(value)[:40]!r}") from None
    low, high = scale
    if not math.isfinite(number) or not low <= number <= high:
        raise StoreError(f"the {what} {number!r} is not on the scale {low}..{high}")
    return number


class DiscussionStore:
    """Agreed scores, notes, targets and plan edits (part of Store)."""

    def _dimensions(self, db, workshop_id: int) -> dict[str, dict[str, tuple[int, int]]]:
        """The workshop's questionnaires (known to this installation): each dimension's scale."""
        self._writable(db, workshop_id)
        ids = db.execute(sa.select(workshops.c.questionnaires).where(
            workshops.c.id == workshop_id)).scalar().split(",")
        return {i: {d.id: (q.scale.min, q.scale.max) for d in q.dimensions}
                for i in ids if (q := self.questionnaires.get(i)) is not None}

    def _scale_of(self, known: dict[str, dict[str, tuple[int, int]]], dimension_id: str,
                  questionnaire_id: str | None = None) -> tuple[int, int]:
        """The scale of a dimension of the workshop; StoreError for anything else."""
        if questionnaire_id is not None and questionnaire_id not in known:
            raise StoreError(f"this workshop has no questionnaire {str(questionnaire_id)[:40]!r}")
        for qid, dimensions in known.items():
            if questionnaire_id in (None, qid) and dimension_id in dimensions:
                return dimensions[dimension_id]
        raise StoreError(f"no dimension {str(dimension_id)[:40]!r} in this workshop")

    def record_agreed_score(self, workshop_id: int, questionnaire_id: str, dimension_id: str,
                            agreed: float, rationale: str, computed: float | None) -> None:
        """Keep the team's agreed score beside the computed one; earlier decisions are kept."""
        rationale = clean_text(rationale, "rationale", MAX_TEXT, required=True)
        with self.writer.begin() as db:
            scale = self._scale_of(self._dimensions(db, workshop_id), dimension_id,
                                   questionnaire_id)
            agreed = _score(agreed, "agreed score", scale)
            computed = None if computed is None or pd.isna(computed) \
                else _score(computed, "score", scale)
            db.execute(agreed_scores.insert().values(
                workshop_id=workshop_id, questionnaire_id=questionnaire_id,
                dimension_id=dimension_id, agreed_score=agreed,
                rationale=rationale, computed_score=computed, created_at=now()))
        self.refresh_dimension_scores(workshop_id)  # history and comparisons show it

    def agreed_scores(self, workshop_id: int) -> pd.DataFrame:
        """The latest agreed score per questionnaire and dimension, with its rationale."""
        with self.engine.connect() as db:
            frame = pd.DataFrame(db.execute(sa.select(agreed_scores).where(
                agreed_scores.c.workshop_id == workshop_id).order_by(agreed_scores.c.id)
            ).mappings().all(), columns=[c.name for c in agreed_scores.columns])
        return frame.groupby(["questionnaire_id", "dimension_id"], as_index=False).last()

    def add_note(self, workshop_id: int, text: str, questionnaire_id: str = "",
                 dimension_id: str = "") -> None:
        text = clean_text(text, "note", MAX_TEXT, required=True)
        with self.writer.begin() as db:
            self._writable(db, workshop_id)
            db.execute(notes.insert().values(workshop_id=workshop_id, text=text,
                                             questionnaire_id=clean_text(questionnaire_id)[:100],
                                             dimension_id=clean_text(dimension_id)[:100],
                                             created_at=now()))

    def notes(self, workshop_id: int) -> pd.DataFrame:
        with self.engine.connect() as db:
            return pd.DataFrame(db.execute(sa.select(notes).where(
                notes.c.workshop_id == workshop_id).order_by(notes.c.id)).mappings().all(),
                columns=[c.name for c in notes.columns])

    def _upsert(self, db, table: sa.Table, keys: list[str], rows: list[dict], update: list[str]):
        insert = (postgresql.insert if self.engine.dialect.name == "postgresql"
                  else sqlite.insert)(table)
        statement = insert.on_conflict_do_update(
            index_elements=keys, set_={c: insert.excluded[c] for c in update})
        db.execute(statement, rows)

    def set_targets(self, workshop_id: int, values: dict[str, float]) -> None:
        """The team's targets per dimension (replacing earlier ones for those dimensions)."""
        if not values:
            return
        stamp = now()
        with self.writer.begin() as db:
            known = self._dimensions(db, workshop_id)
            rows = [dict(workshop_id=workshop_id, dimension_id=d,
                         target=_score(t, "target", self._scale_of(known, d)), updated_at=stamp)
                    for d, t in values.items()]
            self._upsert(db, targets, ["workshop_id", "dimension_id"], rows,
                         ["target", "updated_at"])

    def targets(self, workshop_id: int) -> dict[str, float]:
        with self.engine.connect() as db:
            rows = db.execute(sa.select(targets.c.dimension_id, targets.c.target).where(
                targets.c.workshop_id == workshop_id)).all()
        return {d: t for d, t in rows}

    def save_plan_edits(self, workshop_id: int, edits: list[dict]) -> None:
        """Owner, due date, status and notes per action (action_id in each dict)."""
        from assessment.planning import STATUSES

        stamp = now()
        rows = []
        for e in edits:
            status = e.get("status") or STATUSES[0]
            if status not in STATUSES:
                raise StoreError(f"status must be one of {', '.join(STATUSES)}, not "
                                 f"{str(status)[:40]!r}")
            due = e.get("due")
            if isinstance(due, datetime):
                due = due.date()
            if due is not None and pd.isna(due):
                due = None
            if due is not None and not isinstance(due, date):
                raise StoreError(f"the due date {str(due)[:40]!r} is not a date")
            owner = e.get("owner")
            note = e.get("notes")
            rows.append(dict(
                workshop_id=workshop_id, action_id=clean_text(e["action_id"])[:100],
                owner=clean_name("" if owner is None or pd.isna(owner) else owner, "owner", 200,
                                 required=False),
                due=due, status=status,
                notes=clean_text("" if note is None or pd.isna(note) else note, "notes", MAX_TEXT),
                updated_at=stamp))
        if rows:
            with self.writer.begin() as db:
                self._writable(db, workshop_id)
                self._upsert(db, plan_items, ["workshop_id", "action_id"], rows,
                             ["owner", "due", "status", "notes", "updated_at"])

    def set_tier(self, workshop_id: int, action_id: str, tier: str | None, reason: str = ""
                 ) -> None:
        """The facilitator's choice for one action: "priority", "backlog" or "dropped" with the
        reason, or None to let the stated rules decide again. Owner, due date, status and
        notes are left as they are."""
        from assessment.planning import TIERS

        if tier is not None and tier not in TIERS:
            raise StoreError(f"the tier must be one of {', '.join(TIERS)}, not "
                             f"{str(tier)[:40]!r}")
        row = dict(workshop_id=workshop_id, action_id=clean_text(action_id)[:100], tier=tier,
                   tier_reason=clean_text("" if tier is None else reason, "reason", MAX_TEXT),
                   updated_at=now())
        if not row["action_id"]:
            raise StoreError("which action? The action id is blank")
        with self.writer.begin() as db:
            self._writable(db, workshop_id)
            self._upsert(db, plan_items, ["workshop_id", "action_id"], [row],
                         ["tier", "tier_reason", "updated_at"])

    def plan_edits(self, workshop_id: int) -> dict[str, dict]:
        """Per action id: owner, due, status, notes, and the facilitator's tier and reason."""
        with self.engine.connect() as db:
            rows = db.execute(sa.select(plan_items).where(
                plan_items.c.workshop_id == workshop_id)).mappings().all()
        return {r["action_id"]: {"owner": r["owner"], "due": r["due"], "status": r["status"],
                                 "notes": r["notes"], "tier": r["tier"],
                                 "tier_reason": r["tier_reason"]} for r in rows}
