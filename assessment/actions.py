"""The action library read from YAML and validated. The types (Action, ActionLibrary) live in
assessment.model, so that planning never needs this loader."""

from __future__ import annotations

from pathlib import Path

from .model import Action, ActionLibrary
from .questionnaire import QUESTIONNAIRE_DIR, Checker
from .yamlsafe import DataFileError, read_yaml

__all__ = ["ACTIONS_PATH", "Action", "ActionLibrary", "build_actions", "is_action_library",
           "load_actions"]
ACTIONS_PATH = QUESTIONNAIRE_DIR / "actions" / "actions.yaml"
EFFORTS = ("S", "M", "L")
STEPS = (1, 2, 3, 4)
TOP_FIELDS = {"version", "actions"}
ACTION_FIELDS = {"id", "dimension", "step", "title", "description", "effort", "impact", "owner",
                 "measure", "depends_on"}


def load_actions(path: Path | str = ACTIONS_PATH, dimensions: set[str] | None = None,
                 shown: str | None = None) -> ActionLibrary:
    """Load and validate an action library; every problem as FILE:LINE: message."""
    shown = shown or str(path)
    return build_actions(read_yaml(path, shown), shown, dimensions, Path(path))


def is_action_library(raw) -> bool:
    return isinstance(raw, dict) and "actions" in raw and "kind" not in raw


def build_actions(raw, shown: str, dimensions: set[str] | None = None,
                  path: Path | None = None) -> ActionLibrary:
    """Validate parsed YAML as an action library, or raise DataFileError."""
    c = Checker(shown)
    top = c.mapping(raw, 1, "the action library", TOP_FIELDS, TOP_FIELDS)
    if top is None:
        raise DataFileError(c.problems)
    version = c.text(top, "version", "version")
    items = c.sequence(top, "actions", "actions")
    actions, ids, titles, lines = [], [], [], {}
    for i, item in enumerate(items):
        entry = c.mapping(item, items.line_of(i), f"action {i + 1}", ACTION_FIELDS,
                          ACTION_FIELDS - {"depends_on"})
        if entry is None:
            continue
        aid = c.ident(entry, "id", "action id")
        ids.append((aid, entry.line_of("id")))
        lines[aid] = entry
        title = c.text(entry, "title", f"title of {aid!r}")
        # Titles identify rows of an exported plan that comes back edited, so they are unique.
        titles.append((title, entry.line_of("title")))
        dim = c.ident(entry, "dimension", f"dimension of {aid!r}")
        if dimensions is not None and dim and dim not in dimensions:
            c.add(entry.line_of("dimension"), f"action {aid!r} refers to unknown dimension "
                                              f"{dim!r}")
        step = c.number(entry, "step", f"step of {aid!r}", whole=True)
        if step is not None and step not in STEPS:
            c.add(entry.line_of("step"), f"step of {aid!r} must be 1, 2, 3 or 4 (from level N to "
                                         f"N + 1), not {step}")
        effort = c.text(entry, "effort", f"effort of {aid!r}")
        if effort and effort not in EFFORTS:
            c.add(entry.line_of("effort"), f"effort of {aid!r} must be S, M or L, not {effort!r}")
        impact = c.number(entry, "impact", f"impact of {aid!r}", whole=True)
        if impact is not None and not 1 <= impact <= 5:
            c.add(entry.line_of("impact"), f"impact of {aid!r} must be 1 to 5, not {impact}")
        depends = c.texts(entry, "depends_on", f"depends_on of {aid!r}")
        actions.append(Action(
            id=aid, dimension=dim, step=step or 0, title=title,
            description=c.text(entry, "description", f"description of {aid!r}"),
            effort=effort, impact=impact or 0, owner=c.text(entry, "owner", f"owner of {aid!r}"),
            measure=c.text(entry, "measure", f"measure of {aid!r}"), depends_on=depends))
    c.unique(ids, "action id")
    c.unique(titles, "action title")
    known = {a.id for a in actions}
    for a in actions:
        for dep in a.depends_on:
            if dep not in known:
                c.add(lines[a.id].line_of("depends_on"), f"action {a.id!r} depends on unknown "
                                                         f"action {dep!r}")
            elif dep == a.id:
                c.add(lines[a.id].line_of("depends_on"), f"action {a.id!r} depends on itself")
    cycle = _find_cycle(actions)
    if cycle:
        c.add(lines[cycle[0]].line_of("depends_on"),
              f"dependencies go round in a circle: {' -> '.join(cycle)}")
    if c.problems:
        raise DataFileError(c.problems)
    return ActionLibrary(version, tuple(actions), path)


def _find_cycle(actions: list[Action]) -> list[str]:
    graph = {a.id: [d for d in a.depends_on if d != a.id] for a in actions}
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> list[str]:
        state[node] = 1
        for nxt in graph.get(node, []):
            if nxt not in graph:
                continue
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt]
            if state.get(nxt) is None:
                found = visit(nxt, path + [nxt])
                if found:
                    return found
        state[node] = 2
        return []

    for a in actions:
        if state.get(a.id) is None:
            found = visit(a.id, [a.id])
            if found:
                return found
    return []
