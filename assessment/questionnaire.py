"""Load and validate questionnaire YAML files; every problem is reported as FILE:LINE: message."""

from __future__ import annotations

import math
import re
from pathlib import Path

from .model import (
    OPTION_TYPES,
    OVERALL_RULES,
    QUESTION_TYPES,
    SCORED_TYPES,
    Dimension,
    Level,
    Option,
    Question,
    Questionnaire,
    Scale,
    Section,
)
from .yamlsafe import DataFileError, LineDict, LineList, Problem, read_yaml

PROJECT_ROOT = Path(__file__).resolve().parents[1]
QUESTIONNAIRE_DIR = PROJECT_ROOT / "questionnaires"
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]*$", re.IGNORECASE)

QuestionnaireError = DataFileError

TOP_FIELDS = {"id", "version", "title", "description", "scale", "overall", "levels", "dimensions",
              "sections", "questions"}
SCALE_FIELDS = {"min", "max", "labels"}
LEVEL_FIELDS = {"name", "description", "threshold"}
DIMENSION_FIELDS = {"id", "name", "description", "weight"}
SECTION_FIELDS = {"id", "title", "questions"}
QUESTION_FIELDS = {"id", "dimension", "type", "text", "help", "weight", "reverse", "allow_na",
                   "anchors", "labels", "options", "total", "rank_top"}
OPTION_FIELDS = {"id", "label", "dimension"}
# Fields that only make sense for some question types; elsewhere they are refused, not ignored.
FIELDS_ONLY_FOR = {
    "anchors": ("level",),
    "labels": ("likert",),
    "options": OPTION_TYPES,
    "total": ("allocation",),
    "rank_top": ("ranking",),
}


class Checker:
    """Collects problems while reading one file's parsed YAML."""

    def __init__(self, shown: str):
        self.shown = shown
        self.problems: list[Problem] = []

    def add(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.shown, line, message))

    def mapping(self, value, line: int, what: str, allowed: set, required: set) -> LineDict | None:
        if not isinstance(value, LineDict):
            self.add(getattr(value, "line", line), f"{what} must be a mapping of fields")
            return None
        for key in value:
            if key not in allowed:
                self.add(value.line_of(key),
                         f"unknown field {key!r} in {what} (allowed: {', '.join(sorted(allowed))})")
        for key in sorted(required - set(value)):
            self.add(value.line, f"{what} is missing the required field {key!r}")
        return value

    def sequence(self, parent: LineDict, key: str, what: str, min_items: int = 1) -> LineList:
        value = parent.get(key)
        if value is None:
            return LineList()
        if not isinstance(value, LineList):
            self.add(parent.line_of(key), f"{what} must be a list")
            return LineList()
        if len(value) < min_items:
            self.add(parent.line_of(key), f"{what} needs at least {min_items} item(s)")
        return value

    def text(self, parent: LineDict, key: str, what: str, default: str | None = None) -> str:
        value = parent.get(key, default)
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.add(parent.line_of(key), f"{what} must be text")
            return ""
        value = str(value).strip()
        if not value and default is None:
            self.add(parent.line_of(key), f"{what} must not be empty")
        return value

    def ident(self, parent: LineDict, key: str, what: str) -> str:
        value = self.text(parent, key, what)
        if value and not ID_PATTERN.match(value):
            self.add(parent.line_of(key),
                     f"{what} {value!r} may hold only letters, digits, '_', '.' and '-'")
        return value

    def number(self, parent: LineDict, key: str, what: str, default=None, whole=False):
        value = parent.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            self.add(parent.line_of(key), f"{what} must be a number, not {value!r}")
            return None
        if whole and value != int(value):
            self.add(parent.line_of(key), f"{what} must be a whole number, not {value!r}")
            return None
        return int(value) if whole else float(value)

    def positive(self, parent: LineDict, key: str, what: str) -> float:
        value = self.number(parent, key, what, default=1)
        if value is not None and value <= 0:
            self.add(parent.line_of(key), f"{what} must be greater than 0, not {value:g}")
        return value if value is not None else 1.0

    def flag(self, parent: LineDict, key: str, what: str) -> bool:
        value = parent.get(key, False)
        if not isinstance(value, bool):
            self.add(parent.line_of(key), f"{what} must be true or false, not {value!r}")
            return False
        return value

    def texts(self, parent: LineDict, key: str, what: str) -> tuple[str, ...]:
        value = parent.get(key)
        if value is None:
            return ()
        if not isinstance(value, LineList):
            self.add(parent.line_of(key), f"{what} must be a list of texts")
            return ()
        out = []
        for i, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, (str, int, float)) or not str(item).strip():
                self.add(value.line_of(i), f"{what}: item {i + 1} must be non-empty text")
            else:
                out.append(str(item).strip())
        return tuple(out)

    def unique(self, items: list[tuple[str, int]], what: str) -> None:
        seen: dict[str, int] = {}
        for ident, line in items:
            if not ident:
                continue
            if ident in seen:
                self.add(line, f"duplicate {what} {ident!r} (first at line {seen[ident]})")
            else:
                seen[ident] = line


def load_questionnaire(path: Path | str, shown: str | None = None) -> Questionnaire:
    """Load one questionnaire file, or raise QuestionnaireError listing every problem."""
    shown = shown or str(path)
    raw = read_yaml(path, shown)
    return build_questionnaire(raw, shown, Path(path))


def build_questionnaire(raw, shown: str, path: Path | None = None) -> Questionnaire:
    """Validate parsed YAML and build the Questionnaire, or raise QuestionnaireError."""
    c = Checker(shown)
    top = c.mapping(raw, 1, "the questionnaire", TOP_FIELDS,
                    {"id", "version", "title", "description", "scale", "levels", "dimensions",
                     "questions"})
    if top is None:
        raise DataFileError(c.problems)

    qid = c.ident(top, "id", "id")
    version = c.text(top, "version", "version")
    title = c.text(top, "title", "title")
    description = c.text(top, "description", "description")
    overall = c.text(top, "overall", "overall", default="dimensions")
    if overall and overall not in OVERALL_RULES:
        c.add(top.line_of("overall"),
              f"overall must be one of {', '.join(OVERALL_RULES)}, not {overall!r}")

    scale = _scale(c, top)
    levels = _levels(c, top, scale)
    dimensions = _dimensions(c, top)
    dimension_ids = {d.id for d in dimensions}
    questions = _questions(c, top, scale, dimension_ids)
    sections = _sections(c, top, {q.id for q in questions})

    if c.problems:
        raise DataFileError(c.problems)
    return Questionnaire(
        id=qid, version=version, title=title, description=description, scale=scale,
        levels=levels, dimensions=dimensions, questions=questions, overall=overall or "dimensions",
        sections=sections, path=path,
    )


def _scale(c: Checker, top: LineDict) -> Scale | None:
    raw = c.mapping(top.get("scale"), top.line_of("scale"), "scale", SCALE_FIELDS, {"min", "max"})
    if raw is None:
        return None
    lo = c.number(raw, "min", "scale min", whole=True)
    hi = c.number(raw, "max", "scale max", whole=True)
    labels = c.texts(raw, "labels", "scale labels")
    if lo is None or hi is None:
        return None
    if lo >= hi:
        c.add(raw.line_of("max"), f"scale max ({hi}) must be greater than min ({lo})")
        return None
    if hi - lo > 100:
        c.add(raw.line_of("max"), f"a scale of {hi - lo + 1} points is too long (at most 101)")
        return None
    scale = Scale(lo, hi, labels)
    if labels and len(labels) != scale.points:
        c.add(raw.line_of("labels"),
              f"scale labels: {len(labels)} given, the scale {lo}..{hi} has {scale.points} points")
    return scale


def _levels(c: Checker, top: LineDict, scale: Scale | None) -> tuple[Level, ...]:
    raw = c.sequence(top, "levels", "levels")
    levels = []
    names = []
    previous = None
    for i, item in enumerate(raw):
        entry = c.mapping(item, raw.line_of(i), f"level {i + 1}", LEVEL_FIELDS, LEVEL_FIELDS)
        if entry is None:
            continue
        name = c.text(entry, "name", "level name")
        names.append((name, entry.line_of("name")))
        threshold = c.number(entry, "threshold", f"threshold of level {name!r}")
        if threshold is not None:
            line = entry.line_of("threshold")
            if scale is not None and not scale.min <= threshold <= scale.max:
                c.add(line, f"threshold {threshold:g} of level {name!r} is outside the scale "
                            f"{scale.min}..{scale.max}")
            if previous is not None and threshold <= previous:
                c.add(line, f"thresholds must increase strictly: {threshold:g} after {previous:g}")
            previous = threshold
        levels.append(Level(name, c.text(entry, "description", "level description"),
                            threshold if threshold is not None else math.nan))
    c.unique(names, "level name")
    return tuple(levels)


def _dimensions(c: Checker, top: LineDict) -> tuple[Dimension, ...]:
    raw = c.sequence(top, "dimensions", "dimensions")
    out, ids = [], []
    for i, item in enumerate(raw):
        entry = c.mapping(item, raw.line_of(i), f"dimension {i + 1}", DIMENSION_FIELDS,
                          {"id", "name", "description"})
        if entry is None:
            continue
        did = c.ident(entry, "id", "dimension id")
        if did == "overall":
            c.add(entry.line_of("id"), "'overall' is reserved for the overall score")
        ids.append((did, entry.line_of("id")))
        out.append(Dimension(did, c.text(entry, "name", "dimension name"),
                             c.text(entry, "description", "dimension description"),
                             c.positive(entry, "weight", f"weight of dimension {did!r}")))
    c.unique(ids, "dimension id")
    return tuple(out)


def _options(c: Checker, entry: LineDict, qid: str, dimension_ids: set) -> tuple[Option, ...]:
    raw = c.sequence(entry, "options", f"options of question {qid!r}", min_items=2)
    out, ids = [], []
    for i, item in enumerate(raw):
        opt = c.mapping(item, raw.line_of(i), f"option {i + 1} of question {qid!r}",
                        OPTION_FIELDS, {"id", "label"})
        if opt is None:
            continue
        oid = c.ident(opt, "id", "option id")
        ids.append((oid, opt.line_of("id")))
        # An option may speak for a dimension of another questionnaire (a trade-off priority for
        # "ease of doing business", say), so only its form is checked here; the shipped-data
        # tests cross-reference it.
        dim = c.text(opt, "dimension", "option dimension", default="") or None
        if dim and not ID_PATTERN.match(dim):
            c.add(opt.line_of("dimension"), f"option {oid!r}: dimension {dim!r} is not an id")
        out.append(Option(oid, c.text(opt, "label", "option label"), dim))
    c.unique(ids, f"option id in question {qid!r}")
    return tuple(out)


def _questions(c: Checker, top: LineDict, scale: Scale | None,
               dimension_ids: set) -> tuple[Question, ...]:
    raw = c.sequence(top, "questions", "questions")
    out, ids = [], []
    for i, item in enumerate(raw):
        entry = c.mapping(item, raw.line_of(i), f"question {i + 1}", QUESTION_FIELDS,
                          {"id", "type", "text"})
        if entry is None:
            continue
        qid = c.ident(entry, "id", "question id")
        ids.append((qid, entry.line_of("id")))
        qtype = c.text(entry, "type", f"type of question {qid!r}")
        if qtype and qtype not in QUESTION_TYPES:
            c.add(entry.line_of("type"), f"question {qid!r} has unknown type {qtype!r} "
                                         f"(use one of {', '.join(QUESTION_TYPES)})")
            continue
        for key, types in FIELDS_ONLY_FOR.items():
            if key in entry and qtype not in types:
                c.add(entry.line_of(key), f"question {qid!r}: {key!r} is not allowed on a "
                                          f"{qtype} question (only on {', '.join(types)})")
        if entry.get("reverse") is True and qtype not in SCORED_TYPES:
            c.add(entry.line_of("reverse"), f"question {qid!r}: only level and likert questions "
                                            f"can be reverse-coded")
        dim = c.text(entry, "dimension", f"dimension of question {qid!r}", default="") or None
        if dim is None and qtype in SCORED_TYPES:
            c.add(entry.line, f"question {qid!r} is scored ({qtype}) and needs a dimension")
        elif dim is not None and dim not in dimension_ids:
            c.add(entry.line_of("dimension"), f"question {qid!r} refers to unknown dimension {dim!r}")

        anchors = c.texts(entry, "anchors", f"anchors of question {qid!r}")
        if qtype == "level" and scale is not None and len(anchors) != scale.points:
            c.add(entry.line_of("anchors"),
                  f"question {qid!r} needs {scale.points} anchors, one per scale point "
                  f"{scale.min}..{scale.max}; it has {len(anchors)}")
        labels = c.texts(entry, "labels", f"labels of question {qid!r}")
        if qtype == "likert" and scale is not None:
            if labels and len(labels) != scale.points:
                c.add(entry.line_of("labels"), f"question {qid!r} has {len(labels)} labels; the "
                                               f"scale has {scale.points} points")
        options = _options(c, entry, qid, dimension_ids) if qtype in OPTION_TYPES else ()
        if qtype in OPTION_TYPES and "options" not in entry:
            c.add(entry.line, f"{qtype} question {qid!r} needs options")
        total = None
        if qtype == "allocation":
            total = c.number(entry, "total", f"total of question {qid!r}", whole=True)
            if "total" not in entry:
                c.add(entry.line, f"allocation question {qid!r} needs a total (e.g. 100)")
            elif total is not None and total <= 0:
                c.add(entry.line_of("total"), f"total of question {qid!r} must be greater than 0")
        rank_top = None
        if qtype == "ranking" and "rank_top" in entry:
            rank_top = c.number(entry, "rank_top", f"rank_top of question {qid!r}", whole=True)
            if rank_top is not None and options and not 1 <= rank_top <= len(options):
                c.add(entry.line_of("rank_top"),
                      f"rank_top of question {qid!r} must be from 1 to its number of options "
                      f"({len(options)}), not {rank_top}")
                rank_top = None
        out.append(Question(
            id=qid, type=qtype, text=c.text(entry, "text", f"text of question {qid!r}"),
            dimension=dim, help=c.text(entry, "help", "help", default=""),
            weight=c.positive(entry, "weight", f"weight of question {qid!r}"),
            reverse=c.flag(entry, "reverse", "reverse"),
            allow_na=c.flag(entry, "allow_na", "allow_na"),
            anchors=anchors, labels=labels, options=options, total=total, rank_top=rank_top,
        ))
    c.unique(ids, "question id")
    return tuple(out)


def _sections(c: Checker, top: LineDict, question_ids: set) -> tuple[Section, ...]:
    raw = c.sequence(top, "sections", "sections")
    out, ids, placed = [], [], {}
    for i, item in enumerate(raw):
        entry = c.mapping(item, raw.line_of(i), f"section {i + 1}", SECTION_FIELDS, SECTION_FIELDS)
        if entry is None:
            continue
        sid = c.ident(entry, "id", "section id")
        ids.append((sid, entry.line_of("id")))
        members = c.texts(entry, "questions", f"questions of section {sid!r}")
        for qid in members:
            line = entry.line_of("questions")
            if qid not in question_ids:
                c.add(line, f"section {sid!r} lists unknown question {qid!r}")
            elif qid in placed:
                c.add(line, f"question {qid!r} is in sections {placed[qid]!r} and {sid!r}")
            placed[qid] = sid
        out.append(Section(sid, c.text(entry, "title", "section title"), members))
    c.unique(ids, "section id")
    return tuple(out)


def find_questionnaire(name: str | Path) -> Path:
    """A path as given, or the shipped questionnaire with that id."""
    path = Path(name)
    if path.exists():
        return path
    shipped = QUESTIONNAIRE_DIR / f"{name}.yaml"
    if ID_PATTERN.match(str(name)) and shipped.exists():
        return shipped
    known = ", ".join(p.stem for p in shipped_questionnaire_paths())
    raise DataFileError([Problem(str(name), 0, f"no such file or shipped questionnaire "
                                               f"(shipped: {known or 'none'})")])


def shipped_questionnaire_paths() -> list[Path]:
    """The questionnaire files that ship with the project, in name order."""
    return sorted(QUESTIONNAIRE_DIR.glob("*.yaml"))


def load_shipped() -> dict[str, Questionnaire]:
    """Every shipped questionnaire by id; raises if any is invalid or ids collide."""
    out: dict[str, Questionnaire] = {}
    for path in shipped_questionnaire_paths():
        q = load_questionnaire(path)
        if q.id in out:
            raise DataFileError([Problem(str(path), 1, f"questionnaire id {q.id!r} is also used by "
                                                       f"{out[q.id].path}")])
        out[q.id] = q
    return out
