"""The assessment domain: questionnaires, their dimensions, questions and maturity levels."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

SCORED_TYPES = ("level", "likert")
OPTION_TYPES = ("allocation", "ranking", "choice")
QUESTION_TYPES = (*SCORED_TYPES, *OPTION_TYPES, "text")
OVERALL_RULES = ("dimensions", "items")


@dataclass(frozen=True)
class Scale:
    """The whole-number answer scale of scored questions."""

    min: int
    max: int
    labels: tuple[str, ...] = ()

    @property
    def points(self) -> int:
        return self.max - self.min + 1


@dataclass(frozen=True)
class Level:
    """A maturity level, reached when a score is at least its threshold."""

    name: str
    description: str
    threshold: float


@dataclass(frozen=True)
class Dimension:
    """A facet of customer-centricity that questions score into."""

    id: str
    name: str
    description: str
    weight: float = 1.0


@dataclass(frozen=True)
class Option:
    """One option of an allocation, ranking or choice question."""

    id: str
    label: str
    dimension: str | None = None


@dataclass(frozen=True)
class Question:
    """One question; only `level` and `likert` questions are scored into maturity."""

    id: str
    type: str
    text: str
    dimension: str | None = None
    help: str = ""
    weight: float = 1.0
    reverse: bool = False
    allow_na: bool = False
    anchors: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    options: tuple[Option, ...] = ()
    total: int | None = None
    rank_top: int | None = None  # ranking: ranks 1..rank_top are enough (default: every option)

    @property
    def scored(self) -> bool:
        return self.type in SCORED_TYPES

    @property
    def ranks_needed(self) -> int:
        """How many ranks (1, 2, ...) a ranking answer needs to count as answered."""
        return self.rank_top or len(self.options)

    @property
    def option_ids(self) -> tuple[str, ...]:
        return tuple(o.id for o in self.options)


@dataclass(frozen=True)
class Section:
    """A page of questions shown together to a participant."""

    id: str
    title: str
    question_ids: tuple[str, ...]


@dataclass(frozen=True)
class Questionnaire:
    """A versioned questionnaire with its scale, levels, dimensions and questions."""

    id: str
    version: str
    title: str
    description: str
    scale: Scale
    levels: tuple[Level, ...]
    dimensions: tuple[Dimension, ...]
    questions: tuple[Question, ...]
    overall: str = "dimensions"
    sections: tuple[Section, ...] = ()
    path: Path | None = field(default=None, compare=False)

    def question(self, question_id: str) -> Question:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(question_id)

    def dimension(self, dimension_id: str) -> Dimension:
        for d in self.dimensions:
            if d.id == dimension_id:
                return d
        raise KeyError(dimension_id)

    @property
    def scored_questions(self) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if q.scored)

    def pages(self) -> tuple[Section, ...]:
        """Sections for participants: the declared ones (else one per dimension), then the rest."""
        pages = list(self.sections)
        if not pages:
            for d in self.dimensions:
                ids = tuple(q.id for q in self.questions if q.dimension == d.id)
                if ids:
                    pages.append(Section(d.id, d.name, ids))
        placed = {qid for page in pages for qid in page.question_ids}
        rest = tuple(q.id for q in self.questions if q.id not in placed)
        if rest:
            pages.append(Section("other", "Further questions", rest))
        return tuple(pages)


@dataclass(frozen=True)
class Action:
    """One action of the library; step N moves a dimension from level N to level N + 1."""

    id: str
    dimension: str
    step: int
    title: str
    description: str
    effort: str
    impact: int
    owner: str
    measure: str
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class ActionLibrary:
    """The actions a plan draws from (read and validated by assessment.actions)."""

    version: str
    actions: tuple[Action, ...]
    path: Path | None = None

    def by_id(self) -> dict[str, Action]:
        return {a.id: a for a in self.actions}


@dataclass(frozen=True)
class Decision:
    """Something the team decided to stop doing or give up: the facilitator's wording of one or
    more participants' answers (`source`, kept as the input it came from), with an owner. Only
    decisions appear as "What we will stop doing" in the plan, the workbook and the PDF."""

    text: str
    owner: str = ""
    source: str = ""
    id: int | None = None
