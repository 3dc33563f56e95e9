"""The command line, run as a user runs it: python -m assessment, in a subprocess."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys

import pandas as pd
import pytest
from conftest import ROOT

INPUT = ["assessment", "respondent", "role", "question", "option", "value", "comment"]
REFERENCE = ["dimension", "type", "min", "max", "reverse", "weight"]
SCORE_COLUMNS = ["assessment", "dimension", "score", "level", "respondents", "sd", "agreement",
                 "coverage"]


def run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "assessment", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("command", [[], ["validate"], ["template"], ["score"]])
def test_every_command_has_help(command):
    result = run(*command, "--help")
    assert result.returncode == 0
    assert "usage: python -m assessment" in result.stdout


def test_validate_accepts_the_shipped_questionnaires():
    paths = sorted((ROOT / "questionnaires").glob("*.yaml"))
    result = run("validate", *paths)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_validate_prints_one_line_per_problem_and_exits_1(write, mini_path):
    bad = write("bad.yaml", mini_path.read_text().replace("title: Mini", "titel: Mini")
                .replace("threshold: 2.5", "threshold: 0.5"))
    result = run("validate", mini_path, bad)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines and all(re.match(rf"{re.escape(str(bad))}:\d+: ", line) for line in lines)
    assert any(":3: unknown field 'titel'" in line for line in lines)
    assert any(":12: " in line and "increase strictly" in line for line in lines)
    assert "Traceback" not in result.stdout + result.stderr


def test_validate_never_shows_a_traceback_on_hostile_input(write):
    bomb = write("bomb.yaml", "a: &a [1, 2]\nb: [*a, *a]\n")
    binary = write("bin.yaml", b"\x00\x01\x02")
    result = run("validate", bomb, binary, write("syntax.yaml", "id: [\n"), bomb.parent / "gone.yaml")
    assert result.returncode == 1
    assert len(result.stdout.splitlines()) == 4
    assert "Traceback" not in result.stdout + result.stderr


def read_csv_text(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_template_has_the_columns_in_order_and_a_row_per_question_or_option(mini):
    result = run("template", mini.path)
    assert result.returncode == 0, result.stderr
    header = result.stdout.splitlines()[0].split(",")
    assert header == INPUT + REFERENCE
    rows = read_csv_text(result.stdout)
    assert [(r["question"], r["option"]) for r in rows] == [
        ("q1", ""), ("q2", ""), ("q3", ""), ("q4", ""), ("alloc", "x"), ("alloc", "y"),
        ("rank", "x"), ("rank", "y"), ("rank", "z"), ("pick", ""), ("stop", "")]
    by = {(r["question"], r["option"]): r for r in rows}
    assert (by[("q2", "")]["reverse"], by[("q1", "")]["reverse"]) == ("true", "false")
    assert (by[("q1", "")]["min"], by[("q1", "")]["max"]) == ("1", "5")
    assert (by[("alloc", "x")]["min"], by[("alloc", "x")]["max"]) == ("0", "10")
    assert (by[("rank", "z")]["min"], by[("rank", "z")]["max"]) == ("1", "3")
    assert by[("q4", "")]["weight"] == "3" and by[("q4", "")]["dimension"] == "d2"
    assert by[("pick", "")]["type"] == "choice"


def test_template_of_a_shipped_questionnaire_by_id_writes_a_file(tmp_path):
    out = tmp_path / "tradeoffs.csv"
    result = run("template", "tradeoffs", "-o", out)
    assert result.returncode == 0, result.stderr
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    alloc = frame[frame["question"] == "tr_alloc"]
    assert "cost_reduction" in set(alloc["option"]) and set(alloc["max"]) == {"100"}


def fill_template(template_csv: str, people: dict[str, int], assessment="Board") -> str:
    """Answer every scored row of a template with a fixed value per respondent."""
    rows = read_csv_text(template_csv)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    for name, value in people.items():
        for r in rows:
            r = dict(r, assessment=assessment, respondent=name, role="executive")
            if r["type"] in ("level", "likert"):
                r["value"] = value
            writer.writerow(r)
    return out.getvalue()


def test_a_filled_template_scores_to_a_csv_with_the_agreed_columns(write, tmp_path):
    template = run("template", "proposition").stdout
    responses = write("answers.csv", fill_template(template, {"ann": 4, "bob": 4}))
    out = tmp_path / "scores.csv"
    result = run("score", "proposition", responses, "-o", out)
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert text.splitlines()[0].split(",") == SCORE_COLUMNS
    table = pd.read_csv(out)
    assert list(table["dimension"]) == ["insight", "proposition", "ease", "overall"]
    assert set(table["assessment"]) == {"Board"}
    # Reverse-coded items answered 4 score 2, so a dimension is 4 only without them.
    assert (table["respondents"] == 2).all()
    assert (table.loc[table["dimension"] != "overall", "agreement"] == 1.0).all()
    assert (table["coverage"] == 1.0).all()
    # at least four decimals on every number
    first = text.splitlines()[1].split(",")
    assert re.fullmatch(r"\d+\.\d{4,}", first[2]) and re.fullmatch(r"\d\.\d{4,}", first[7])


def test_score_without_output_prints_a_readable_table(write):
    template = run("template", "tradeoffs").stdout
    responses = write("answers.csv", fill_template(template, {"ann": 3}))
    result = run("score", "tradeoffs", responses)
    assert result.returncode == 0, result.stderr
    assert "Trade-offs" in result.stdout and "overall" in result.stdout
    assert "Developing" in result.stdout


def test_bad_responses_exit_1_naming_the_row_and_write_nothing(write, tmp_path):
    text = fill_template(run("template", "commitment").stdout, {"ann": 4})
    lines = text.splitlines()
    lines[5] = lines[5].replace(",4,", ",7,", 1)
    responses = write("answers.csv", "\n".join(lines) + "\n")
    out = tmp_path / "scores.csv"
    result = run("score", "commitment", responses, "-o", out)
    assert result.returncode == 1
    question = lines[5].split(",")[3]
    assert f"row 6, question '{question}', value '7': out of range 1..5" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [responses]


def test_scores_from_xlsx_match_scores_from_csv(write, tmp_path):
    text = fill_template(run("template", "tradeoffs").stdout, {"ann": 2, "bob": 5, "cy": 3})
    csv_path = write("answers.csv", text)
    xlsx_path = tmp_path / "answers.xlsx"
    pd.read_csv(csv_path, dtype=str, keep_default_na=False).to_excel(xlsx_path, index=False)
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert run("score", "tradeoffs", csv_path, "-o", a).returncode == 0
    assert run("score", "tradeoffs", xlsx_path, "-o", b).returncode == 0
    assert a.read_text() == b.read_text()


def test_an_unknown_questionnaire_is_a_clear_error(write):
    result = run("score", "no-such-thing", write("a.csv", "respondent,question,value\n"))
    assert result.returncode == 1
    assert "no such file or shipped questionnaire" in result.stderr
    assert "commitment" in result.stderr


def test_the_command_works_from_another_folder(tmp_path):
    result = subprocess.run([sys.executable, "-m", "assessment", "template", "commitment"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60,
                            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(",".join(INPUT + REFERENCE))


def test_validate_accepts_benchmark_files_too():
    paths = sorted((ROOT / "benchmarks").glob("*.yaml"))
    result = run("validate", *paths)
    assert result.returncode == 0, result.stdout + result.stderr


def test_score_with_a_benchmark_adds_its_columns_and_states_its_source(write, tmp_path):
    text = fill_template(run("template", "tradeoffs").stdout, {"ann": 2, "bob": 4})
    out = tmp_path / "scores.csv"
    result = run("score", "tradeoffs", write("a.csv", text), "--benchmark",
                 "synthetic-tradeoffs", "-o", out)
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(out)
    assert list(table.columns) == SCORE_COLUMNS + ["benchmark_percentile", "benchmark_median",
                                                   "benchmark_p75"]
    assert table["benchmark_percentile"].between(0, 100).all()
    assert "SYNTHETIC: ILLUSTRATION ONLY" in result.stderr


@pytest.mark.parametrize(("benchmark", "message"), [
    ("synthetic-commitment", "not comparable"),
    ("forrester-anz-2017", "context only"),
    ("nonexistent", "no such file or shipped benchmark"),
])
def test_score_refuses_a_benchmark_that_does_not_fit(write, tmp_path, benchmark, message):
    text = fill_template(run("template", "tradeoffs").stdout, {"ann": 2})
    out = tmp_path / "scores.csv"
    result = run("score", "tradeoffs", write("a.csv", text), "--benchmark", benchmark, "-o", out)
    assert result.returncode == 1 and message in result.stderr
    assert not out.exists()


def test_plan_writes_the_workbook_for_one_assessment(write, tmp_path):
    import openpyxl

    template = run("template", "proposition").stdout
    text = fill_template(template, {"ann": 2, "bob": 3})
    out = tmp_path / "plan.xlsx"
    result = run("plan", "proposition", write("a.csv", text), "--xlsx", out)
    assert result.returncode == 0, result.stderr
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Summary", "Scores", "Action plan", "Discussion", "Trade-offs",
                             "Responses", "Method"]
    assert wb["Action plan"].max_row > 1


def test_plan_asks_which_assessment_when_the_file_holds_several(write, tmp_path):
    template = run("template", "tradeoffs").stdout
    both = fill_template(template, {"ann": 2}, "North") + "".join(
        fill_template(template, {"bob": 4}, "South").splitlines(keepends=True)[1:])
    responses = write("both.csv", both)
    out = tmp_path / "plan.xlsx"
    result = run("plan", "tradeoffs", responses, "--xlsx", out)
    assert result.returncode == 1 and "North, South" in result.stderr and not out.exists()
    result = run("plan", "tradeoffs", responses, "--xlsx", out, "--assessment", "West")
    assert result.returncode == 1 and "no assessment 'West'" in result.stderr
    result = run("plan", "tradeoffs", responses, "--xlsx", out, "--assessment", "South",
                 "--benchmark", "synthetic-tradeoffs")
    assert result.returncode == 0, result.stderr
    scores = pd.read_excel(out, sheet_name="Scores")
    assert scores["Target"].notna().any()
