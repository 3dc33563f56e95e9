"""Benchmarks state their source, refuse misleading comparisons and small groups."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from assessment.benchmarks import (
    MIN_ORGANISATIONS,
    BenchmarkError,
    DimensionStats,
    compare,
    find_benchmark,
    load_benchmark,
    percentile_rank,
    quartile_band,
)
from assessment.portfolio import build_benchmark
from assessment.questionnaire import load_shipped
from assessment.yamlsafe import DataFileError

SHIPPED = load_shipped()
STATS = DimensionStats("purpose", 40, 3.0, 0.6, 2.0, 2.5, 3.0, 3.5, 4.0)


@pytest.mark.parametrize(("score", "rank"), [
    (3.0, 50.0),     # at the median
    (2.5, 25.0),     # at the 25th percentile
    (3.25, 62.5),    # halfway between the 50th (3.0) and 75th (3.5)
    (2.2, 16.0),     # 10 + (2.2 - 2.0) / (2.5 - 2.0) * 15
    (1.0, 0.0),      # the bottom of the scale
    (1.5, 5.0),      # halfway from the scale bottom (0) to the 10th percentile (2.0)
    (4.5, 95.0),     # halfway from the 90th (4.0) to the top of the scale (100)
    (5.0, 100.0),
])
def test_percentile_rank_matches_hand_computed_cases(score, rank):
    assert float(percentile_rank(score, STATS, 1, 5)) == pytest.approx(rank)


def test_tied_percentiles_give_the_middle_of_the_tie():
    flat = DimensionStats("x", 10, 3.0, 0.0, 3.0, 3.0, 3.0, 3.0, 3.0)
    assert float(percentile_rank(3.0, flat, 1, 5)) == pytest.approx(50.0)


@pytest.mark.parametrize(("score", "band"), [
    (3.6, "top quartile"), (3.5, "top quartile"), (3.2, "above median"), (3.0, "above median"),
    (2.7, "below median"), (2.4, "bottom quartile"), (float("nan"), ""),
])
def test_quartile_bands(score, band):
    assert quartile_band(score, STATS) == band


def scores_table(q, value=3.0):
    dims = [d.id for d in q.dimensions] + ["overall"]
    return pd.DataFrame({"assessment": "A", "dimension": dims, "score": value})


def test_comparison_gives_percentile_band_and_gaps_per_dimension():
    q = SHIPPED["commitment"]
    b = find_benchmark("synthetic-commitment")
    got = compare(scores_table(q, 3.0), b, q).set_index("dimension")
    stats = b.stats("purpose")
    assert got.loc["purpose", "benchmark_median"] == stats.p50
    assert got.loc["purpose", "gap_to_median"] == pytest.approx(3.0 - stats.p50)
    assert got.loc["purpose", "gap_to_p75"] == pytest.approx(3.0 - stats.p75)
    assert got.loc["purpose", "benchmark_percentile"] == pytest.approx(
        float(percentile_rank(3.0, stats, 1, 5)))


def test_comparing_with_another_questionnaires_benchmark_is_refused():
    with pytest.raises(BenchmarkError, match="is for questionnaire 'commitment' version 1.0; "
                                             "these scores are for 'proposition'"):
        compare(scores_table(SHIPPED["proposition"]), find_benchmark("synthetic-commitment"),
                SHIPPED["proposition"])


def test_comparing_across_versions_is_refused():
    from dataclasses import replace

    q = replace(SHIPPED["commitment"], version="2.0")
    with pytest.raises(BenchmarkError, match="version 1.0; these scores are for 'commitment' "
                                             "version 2.0: not comparable"):
        compare(scores_table(q), find_benchmark("synthetic-commitment"), q)


def test_published_stage_distributions_are_never_compared_with_scores():
    q = SHIPPED["commitment"]
    with pytest.raises(BenchmarkError, match="context only"):
        compare(scores_table(q), find_benchmark("xm-institute-2024"), q)


GOOD = """\
id: own-test
kind: scores
title: Test
source: built from this installation's own assessments
year: 2025
sample: 6
sample_unit: organisations
population: test clients
method: test
questionnaire: tradeoffs
questionnaire_version: "1.0"
dimensions:
  - {dimension: tradeoffs, n: 6, mean: 2.5, sd: 0.4, p10: 2.0, p25: 2.2, p50: 2.5, p75: 2.8, p90: 3.0}
"""

BAD = [
    ("unknown field", "year: 2025", "year: 2025\ncolour: red", 6, "unknown field 'colour'"),
    ("too few organisations", "sample: 6", "sample: 4", 6, "at least 5 organisations"),
    ("percentiles decrease", "p25: 2.2", "p25: 1.9", 13, "must not decrease"),
    ("n above the sample", "n: 6,", "n: 60,", 13, "between 1 and the sample"),
    ("unknown dimension", "dimension: tradeoffs", "dimension: nope", 13, "not in questionnaire"),
    ("figure off the scale", "p90: 3.0", "p90: 7.0", 13, "on the questionnaire's scale"),
    ("synthetic without the label", "method: test", "method: test\nsynthetic: true", 4,
     "must say 'synthetic: illustration only'"),
    ("unknown kind", "kind: scores", "kind: guesses", 2, "kind must be"),
    ("year in the future", "year: 2025", "year: 2999", 5, "not a plausible"),
]


@pytest.mark.parametrize(("case", "old", "new", "line", "message"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_benchmark_file_is_refused_with_file_and_line(write, case, old, new, line, message):
    path = write("bench.yaml", GOOD.replace(old, new, 1))
    with pytest.raises(DataFileError) as caught:
        load_benchmark(path, questionnaires=SHIPPED)
    assert any(str(p).startswith(f"{path}:{line}: ") and message in str(p)
               for p in caught.value.problems), caught.value.problems


def test_a_stage_without_a_percent_needs_a_note(write):
    text = (ROOT / "benchmarks" / "xm-institute-2024.yaml").read_text().replace(
        ", note: not reported in the source", "")
    with pytest.raises(DataFileError, match="say why in a note"):
        load_benchmark(write("stages.yaml", text))


def test_stage_percentages_over_100_are_refused(write):
    text = (ROOT / "benchmarks" / "forrester-anz-2017.yaml").read_text().replace(
        "percent: 31", "percent: 61")
    with pytest.raises(DataFileError, match="add up to 130"):
        load_benchmark(write("stages.yaml", text))


# ---------------------------------------------------------------- from the consultant's own data

def add_clients(store, how_many, sector="Retail", value="3", closed=True, demo=False):
    for i in range(how_many):
        client = store.create_client(f"{sector} client {i}", sector=sector, region="UK")
        workshop = store.create_workshop(client.id, "Workshop", ["tradeoffs"])
        person, _ = store.join(workshop.code, "Ann", "executive")
        q = SHIPPED["tradeoffs"]
        v = (int(value) + i) % 5 + 1
        # reverse-coded items are answered the other way round so every item scores v
        store.save_answers(person.id, "tradeoffs", [
            (x.id, "", str(6 - v if x.reverse else v)) for x in q.scored_questions])
        if closed:
            store.set_answering_open(workshop.id, False)
        if demo:
            store.mark_demo(client.id)  # last: the demo is read-only


def test_fewer_than_five_organisations_are_refused(store):
    add_clients(store, MIN_ORGANISATIONS - 1)
    add_clients(store, 3, sector="Banking", closed=False)  # still answering: not completed
    add_clients(store, 3, sector="Retail", demo=True)  # demo clients never count
    with pytest.raises(BenchmarkError, match="only 4 organisation"):
        build_benchmark(store, SHIPPED["tradeoffs"])


def test_a_benchmark_from_own_data_filters_clients_and_names_none(store):
    add_clients(store, 5, sector="Retail")
    add_clients(store, 5, sector="Banking")
    retail = build_benchmark(store, SHIPPED["tradeoffs"], sector="retail")
    assert retail.provenance.sample == 5
    assert "sector retail" in retail.provenance.population
    assert retail.provenance.source == "built from this installation's own assessments"
    stats = retail.stats("tradeoffs")
    # scores 2, 3, 4, 5, 1 (one per client): p50 = 3, mean = 3
    assert (stats.n, stats.mean, stats.p50) == (5, 3.0, 3.0)
    assert stats.p25 == pytest.approx(np.percentile([1, 2, 3, 4, 5], 25))
    from assessment.benchmarks import to_yaml

    text = to_yaml(retail)
    assert not [c.name for c in store.clients() if c.name in text]
    with pytest.raises(BenchmarkError):
        build_benchmark(store, SHIPPED["tradeoffs"], sector="retail", region="France")


def test_the_benchmark_command_builds_a_file_that_validates(tmp_path, monkeypatch):
    from assessment.store import Store

    url = f"sqlite:///{tmp_path / 'b.db'}"
    store = Store(url)
    store.create_schema()
    add_clients(store, 4)
    store.close()
    env = {"DATABASE_URL": url, "PATH": "/usr/bin:/bin"}
    out = tmp_path / "own.yaml"

    def run(*args):
        return subprocess.run([sys.executable, "-m", "assessment", *map(str, args)], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=120)

    refused = run("benchmark", "build", "tradeoffs", "--sector", "Retail", "-o", out)
    assert refused.returncode == 1 and "at least 5" in refused.stderr and not out.exists()
    store = Store(url)
    add_clients(store, 1, sector="Retail", value="1")
    store.close()
    built = run("benchmark", "build", "tradeoffs", "--sector", "Retail", "-o", out)
    assert built.returncode == 0, built.stderr
    assert run("validate", out).returncode == 0
    assert load_benchmark(out, questionnaires=SHIPPED).provenance.sample == 5
