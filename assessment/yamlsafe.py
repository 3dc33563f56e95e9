"""Read YAML defensively, keeping the line of every value for error messages."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

MAX_BYTES = 1_000_000
MAX_DEPTH = 20

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a data file, at a line (1-based; 0 when the file as a whole)."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class DataFileError(Exception):
    """A data file (questionnaire, benchmark, action library) that cannot be used as it is."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class LineDict(dict):
    """A mapping read from YAML that remembers its own line and each key's line."""

    line: int = 0
    key_lines: dict

    def line_of(self, key) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list):
    """A sequence read from YAML that remembers its own line and each item's line."""

    line: int = 0
    item_lines: list

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


def read_yaml(path: Path | str, shown: str | None = None):
    """Parse a YAML file into LineDict/LineList/scalars, or raise DataFileError naming the line."""
    shown = shown or str(path)
    path = Path(path)

    def fail(line: int, message: str):
        raise DataFileError([Problem(shown, line, message)])

    try:
        size = path.stat().st_size
    except OSError as e:
        fail(1, f"cannot read the file: {e.strerror or e}")
    if not path.is_file():
        fail(1, "not a file")
    if size > MAX_BYTES:
        fail(1, f"the file is {size:,} bytes; the limit is {MAX_BYTES:,} bytes")
    data = path.read_bytes()
    if b"\x00" in data:
        fail(1, "the file is binary, not YAML text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        fail(line, "the file is not UTF-8 text (binary content?)")
    return parse_yaml(text, shown)


def parse_yaml(text: str, shown: str):
    """Parse YAML text; refuse anchors, aliases, tags, deep nesting and multiple documents."""

    def fail(line: int, message: str):
        raise DataFileError([Problem(shown, line, message)])

    # A first pass over the events refuses what a data file never needs before anything is built:
    # aliases (the "billion laughs" bomb), tags (python/object and friends) and deep nesting.
    depth = 0
    documents = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            line = event.start_mark.line + 1
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                fail(line, "anchors and aliases (& and *) are not allowed")
            tag = getattr(event, "tag", None)
            if tag is not None and tag != "!":
                fail(line, f"tags such as {tag!r} are not allowed")
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    fail(line, f"nesting deeper than {MAX_DEPTH} levels is not allowed")
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
            elif isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    fail(line, "only one YAML document per file is allowed")
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        fail(mark.line + 1 if mark else 0, f"not valid YAML: {e.problem or e.context}")
    except yaml.YAMLError as e:
        fail(1, f"not valid YAML: {e}")

    node = yaml.compose(text, Loader=_Loader)
    if node is None:
        fail(1, "the file is empty")
    constructor = yaml.SafeLoader("")
    problems: list[Problem] = []
    value = _build(node, constructor, shown, problems)
    if problems:
        raise DataFileError(problems)
    return value


def _build(node, constructor, shown: str, problems: list[Problem]):
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out = LineDict()
        out.line, out.key_lines = line, {}
        for key_node, value_node in node.value:
            key = _build(key_node, constructor, shown, problems)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                problems.append(Problem(shown, key_node.start_mark.line + 1, "keys must be plain text"))
                continue
            if key in out:
                problems.append(Problem(shown, key_node.start_mark.line + 1, f"duplicate key {key!r}"))
                continue
            out[key] = _build(value_node, constructor, shown, problems)
            out.key_lines[key] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        out = LineList()
        out.line = line
        out.item_lines = [item.start_mark.line + 1 for item in node.value]
        out.extend(_build(item, constructor, shown, problems) for item in node.value)
        return out
    try:
        return constructor.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, OverflowError) as e:
        problems.append(Problem(shown, line, f"cannot read this value: {e}"))
        return None
