"""The questionnaire loader accepts good files and names the file and line of every problem."""

from __future__ import annotations

import time

import pytest
from conftest import MINI_YAML

from assessment.questionnaire import QuestionnaireError, load_questionnaire


def edit(line: int, new: str | None, text: str = MINI_YAML) -> str:
    """Replace 1-based line `line` (None deletes it)."""
    lines = text.splitlines()
    if new is None:
        del lines[line - 1]
    else:
        lines[line - 1] = new
    return "\n".join(lines) + "\n"


def test_the_mini_questionnaire_loads_with_everything_declared(mini):
    assert (mini.id, mini.version, mini.title) == ("mini", "1.0", "Mini")
    assert (mini.scale.min, mini.scale.max, mini.scale.points) == (1, 5, 5)
    assert [lv.threshold for lv in mini.levels] == [1.0, 2.5, 4.0]
    assert [d.weight for d in mini.dimensions] == [1.0, 2.0]
    assert [q.id for q in mini.scored_questions] == ["q1", "q2", "q3", "q4"]
    assert mini.question("q2").reverse and not mini.question("q1").reverse
    assert mini.question("q3").allow_na and mini.question("q4").weight == 3
    assert mini.question("alloc").total == 10
    assert mini.question("rank").option_ids == ("x", "y", "z")
    assert mini.overall == "dimensions"


RANK = "  - {{id: rank, type: ranking, text: R{}, options: [{{id: x, label: X}}, " \
       "{{id: y, label: Y}}, {{id: z, label: Z}}]}}"

# Each bad case: (what is wrong, line edited, new text of that line, line reported, message part)
BAD_CASES = [
    ("unknown top-level field", 3, "titel: Mini", 3, "unknown field 'titel'"),
    ("missing title", 3, None, 1, "missing the required field 'title'"),
    ("id with spaces", 1, "id: my survey", 1, "may hold only letters"),
    ("id with a slash", 1, "id: a/b", 1, "may hold only letters"),
    ("scale min not whole", 6, "  min: 1.5", 6, "whole number"),
    ("scale max below min", 7, "  max: 0", 7, "must be greater than min"),
    ("labels count off", 8, "  labels: [a, b, c]", 8, "3 given"),
    ("unknown overall rule", 9, "overall: median", 9, "overall must be one of"),
    ("thresholds not increasing", 12, "  - {name: Middle, description: x, threshold: 1}", 12,
     "increase strictly"),
    ("threshold outside scale", 13, "  - {name: High, description: x, threshold: 6}", 13,
     "outside the scale"),
    ("duplicate level name", 12, "  - {name: Low, description: x, threshold: 2.5}", 12,
     "duplicate level name 'Low'"),
    ("duplicate dimension id", 16, "  - {id: d1, name: Again, description: x}", 16,
     "duplicate dimension id 'd1'"),
    ("dimension weight zero", 16, "  - {id: d2, name: S, description: x, weight: 0}", 16,
     "greater than 0"),
    ("dimension weight negative", 16, "  - {id: d2, name: S, description: x, weight: -1}", 16,
     "greater than 0"),
    ("unknown field in a dimension", 15, "  - {id: d1, name: F, description: x, colour: red}", 15,
     "unknown field 'colour'"),
    ("duplicate question id", 19, "  - {id: q1, dimension: d1, type: likert, text: Again}", 19,
     "duplicate question id 'q1'"),
    ("unknown dimension", 18, "  - {id: q1, dimension: nope, type: likert, text: x}", 18,
     "unknown dimension 'nope'"),
    ("scored question without dimension", 18, "  - {id: q1, type: likert, text: x}", 18,
     "needs a dimension"),
    ("unknown question type", 18, "  - {id: q1, dimension: d1, type: slider, text: x}", 18,
     "unknown type 'slider'"),
    ("question weight zero", 18, "  - {id: q1, dimension: d1, type: likert, text: x, weight: 0}",
     18, "greater than 0"),
    ("reverse is not a boolean", 19, "  - {id: q2, dimension: d1, type: likert, text: x, reverse: 2}",
     19, "true or false"),
    ("level question with four anchors", 21,
     "  - {id: q4, dimension: d2, type: level, text: x, anchors: [a, b, c, d]}", 21,
     "needs 5 anchors"),
    ("anchors on a likert question", 18,
     "  - {id: q1, dimension: d1, type: likert, text: x, anchors: [a, b, c, d, e]}", 18,
     "'anchors' is not allowed on a likert"),
    ("unknown field in a question", 18,
     "  - {id: q1, dimension: d1, type: likert, text: x, hint: y}", 18, "unknown field 'hint'"),
    ("allocation total not positive", 25, "    total: 0", 25, "must be greater than 0"),
    ("allocation total not whole", 25, "    total: 9.5", 25, "whole number"),
    ("allocation without total", 25, None, 22, "needs a total"),
    ("duplicate option id", 28, "      - {id: x, label: Again}", 28, "duplicate option id"),
    ("ranking with one option", 29,
     "  - {id: rank, type: ranking, text: R, options: [{id: x, label: X}]}", 29,
     "at least 2"),
    ("rank_top zero", 29, RANK.format(", rank_top: 0"), 29, "must be from 1 to its number of "
     "options (3), not 0"),
    ("rank_top above the options", 29, RANK.format(", rank_top: 4"), 29, "not 4"),
    ("rank_top not whole", 29, RANK.format(", rank_top: 1.5"), 29, "whole number"),
    ("rank_top not a number", 29, RANK.format(", rank_top: two"), 29, "must be a number"),
    ("rank_top on a choice question", 30,
     "  - {id: pick, type: choice, text: P, rank_top: 1, options: [{id: x, label: X}, "
     "{id: y, label: Y}]}", 30, "'rank_top' is not allowed on a choice question"),
    ("choice without options", 30, "  - {id: pick, type: choice, text: P}", 30, "needs options"),
    ("empty question text", 31, "  - {id: stop, type: text, text: ''}", 31, "must not be empty"),
    ("reverse on a text question", 31, "  - {id: stop, type: text, text: x, reverse: true}", 31,
     "can be reverse-coded"),
    ("yaml syntax error", 4, "description: [unclosed", 5, "not valid YAML"),
    ("duplicate key", 4, "title: Again", 4, "duplicate key 'title'"),
    ("anchor and alias", 4, "description: &d x", 4, "anchors and aliases"),
    ("python tag", 4, "description: !!python/name:os.system x", 4, "tags such as"),
]


@pytest.mark.parametrize(("case", "line", "new", "reported", "message"), BAD_CASES,
                         ids=[c[0] for c in BAD_CASES])
def test_a_bad_questionnaire_is_refused_with_file_and_line(write, case, line, new, reported,
                                                           message):
    path = write("bad.yaml", edit(line, new))
    with pytest.raises(QuestionnaireError) as caught:
        load_questionnaire(path)
    lines = [str(p) for p in caught.value.problems]
    assert any(text.startswith(f"{path}:{reported}: ") and message in text for text in lines), lines


def test_rank_top_says_how_many_ranks_are_enough(write):
    from assessment.questionnaire import load_questionnaire as load

    assert load(write("full.yaml", MINI_YAML)).question("rank").ranks_needed == 3
    top = load(write("top.yaml", edit(29, RANK.format(", rank_top: 2")))).question("rank")
    assert (top.rank_top, top.ranks_needed) == (2, 2)


def test_a_dimension_without_scored_questions_loads_and_scores_blank(write):
    import pandas as pd

    from assessment.responses import parse_answers
    from assessment.scoring import score

    text = edit(20, "  - {id: q3, dimension: d1, type: level, text: x, anchors: [a, b, c, d, e]}")
    text = edit(21, "  - {id: q4, dimension: d1, type: level, text: x, anchors: [a, b, c, d, e]}", text)
    q = load_questionnaire(write("nodim.yaml", text))
    table = score(parse_answers(pd.DataFrame({"respondent": ["ann"], "question": ["q1"],
                                              "value": ["3"]}), q), q)
    d2 = table[table["dimension"] == "d2"].iloc[0]
    assert d2["respondents"] == 0 and pd.isna(d2["score"])


def test_likert_labels_are_optional_and_ids_may_hold_dots(write):
    text = MINI_YAML.replace("  labels: [Strongly disagree, Disagree, Neutral, Agree, Strongly agree]\n", "")
    text = text.replace("id: q1,", "id: co.1,")
    q = load_questionnaire(write("plain.yaml", text))
    assert q.scale.labels == () and q.question("co.1").type == "likert"


def test_every_problem_is_reported_not_only_the_first(write):
    text = edit(3, "titel: Mini", edit(16, "  - {id: d1, name: Again, description: x}"))
    with pytest.raises(QuestionnaireError) as caught:
        load_questionnaire(write("two.yaml", text))
    lines = {p.line for p in caught.value.problems}
    assert {3, 16} <= lines


def alias_bomb() -> str:
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    previous = "a"
    for name in "bcdefghi":
        text += f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]\n"
        previous = name
    return text


HOSTILE = [
    ("alias bomb", alias_bomb(), "anchors and aliases"),
    ("deep flow nesting", "a: " + "[" * 50_000 + "]" * 50_000 + "\n", "nesting deeper"),
    ("deep block nesting", "".join("  " * i + f"k{i}:\n" for i in range(500)), "nesting deeper"),
    ("over one megabyte", "id: x\n" + "# padding line\n" * 80_000, "the limit is 1,000,000 bytes"),
    ("binary", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    ("not utf-8", "title: caf\xe9\n".encode("latin-1"), "not UTF-8"),
    ("python object tag", "id: !!python/object/apply:os.system ['echo hacked']\n", "tags such as"),
    ("empty", "", "empty"),
    ("a list, not a mapping", "- a\n- b\n", "must be a mapping"),
    ("two documents", "id: a\n---\nid: b\n", "one YAML document"),
]


@pytest.mark.parametrize(("case", "content", "message"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_a_hostile_file_is_refused_quickly_with_a_clear_message(write, case, content, message):
    path = write("hostile.yaml", content)
    started = time.perf_counter()
    with pytest.raises(QuestionnaireError) as caught:
        load_questionnaire(path)
    # A generous bound: refusing must not depend on expanding or building the hostile content.
    assert time.perf_counter() - started < 2.0
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"{path}:")


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(QuestionnaireError, match="cannot read the file"):
        load_questionnaire(tmp_path / "nowhere.yaml")


def test_mean_of_items_rule_is_accepted(write):
    q = load_questionnaire(write("items.yaml", edit(9, "overall: items")))
    assert q.overall == "items"
