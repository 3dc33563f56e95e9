"""Comments: a participant's optional remark on a question, saved the moment it is given.

A comment needs no answer and an answer no comment, so comments have a table of their own
(one row per participant, questionnaire and question). The facilitator reads them beside the
question in the discussion agenda, and the Responses sheet exports them (answer_frame merges
them into the answers).
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from assessment.errors import StoreError
from assessment.schema import comments, participants
from assessment.text import clean_text

from .security import now

MAX_COMMENT = 2000  # the comment box's limit on the page


class CommentStore:
    """Participants' comments on questions (part of Store)."""

    def save_comment(self, participant_id: int, questionnaire_id: str, question_id: str,
                     text: object) -> str:
        """Write (or, when blank, remove) a participant's comment on a question now and return
        it as stored: cleaned text, at most MAX_COMMENT characters; StoreError otherwise."""
        if text is not None and not isinstance(text, (str, int, float)) \
                or isinstance(text, bool):
            raise StoreError("a comment must be text; your comment was not saved")
        try:
            cleaned = clean_text(text, "comment", limit=MAX_COMMENT)
        except StoreError as e:
            raise StoreError(f"{e}; your comment was not saved") from None
        stamp = now()
        insert = (postgresql.insert if self.engine.dialect.name == "postgresql"
                  else sqlite.insert)(comments)
        statement = insert.on_conflict_do_update(
            index_elements=["participant_id", "questionnaire_id", "question_id"],
            set_={"text": insert.excluded.text, "updated_at": insert.excluded.updated_at})
        with self.writer.begin() as db:
            questionnaire = self._questionnaire_of(db, participant_id, questionnaire_id)
            qid = str(question_id or "")
            if qid not in {q.id for q in questionnaire.questions}:
                raise StoreError(f"question {qid[:40]!r} is not in {questionnaire.id!r}; your "
                                 f"comment was not saved")
            if cleaned:
                db.execute(statement, dict(participant_id=participant_id,
                                           questionnaire_id=questionnaire_id, question_id=qid,
                                           text=cleaned, created_at=stamp, updated_at=stamp))
            else:
                db.execute(comments.delete().where(
                    comments.c.participant_id == participant_id,
                    comments.c.questionnaire_id == questionnaire_id,
                    comments.c.question_id == qid))
        return cleaned

    def comments_of(self, participant_id: int, questionnaire_id: str) -> dict[str, str]:
        """A participant's comments on one questionnaire: question id -> text."""
        with self.engine.connect() as db:
            rows = db.execute(sa.select(comments.c.question_id, comments.c.text).where(
                comments.c.participant_id == participant_id,
                comments.c.questionnaire_id == questionnaire_id)).all()
        return dict(rows)

    def comment_frame(self, workshop_id: int, questionnaire_id: str | None = None
                      ) -> pd.DataFrame:
        """Every comment of a workshop: questionnaire, participant (id, name, role), question,
        text and when it was last changed."""
        query = (sa.select(comments.c.questionnaire_id,
                           participants.c.id.label("participant_id"), participants.c.name,
                           participants.c.role, comments.c.question_id, comments.c.text,
                           comments.c.updated_at)
                 .join(participants, comments.c.participant_id == participants.c.id)
                 .where(participants.c.workshop_id == workshop_id)
                 .order_by(participants.c.id, comments.c.id))
        if questionnaire_id:
            query = query.where(comments.c.questionnaire_id == questionnaire_id)
        with self.engine.connect() as db:
            return pd.DataFrame(db.execute(query).mappings().all(),
                                columns=["questionnaire_id", "participant_id", "name", "role",
                                         "question_id", "text", "updated_at"])
