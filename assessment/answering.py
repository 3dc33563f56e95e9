"""What a participant may store as an answer: checked against the question, whatever was sent.

The page offers only valid values, but a client that speaks Streamlit's websocket can send any
value to any widget; the store calls `check_answer` on every value before writing it.
"""

from __future__ import annotations

import math

from .errors import StoreError
from .model import Question, Questionnaire
from .text import clean_text

MAX_ANSWER_TEXT = 2000  # the answer box's limit on the page
NOT_APPLICABLE = "n/a"


class AnswerError(StoreError):
    """An answer that does not fit its question; nothing was stored."""

    def __init__(self, question: str, value: object, reason: str):
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "...'"
        super().__init__(f"question {question!r}: {shown} {reason}; your answer was not saved")
        self.question, self.value, self.reason = question, value, reason


def _whole(question: Question, value: str, low: int, high: int) -> str:
    try:
        number = float(value)
    except ValueError:
        raise AnswerError(question.id, value, "is not a number") from None
    if not math.isfinite(number) or number != int(number):
        raise AnswerError(question.id, value, "is not a whole number")
    if not low <= number <= high:
        raise AnswerError(question.id, value, f"is out of range {low}..{high}")
    return str(int(number))


def check_answer(questionnaire: Questionnaire, question_id: object, option_id: object,
                 value: object) -> tuple[str, str, str]:
    """The (question, option, value) to store, normalised; AnswerError when it does not fit.

    A blank value clears the answer. Level and likert: a whole number on the scale, or n/a where
    the question allows it. Choice: one of its option ids. Text: at most MAX_ANSWER_TEXT
    characters. Allocation: a known option and 0..total points. Ranking: a known option and a
    rank 1..number of options.
    """
    qid = str(question_id or "")
    try:
        question = questionnaire.question(qid)
    except KeyError:
        raise AnswerError(qid, value, f"answers no question of {questionnaire.id!r}") from None
    option = str(option_id or "")
    with_options = question.type in ("allocation", "ranking")
    if with_options and option not in question.option_ids:
        raise AnswerError(qid, option, f"is not an option of this question "
                                       f"({', '.join(question.option_ids)})")
    if not with_options and option:
        raise AnswerError(qid, option, "is an option, but this question takes none")
    if isinstance(value, bool) or not isinstance(value, (str, int, float, type(None))):
        raise AnswerError(qid, value, "is not an answer this question takes")
    text = clean_text("" if value is None else value)
    if question.type == "text":
        if len(text) > MAX_ANSWER_TEXT:
            raise AnswerError(qid, text[:20] + "…", f"is longer than {MAX_ANSWER_TEXT} "
                                                   f"characters")
        return qid, option, text
    if text == "":
        return qid, option, ""
    if question.type in ("level", "likert"):
        if text.lower() in ("n/a", "na"):
            if not question.allow_na:
                raise AnswerError(qid, text, "('not applicable') is not allowed here")
            return qid, option, NOT_APPLICABLE
        return qid, option, _whole(question, text, questionnaire.scale.min,
                                   questionnaire.scale.max)
    if question.type == "choice":
        if text not in question.option_ids:
            raise AnswerError(qid, text, f"is not one of the options "
                                         f"({', '.join(question.option_ids)})")
        return qid, option, text
    if question.type == "allocation":
        return qid, option, _whole(question, text, 0, question.total or 0)
    if question.type == "ranking":
        return qid, option, _whole(question, text, 1, len(question.options))
    raise AnswerError(qid, text, f"has a type this store cannot check ({question.type})")


def check_answers(questionnaire: Questionnaire, rows) -> list[tuple[str, str, str]]:
    """Every (question, option, value) checked; a ranking may not give one rank twice."""
    checked = [check_answer(questionnaire, q, o, v) for q, o, v in rows]
    ranks: dict[tuple[str, str], str] = {}
    for q, o, v in checked:
        if v and questionnaire.question(q).type == "ranking":
            if (q, v) in ranks and ranks[(q, v)] != o:
                raise AnswerError(q, v, f"is given to two options ({ranks[(q, v)]} and {o})")
            ranks[(q, v)] = o
    return checked
