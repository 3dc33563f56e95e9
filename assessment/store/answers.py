"""Answers: checked against their question, written the moment they are given, read back."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from assessment.answering import AnswerError, check_answers
from assessment.errors import StoreError
from assessment.schema import answers, comments, participants, workshops

from .security import now


class AnswerStore:
    """Participants' answers (part of Store)."""

    def _questionnaire_of(self, db, participant_id: int, questionnaire_id: str):
        """The questionnaire a participant may answer, if their workshop is open for answers."""
        row = db.execute(sa.select(workshops.c.answering_open, workshops.c.questionnaires).join(
            participants, participants.c.workshop_id == workshops.c.id).where(
            participants.c.id == participant_id)).first()
        if row is None:
            raise StoreError(f"no participant with id {participant_id}")
        if not row.answering_open:
            raise StoreError("answering is closed for this workshop; your answer was not saved")
        if questionnaire_id not in row.questionnaires.split(",") \
                or questionnaire_id not in self.questionnaires:
            raise StoreError(f"this workshop has no questionnaire {str(questionnaire_id)[:40]!r}; "
                             f"your answer was not saved")
        return self.questionnaires[questionnaire_id]

    def save_answer(self, participant_id: int, questionnaire_id: str, question_id: str,
                    value: str | int | None, option_id: str = "") -> None:
        """Write one answer now (insert or replace); a blank value records 'not answered'."""
        self.save_answers(participant_id, questionnaire_id, [(question_id, option_id, value)])

    def save_answers(self, participant_id: int, questionnaire_id: str,
                     rows: list[tuple[str, str, object]]) -> list[tuple[str, str, str]]:
        """Check and write several answers (question, option, value) in one transaction and
        return them as stored; AnswerError (nothing written) when any does not fit its question."""
        if not rows:
            return []
        stamp = now()
        insert = (postgresql.insert if self.engine.dialect.name == "postgresql"
                  else sqlite.insert)(answers)
        statement = insert.on_conflict_do_update(
            index_elements=["participant_id", "questionnaire_id", "question_id", "option_id"],
            set_={"value": insert.excluded.value, "updated_at": insert.excluded.updated_at})
        with self.writer.begin() as db:
            questionnaire = self._questionnaire_of(db, participant_id, questionnaire_id)
            checked = check_answers(questionnaire, rows)
            self._check_ranks(db, participant_id, questionnaire, checked)
            db.execute(statement, [dict(participant_id=participant_id,
                                        questionnaire_id=questionnaire_id, question_id=q,
                                        option_id=o, value=v, created_at=stamp, updated_at=stamp)
                                   for q, o, v in checked])
        return checked

    def _check_ranks(self, db, participant_id, questionnaire, checked) -> None:
        """A rank already given to another option of the question (not rewritten now) is refused."""
        written = {(q, o) for q, o, _ in checked}
        for q in {q for q, _, v in checked if questionnaire.question(q).type == "ranking"}:
            stored = db.execute(sa.select(answers.c.option_id, answers.c.value).where(
                answers.c.participant_id == participant_id,
                answers.c.questionnaire_id == questionnaire.id,
                answers.c.question_id == q)).all()
            taken = {v: o for o, v in stored if v and (q, o) not in written}
            for qq, _o, v in checked:
                if qq == q and v and v in taken:
                    raise AnswerError(q, v, f"is already the rank of option {taken[v]}")

    def remove_participant(self, workshop_id: int, participant_id: int) -> int:
        """Take a participant and all their answers out of a workshop; returns answers removed."""
        with self.writer.begin() as db:
            self._writable(db, workshop_id)
            found = db.execute(sa.select(participants.c.id).where(
                participants.c.id == participant_id,
                participants.c.workshop_id == workshop_id)).scalar()
            if found is None:
                raise StoreError(f"no participant with id {participant_id} in this workshop")
            removed = db.execute(answers.delete().where(
                answers.c.participant_id == participant_id)).rowcount
            db.execute(comments.delete().where(comments.c.participant_id == participant_id))
            db.execute(participants.delete().where(participants.c.id == participant_id))
        self.refresh_dimension_scores(workshop_id)  # their answers no longer count
        return removed

    def answers_of(self, participant_id: int, questionnaire_id: str) -> dict[tuple[str, str], str]:
        """A participant's answers to one questionnaire: (question, option) -> value."""
        with self.engine.connect() as db:
            rows = db.execute(sa.select(answers.c.question_id, answers.c.option_id,
                                        answers.c.value).where(
                answers.c.participant_id == participant_id,
                answers.c.questionnaire_id == questionnaire_id)).all()
        return {(q, o): v for q, o, v in rows}

    def answers_by_questionnaire(self, participant_id: int) -> dict[str, dict[tuple[str, str], str]]:
        """All of a participant's answers, one query: questionnaire -> (question, option) -> value."""
        with self.engine.connect() as db:
            rows = db.execute(sa.select(answers.c.questionnaire_id, answers.c.question_id,
                                        answers.c.option_id, answers.c.value).where(
                answers.c.participant_id == participant_id)).all()
        out: dict[str, dict[tuple[str, str], str]] = {}
        for questionnaire, q, o, v in rows:
            out.setdefault(questionnaire, {})[(q, o)] = v
        return out

    def answers_version(self, workshop_id: int) -> tuple:
        """Changes whenever an answer, a comment or a participant of the workshop changes (for
        caching)."""
        with self.engine.connect() as db:
            row = db.execute(
                sa.select(sa.func.count(answers.c.id), sa.func.max(answers.c.updated_at),
                          sa.func.count(sa.distinct(participants.c.id)),
                          sa.func.max(participants.c.id))
                .select_from(participants.outerjoin(
                    answers, answers.c.participant_id == participants.c.id))
                .where(participants.c.workshop_id == workshop_id)).one()
            said = db.execute(
                sa.select(sa.func.count(comments.c.id), sa.func.max(comments.c.updated_at))
                .join(participants, comments.c.participant_id == participants.c.id)
                .where(participants.c.workshop_id == workshop_id)).one()
        return tuple(str(v) for v in (*row, *said))

    def answer_frame(self, workshop_id: int, questionnaire_id: str | None = None) -> pd.DataFrame:
        """All answers of a workshop in the long format (respondent = participant id), with
        each participant's comment on a question in `comment`: on the question's first answer
        row, or on a row of its own (no option, blank value) when the question has no answer."""
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
        return _with_comments(frame, self.comment_frame(workshop_id, questionnaire_id))


KEY = ["participant_id", "questionnaire_id", "question_id"]


def _with_comments(frame: pd.DataFrame, said: pd.DataFrame) -> pd.DataFrame:
    """The answers with a `comment` column: each comment on its question's first answer row, or
    on a row of its own when the participant gave the question no answer."""
    frame = frame.assign(comment="")
    if said.empty:
        return frame
    text = dict(zip(zip(*(said[k] for k in KEY), strict=True), said["text"], strict=True))
    keys = list(zip(*(frame[k] for k in KEY), strict=True))
    first = ~frame.duplicated(KEY).to_numpy()
    frame["comment"] = [text.get(k, "") if f else "" for k, f in zip(keys, first, strict=True)]
    answered = set(keys)
    alone = said[[k not in answered for k in zip(*(said[k] for k in KEY), strict=True)]]
    if alone.empty:
        return frame
    rows = pd.DataFrame({"questionnaire_id": alone["questionnaire_id"],
                         "participant_id": alone["participant_id"], "name": alone["name"],
                         "role": alone["role"], "question_id": alone["question_id"],
                         "option_id": "", "value": "", "updated_at": alone["updated_at"],
                         "comment": alone["text"]})
    frame = pd.concat([frame, rows], ignore_index=True) if len(frame) else rows
    return frame.sort_values("participant_id", kind="stable").reset_index(drop=True)
