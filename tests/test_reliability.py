"""Instrument reliability: Cronbach's alpha (pairwise and listwise), alpha if an item is
deleted and the corrected item-total correlation, against pingouin and worked by hand; the
`reliability` command; the installation's data without the demo; the Instrument page."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pingouin
import pytest
from conftest import ROOT

from assessment.questionnaire import load_questionnaire, load_shipped
from assessment.reliability import (
    COLUMNS,
    MIN_RESPONDENTS,
    covariance,
    cronbach_alpha,
    installation_answers,
    item_statistics,
    reliability,
    verdict,
)

# Four items in one dimension (one reverse-coded), two in another, one alone in a third.
SCALE_YAML = textwrap.dedent("""\
    id: scale
    version: "1.0"
    title: Scale
    description: For reliability tests.
    scale: {min: 1, max: 5}
    levels:
      - {name: Low, description: Low., threshold: 1}
      - {name: High, description: High., threshold: 3}
    dimensions:
      - {id: a, name: Alpha dimension, description: Four items.}
      - {id: b, name: Beta dimension, description: Two items.}
      - {id: c, name: Gamma dimension, description: One item.}
    questions:
      - {id: a1, dimension: a, type: likert, text: A one.}
      - {id: a2, dimension: a, type: likert, text: A two., reverse: true}
      - {id: a3, dimension: a, type: level, text: A three., anchors: [p, q, r, s, t], weight: 3}
      - {id: a4, dimension: a, type: likert, text: A four.}
      - {id: b1, dimension: b, type: likert, text: B one.}
      - {id: b2, dimension: b, type: likert, text: B two.}
      - {id: c1, dimension: c, type: likert, text: C one.}
      - {id: say, type: text, text: Anything else?}
    """)


@pytest.fixture
def scale(write):
    return load_questionnaire(write("scale.yaml", SCALE_YAML))


def random_items(seed: int, people: int, items: int, missing: float, related: float = 0.8):
    """Whole-number answers 1..5 sharing a common trait, with a share of them missing."""
    rng = np.random.default_rng(seed)
    trait = rng.normal(size=(people, 1))
    x = np.clip(np.round(3 + related * trait + rng.normal(size=(people, items))), 1, 5)
    x[rng.random(x.shape) < missing] = np.nan
    return x


def long_answers(matrix: np.ndarray, questions, reverse=(), roles=None) -> pd.DataFrame:
    """A responses table: one row per respondent and question; NaN becomes blank; items in
    `reverse` are written reverse-coded (as a respondent would answer them)."""
    rows = []
    for r, values in enumerate(matrix):
        for q, v in zip(questions, values, strict=True):
            value = "" if v != v else str(int(6 - v if q in reverse else v))
            rows.append({"assessment": "A", "respondent": f"r{r}",
                         "role": roles[r] if roles else "", "question": q, "option": "",
                         "value": value, "comment": ""})
    return pd.DataFrame(rows, dtype=object)


def validated(frame, questionnaire):
    from assessment.responses import parse_answers

    return parse_answers(frame, questionnaire)


# ---------------------------------------------------------------- the formulas

@pytest.mark.parametrize("seed, people, items, missing", [
    (1, 40, 3, 0.0), (2, 60, 5, 0.15), (3, 120, 8, 0.15), (4, 200, 4, 0.05), (5, 80, 6, 0.25)])
@pytest.mark.parametrize("policy", ["pairwise", "listwise"])
def test_alpha_and_alpha_if_deleted_equal_pingouin(seed, people, items, missing, policy):
    x = random_items(seed, people, items, missing)
    frame = pd.DataFrame(x, columns=[f"i{j}" for j in range(items)])
    cov, _ = covariance(x, listwise=policy == "listwise")
    assert np.isfinite(cronbach_alpha(cov))
    assert cronbach_alpha(cov) == pytest.approx(
        pingouin.cronbach_alpha(frame, nan_policy=policy)[0], abs=1e-9)
    deleted, _ = item_statistics(cov)
    # Alpha if deleted is on the same respondents as alpha: listwise, the complete ones.
    same = frame.dropna() if policy == "listwise" else frame
    expected = [pingouin.cronbach_alpha(same.drop(columns=c), nan_policy=policy)[0]
                for c in frame.columns]
    assert deleted == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("policy", ["pairwise", "listwise"])
def test_the_table_matches_pingouin_on_reverse_coded_answers(scale, policy):
    x = random_items(7, 80, 4, 0.12)
    answers = validated(long_answers(x, ["a1", "a2", "a3", "a4"], reverse={"a2"}), scale)
    table = reliability(answers, scale, listwise=policy == "listwise").table
    frame = pd.DataFrame(x, columns=["a1", "a2", "a3", "a4"])  # as scored: a2 reversed back
    row = table[(table["dimension"] == "a") & (table["item"] == "")].iloc[0]
    assert row["alpha"] == pytest.approx(pingouin.cronbach_alpha(frame, nan_policy=policy)[0],
                                         abs=1e-9)
    same = frame.dropna() if policy == "listwise" else frame
    items = table[(table["dimension"] == "a") & (table["item"] != "")].set_index("item")
    for c in frame.columns:
        assert items.loc[c, "alpha_if_deleted"] == pytest.approx(
            pingouin.cronbach_alpha(same.drop(columns=c), nan_policy=policy)[0], abs=1e-9)
    assert row["n"] == (len(frame.dropna()) if policy == "listwise" else
                        int(frame.notna().any(axis=1).sum()))


# A covariance matrix written out by hand, and what the formulas give on it:
# r_i = (sum(C[:, i]) - C[i, i]) / sqrt(C[i, i] * sum(C[-i, -i]))
HAND = np.array([[4.0, 2.0, 1.0],
                 [2.0, 3.0, 1.5],
                 [1.0, 1.5, 2.0]])
HAND_CASES = [
    # item, sum of its column less its variance, sum(C[-i, -i]), r, alpha if deleted
    (0, 2.0 + 1.0, 3.0 + 1.5 + 1.5 + 2.0, 3 / np.sqrt(4 * 8), 2 * (1 - 5 / 8)),
    (1, 2.0 + 1.5, 4.0 + 1.0 + 1.0 + 2.0, 3.5 / np.sqrt(3 * 8), 2 * (1 - 6 / 8)),
    (2, 1.0 + 1.5, 4.0 + 2.0 + 2.0 + 3.0, 2.5 / np.sqrt(2 * 11), 2 * (1 - 7 / 11)),
]


@pytest.mark.parametrize("item, column, rest, r, deleted", HAND_CASES)
def test_corrected_item_total_correlation_on_a_covariance_written_by_hand(item, column, rest, r,
                                                                          deleted):
    assert column / np.sqrt(HAND[item, item] * rest) == pytest.approx(r)  # the case itself
    alpha_deleted, item_total = item_statistics(HAND)
    assert item_total[item] == pytest.approx(r, abs=1e-12)
    assert alpha_deleted[item] == pytest.approx(deleted, abs=1e-12)


def test_alpha_of_the_hand_written_covariance():
    # k = 3, trace 9, sum 18: 3/2 * (1 - 9/18)
    assert cronbach_alpha(HAND) == pytest.approx(0.75, abs=1e-12)


def test_pairwise_covariance_uses_the_respondents_who_answered_both_items():
    x = np.array([[1.0, 2.0, np.nan],
                  [2.0, np.nan, 3.0],
                  [3.0, 5.0, 4.0],
                  [4.0, 4.0, 2.0]])
    cov, n = covariance(x)
    # items 0 and 1 by hand over rows 0, 2, 3: means 8/3 and 11/3
    by_hand = ((1 - 8 / 3) * (2 - 11 / 3) + (3 - 8 / 3) * (5 - 11 / 3) + (4 - 8 / 3) * (4 - 11 / 3)) / 2
    assert cov[0, 1] == pytest.approx(by_hand, abs=1e-12) and n[0, 1] == 3
    assert n.tolist() == [[4, 3, 3], [3, 3, 2], [3, 2, 3]]
    np.testing.assert_allclose(cov, pd.DataFrame(x).cov().to_numpy(), atol=1e-12)


# ---------------------------------------------------------------- what the figures say

def test_perfectly_consistent_answers_give_alpha_1(scale):
    levels = np.repeat(np.arange(1, 6), 8)[:, None]  # 40 people, each the same on every item
    answers = validated(long_answers(np.repeat(levels, 4, axis=1), ["a1", "a2", "a3", "a4"],
                                     reverse={"a2"}), scale)
    result = reliability(answers, scale)
    row = result.table[(result.table["dimension"] == "a") & (result.table["item"] == "")].iloc[0]
    assert row["alpha"] == pytest.approx(1.0, abs=1e-12)
    assert row["verdict"].startswith("good")
    items = result.table[(result.table["dimension"] == "a") & (result.table["item"] != "")]
    assert items["item_total_r"].to_numpy() == pytest.approx(np.ones(4))


def test_independent_random_answers_give_alpha_near_0():
    x = np.random.default_rng(11).integers(1, 6, size=(3000, 6)).astype(float)
    alpha = cronbach_alpha(covariance(x)[0])
    assert abs(alpha) < 0.05


@pytest.mark.parametrize("alpha, expected", [
    (0.95, "good (≥ 0.8)"), (0.8, "good (≥ 0.8)"), (0.79, "acceptable (≥ 0.7)"),
    (0.7, "acceptable (≥ 0.7)"), (0.69, "weak (< 0.7)"), (-0.2, "weak (< 0.7)"),
    (float("nan"), "")])
def test_the_verdict_states_its_threshold(alpha, expected):
    assert verdict(alpha) == expected


@pytest.mark.parametrize("people, has_alpha", [(MIN_RESPONDENTS - 1, False),
                                               (MIN_RESPONDENTS, True)])
def test_below_the_minimum_of_respondents_there_is_no_alpha_but_a_message(scale, people,
                                                                          has_alpha):
    assert MIN_RESPONDENTS >= 30
    x = random_items(3, people, 4, 0.0)
    result = reliability(validated(long_answers(x, ["a1", "a2", "a3", "a4"]), scale), scale)
    row = result.table[(result.table["dimension"] == "a") & (result.table["item"] == "")].iloc[0]
    assert bool(row["alpha"] == row["alpha"]) is has_alpha
    message = f"Alpha dimension: too few respondents: alpha needs at least 30; there are {people}"
    assert (message in result.notes) is not has_alpha
    items = result.table[(result.table["dimension"] == "a") & (result.table["item"] != "")]
    assert bool(items["item_total_r"].notna().all()) is has_alpha


def test_an_item_unrelated_to_the_others_is_flagged(scale):
    x = random_items(5, 120, 4, 0.0, related=1.5)
    x[:, 3] = np.random.default_rng(9).integers(1, 6, size=120)  # a4: noise
    answers = validated(long_answers(x, ["a1", "a2", "a3", "a4"], reverse={"a2"}), scale)
    result = reliability(answers, scale)
    items = result.table[(result.table["dimension"] == "a") & (result.table["item"] != "")]
    assert items.set_index("item")["flagged"].to_dict() == {"a1": False, "a2": False,
                                                            "a3": False, "a4": True}
    assert (items.set_index("item").loc["a4", "item_total_r"] < 0.3)


def test_a_dimension_of_one_item_has_no_alpha_and_says_why(scale):
    x = random_items(5, 40, 1, 0.0)
    result = reliability(validated(long_answers(x, ["c1"]), scale), scale)
    assert "Gamma dimension: one scored item: alpha needs at least two" in result.notes
    assert list(result.table["dimension"]) == ["a", "a", "a", "a", "a", "b", "b", "b", "c", "c"]


# ---------------------------------------------------------------- the command line

def run(*args):
    return subprocess.run([sys.executable, "-m", "assessment", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def responses_csv(scale, tmp_path):
    x = random_items(21, 45, 4, 0.1)
    frame = long_answers(x, ["a1", "a2", "a3", "a4"], reverse={"a2"})
    path = tmp_path / "answers.csv"
    frame.to_csv(path, index=False)
    return path


def test_reliability_writes_a_row_per_dimension_then_one_per_item(scale, responses_csv, tmp_path):
    out = tmp_path / "reliability.csv"
    result = run("reliability", scale.path, responses_csv, "-o", out)
    assert result.returncode == 0, result.stderr
    assert out.read_text().splitlines()[0] == ",".join(COLUMNS)
    table = pd.read_csv(out, keep_default_na=False)
    assert list(zip(table["dimension"], table["item"], strict=True)) == [
        ("a", ""), ("a", "a1"), ("a", "a2"), ("a", "a3"), ("a", "a4"), ("b", ""), ("b", "b1"),
        ("b", "b2"), ("c", ""), ("c", "c1")]
    frame = pd.DataFrame(random_items(21, 45, 4, 0.1), columns=["a1", "a2", "a3", "a4"])
    assert float(table.loc[0, "alpha"]) == pytest.approx(
        pingouin.cronbach_alpha(frame)[0], abs=1e-6)  # six decimals in the file
    assert "too few respondents" in result.stderr  # b and c were not answered


def test_listwise_keeps_only_respondents_who_answered_every_item(scale, responses_csv, tmp_path):
    out = tmp_path / "listwise.csv"
    assert run("reliability", scale.path, responses_csv, "--listwise", "-o", out).returncode == 0
    table = pd.read_csv(out, keep_default_na=False)
    frame = pd.DataFrame(random_items(21, 45, 4, 0.1), columns=["a1", "a2", "a3", "a4"])
    assert int(table.loc[0, "n"]) == len(frame.dropna())
    assert float(table.loc[0, "alpha"]) == pytest.approx(
        pingouin.cronbach_alpha(frame, nan_policy="listwise")[0], abs=1e-6)


def test_without_output_it_prints_a_readable_table(scale, responses_csv):
    result = run("reliability", scale.path, responses_csv)
    assert result.returncode == 0, result.stderr
    assert "alpha_if_deleted" in result.stdout and "at least 30 respondents" in result.stdout
    assert "good: alpha ≥ 0.8" in result.stderr


BAD_VALUES = [("7", "out of range"), ("x", "not a number"), ("2.5", "not a whole number")]


@pytest.mark.parametrize("bad, words", BAD_VALUES)
def test_reliability_refuses_bad_responses_exactly_as_score_does(scale, responses_csv, tmp_path,
                                                                 bad, words):
    lines = responses_csv.read_text().splitlines()
    fields = lines[3].split(",")
    fields[5] = bad
    lines[3] = ",".join(fields)
    bad_file = tmp_path / "bad.csv"
    bad_file.write_text("\n".join(lines) + "\n")
    scored = run("score", scale.path, bad_file, "-o", tmp_path / "s.csv")
    checked = run("reliability", scale.path, bad_file, "-o", tmp_path / "r.csv")
    assert scored.returncode == checked.returncode == 1
    assert checked.stderr == scored.stderr
    assert f"row 4, question 'a3', value '{bad}'" in checked.stderr and words in checked.stderr
    assert checked.stdout == "" and "Traceback" not in checked.stderr
    assert not (tmp_path / "r.csv").exists()


def test_reliability_refuses_a_file_without_the_needed_columns_as_score_does(scale, tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("who,what\nann,4\n")
    scored, checked = run("score", scale.path, path), run("reliability", scale.path, path)
    assert scored.returncode == checked.returncode == 1
    assert checked.stderr == scored.stderr and "missing column" in checked.stderr


# ---------------------------------------------------------------- the installation's data

def fill_workshop(store, client, people, questionnaire, seed=0, roles=("executive",)):
    """A workshop of a client with `people` participants who answered every scored question."""
    made = store.create_workshop(client.id, "Workshop", [questionnaire.id])
    # (the workshop, or with accounts the workshop alone: keys give way to sign-in)
    workshop = made[0] if isinstance(made, tuple) else made
    rng = np.random.default_rng(seed)
    for i in range(people):
        person, _ = store.join(workshop.code, f"Person {i}", roles[i % len(roles)])
        trait = rng.normal(3, 1)
        rows = [(q.id, "", str(int(np.clip(round(trait + rng.normal(0, 0.6)), 1, 5))))
                for q in questionnaire.scored_questions]
        store.save_answers(person.id, questionnaire.id, rows)
    return workshop


@pytest.mark.postgres
def test_the_installation_counts_every_real_client_and_never_the_demo(store):
    from assessment.demo import ensure_demo

    shipped = load_shipped()
    q = shipped["proposition"]
    demo = ensure_demo(store, shipped)
    assert demo is not None
    first = fill_workshop(store, store.create_client("Acme"), 12, q, seed=1)
    fill_workshop(store, store.create_client("Beta"), 9, q, seed=2)
    got = installation_answers(store, q)
    assert got.workshops == 2 and got.left_out == 0
    people = got.answers[["assessment", "respondent"]].drop_duplicates()
    assert len(people) == 21
    assert f"workshop {demo.id}" not in set(got.answers["assessment"].astype(str))
    assert f"workshop {first.id}" in set(got.answers["assessment"].astype(str))
    assert reliability(got.answers, q).respondents == 21


# ---------------------------------------------------------------- the Instrument page

def sign_in(at, store, admin: bool) -> None:
    """A live session of a consultant (an admin or not), as the sign-in page leaves it; the
    account is made with a cheap scrypt cost (checking reads the cost from the hash)."""
    from app_pages.common import SESSION_KEY

    store.scrypt_n = 2**4
    try:
        user = store.add_user("ada" if admin else "bob", "correct horse battery", admin=admin)
    finally:
        del store.scrypt_n
    at.session_state[SESSION_KEY] = store.start_session(user)


def instrument_page(db, admin: bool = True):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    sign_in(at, db, admin)
    at.run()
    at.switch_page("app_pages/instrument.py").run()
    assert not at.exception, at.exception
    return at


def page_text(at) -> str:
    parts = [e.value for kind in ("markdown", "caption", "subheader", "title", "info", "success",
                                  "warning", "error", "text")
             for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts).replace("\\", "").replace("\u2060", "")


def test_the_instrument_page_shows_alpha_per_dimension_in_plain_words(db):
    q = load_shipped()["proposition"]
    fill_workshop(db, db.create_client("Acme"), 32, q, seed=4)
    at = instrument_page(db)
    at.radio(key="instrument_questionnaire").set_value("proposition").run()
    assert not at.exception, at.exception
    text = page_text(at)
    assert "32 respondents" in text and "demo" in text.lower()
    assert "fewer than 30 respondents" in text and "from 0.8" in text and "below 0.3" in text
    assert "consistently" in text  # what alpha means, in one sentence
    dims = at.dataframe[0].value
    assert list(dims["Dimension"]) == [d.name for d in q.dimensions]
    assert dims["alpha"].between(0, 1).all()
    assert dims["verdict"].str.match(r"good|acceptable|weak").all()


def test_the_instrument_page_says_so_when_there_are_too_few_respondents(db):
    q = load_shipped()["proposition"]
    fill_workshop(db, db.create_client("Acme"), 6, q, seed=5)
    at = instrument_page(db)
    at.radio(key="instrument_questionnaire").set_value("proposition").run()
    text = page_text(at)
    assert "too few respondents: alpha needs at least 30; there are 6" in text


def test_the_instrument_page_is_for_signed_in_admins_only(db):
    from streamlit.testing.v1 import AppTest

    fill_workshop(db, db.create_client("Acme"), 32, load_shipped()["proposition"], seed=4)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.run()
    at.switch_page("app_pages/instrument.py").run()
    assert not at.dataframe and "Sign in" in page_text(at)
    at = instrument_page(db, admin=False)
    assert not at.dataframe and "for admins" in page_text(at)


# ---------------------------------------------------------------- a file uploaded in the app

def test_an_uploaded_file_gives_what_the_command_line_gives(scale, responses_csv):
    from assessment.reliability import uploaded_answers
    from assessment.responses import load_answers

    uploaded = reliability(uploaded_answers(responses_csv.read_bytes(), "answers.csv", scale), scale)
    from_path = reliability(load_answers(responses_csv, scale), scale)
    pd.testing.assert_frame_equal(uploaded.table, from_path.table)


def test_an_uploaded_file_is_refused_as_the_command_line_refuses_it(scale, responses_csv,
                                                                    tmp_path):
    from assessment.reliability import uploaded_answers
    from assessment.responses import ResponsesError

    lines = responses_csv.read_text().splitlines()
    fields = lines[3].split(",")
    fields[5] = "9"
    lines[3] = ",".join(fields)
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(ResponsesError) as caught:
        uploaded_answers(bad.read_bytes(), "bad.csv", scale)
    command = run("reliability", scale.path, bad)
    assert command.returncode == 1
    # the same problem, named the same way (the command names the file by its path)
    assert str(caught.value).split(": ", 1)[1] == command.stderr.strip().split(": ", 1)[1]


def test_an_uploaded_file_above_the_app_limit_is_refused_before_it_is_read(scale):
    from assessment.reliability import uploaded_answers
    from assessment.uploads import UploadError

    big = b"assessment,respondent,role,question,option,value,comment\n" + b"A,r,,a1,,3,\n" * 500_000
    with pytest.raises(UploadError, match="MB"):
        uploaded_answers(big, "big.csv", scale)


def test_the_instrument_page_offers_a_responses_file(db):
    at = instrument_page(db)
    at.radio(key="instrument_source").set_value("A responses file").run()
    assert not at.exception, at.exception
    assert at.get("file_uploader") and not at.dataframe
