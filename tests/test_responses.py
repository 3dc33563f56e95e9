"""Bad responses are refused naming the row (header is row 1), the question and the value."""

from __future__ import annotations

import pandas as pd
import pytest

from assessment.responses import ResponsesError, load_answers, parse_answers

HEADER = "assessment,respondent,role,question,option,value,comment\n"
GOOD = (
    "A,ann,executive,q1,,4,\n"
    "A,ann,executive,q2,,2,\n"
    "A,ann,executive,q3,,n/a,\n"
    "A,ann,executive,alloc,x,6,\n"
    "A,ann,executive,alloc,y,4,\n"
    "A,ann,executive,rank,x,2,\n"
    "A,ann,executive,rank,y,1,\n"
    "A,ann,executive,pick,,y,\n"
    "A,ann,executive,stop,,Stop the quarterly push,\n"
)

# (case, an extra data row appended after GOOD (so it is row 11), column, value, message part)
BAD_ROWS = [
    ("unknown question", "A,bob,,q99,,3,", "question", "q99", "unknown question"),
    ("value above the scale", "A,bob,,q1,,6,", "value", "6", "out of range 1..5"),
    ("value below the scale", "A,bob,,q1,,0,", "value", "0", "out of range 1..5"),
    ("not a whole number", "A,bob,,q1,,3.5,", "value", "3.5", "not a whole number"),
    ("not a number", "A,bob,,q1,,three,", "value", "three", "not a number"),
    ("n/a where not allowed", "A,bob,,q1,,N/A,", "value", "N/A", "not allowed"),
    ("same answer twice", "A,ann,,q1,,3,", "question", "q1", "given twice (first at row 2)"),
    ("blank respondent with a value", "A,,,q1,,3,", "respondent", "", "respondent is blank"),
    ("option on a likert question", "A,bob,,q1,x,3,", "option", "x", "takes no option"),
    ("unknown allocation option", "A,bob,,alloc,zz,3,", "option", "zz", "unknown option"),
    ("allocation without option", "A,bob,,alloc,,3,", "option", "", "option id is needed"),
    ("allocation over the total", "A,bob,,alloc,x,11,", "value", "11", "out of range 0..10"),
    ("rank beyond the options", "A,bob,,rank,x,4,", "value", "4", "out of range 1..3"),
    ("choice not an option", "A,bob,,pick,,maybe,", "value", "maybe", "not one of the options"),
]


@pytest.mark.parametrize(("case", "extra", "column", "value", "message"), BAD_ROWS,
                         ids=[b[0] for b in BAD_ROWS])
def test_a_bad_row_is_refused_naming_row_column_question_and_value(write, mini, case, extra,
                                                                   column, value, message):
    path = write("responses.csv", HEADER + GOOD + extra + "\n")
    with pytest.raises(ResponsesError) as caught:
        load_answers(path, mini)
    problem = caught.value.problems[0]
    assert (problem.row, problem.column, problem.value) == (11, column, value)
    assert message in problem.message
    text = str(caught.value)
    assert "row 11" in text and str(path) in text
    question = extra.split(",")[3]
    if question and column != "question":
        assert f"question {question!r}" in text


def test_good_responses_are_read_with_numbers_and_texts(write, mini):
    answers = load_answers(write("ok.csv", HEADER + GOOD), mini)
    assert len(answers) == 9
    by_question = answers.set_index(["question", "option"])
    assert by_question.loc[("q1", ""), "value"] == 4
    assert pd.isna(by_question.loc[("q3", ""), "value"])
    assert by_question.loc[("pick", ""), "text"] == "y"
    assert by_question.loc[("stop", ""), "text"] == "Stop the quarterly push"


def test_allocation_not_adding_up_is_refused_with_its_sum(write, mini):
    text = HEADER + GOOD.replace("A,ann,executive,alloc,y,4,", "A,ann,executive,alloc,y,3,")
    with pytest.raises(ResponsesError, match=r"row 5, question 'alloc'.*add up to 9, not 10"):
        load_answers(write("alloc.csv", text), mini)


def test_a_rank_given_twice_is_refused(write, mini):
    text = HEADER + GOOD.replace("A,ann,executive,rank,y,1,", "A,ann,executive,rank,y,2,")
    with pytest.raises(ResponsesError, match=r"row 8, question 'rank'.*already given"):
        load_answers(write("rank.csv", text), mini)


def test_missing_required_columns_are_named(write, mini):
    with pytest.raises(ResponsesError, match="column 'value'.*missing column"):
        load_answers(write("cols.csv", "respondent,question\nann,q1\n"), mini)


def test_without_an_assessment_column_there_is_one_assessment(write, mini):
    answers = load_answers(write("one.csv", "respondent,question,value\nann,q1,4\nbob,q1,2\n"), mini)
    assert set(answers["assessment"]) == {"default"}


def test_blank_values_and_untouched_template_rows_are_not_answers(write, mini):
    text = HEADER + "A,ann,,q1,,,\n,,,q2,,,\n\nA,ann,,q3,,na,\n"
    answers = load_answers(write("blank.csv", text), mini)
    assert list(answers["question"]) == ["q1", "q3"]
    assert answers["value"].isna().all()


def test_every_problem_is_counted_and_the_first_twenty_shown(write, mini):
    extra = "".join(f"A,r{i},,q1,,9,\n" for i in range(30))
    with pytest.raises(ResponsesError) as caught:
        load_answers(write("many.csv", HEADER + extra), mini)
    assert caught.value.total == 30 and len(caught.value.problems) == 20
    assert "and 10 more problem(s)" in str(caught.value)


def test_whole_numbers_written_with_a_decimal_point_are_accepted(write, mini):
    answers = load_answers(write("dec.csv", "respondent,question,value\nann,q1,4.0\n"), mini)
    assert answers["value"].tolist() == [4.0]


def test_xlsx_responses_are_read_like_csv(tmp_path, mini):
    frame = pd.DataFrame({"respondent": ["ann", "bob"], "question": ["q1", "q1"],
                          "value": [4, "seven"]})
    path = tmp_path / "answers.xlsx"
    frame.to_excel(path, index=False)
    with pytest.raises(ResponsesError, match=r"row 3, question 'q1', value 'seven': not a number"):
        load_answers(path, mini)


def test_a_file_that_is_not_a_table_gets_a_clear_message(write, mini):
    with pytest.raises(ResponsesError, match="not UTF-8"):
        load_answers(write("bin.csv", b"\xff\xfe\x00\x81garbage"), mini)


def test_parse_answers_accepts_a_frame_in_memory(mini):
    frame = pd.DataFrame({"respondent": ["ann"], "question": ["q1"], "value": ["5"]})
    assert parse_answers(frame, mini)["value"].tolist() == [5.0]
