"""Benchmark: score ~880,000 answers through the CLI against a plain pandas baseline.

Prints figures and ratios; asserts nothing. Run: make bench (or .venv/bin/python bench/score_bench.py).
The baseline reads the same CSV with pandas and does the two group-by means (respondent, then
team) per dimension; the CLI does all validation, reverse coding, weights, coverage, agreement
and levels on top, plus starting Python and importing pandas.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assessment.cli import template_frame  # noqa: E402
from assessment.questionnaire import find_questionnaire, load_questionnaire  # noqa: E402

BASELINE = """
import sys, time
import pandas as pd
started = time.perf_counter()
frame = pd.read_csv(sys.argv[1])
person = frame.groupby(["assessment", "respondent", "dimension"])["value"].mean()
team = person.groupby(level=["assessment", "dimension"]).mean()
print(time.perf_counter() - started)
"""


def make_responses(questionnaire_id: str, assessments: int, answers: int, path: Path) -> int:
    """Write a long-format CSV of about `answers` rows; returns the row count."""
    q = load_questionnaire(find_questionnaire(questionnaire_id))
    template = template_frame(q)
    template = template[template["type"].isin(["level", "likert"])].reset_index(drop=True)
    per_assessment = answers / assessments
    people = math.ceil(per_assessment / len(template))
    rng = np.random.default_rng(7)
    n = assessments * people * len(template)
    frame = pd.concat([template] * (assessments * people), ignore_index=True)
    block = np.repeat(np.arange(assessments * people), len(template))
    frame["assessment"] = "client-" + (block // people).astype(str)
    frame["respondent"] = "r" + (block % people).astype(str)
    frame["role"] = "executive"
    # Answers cluster around a per-assessment level, as a real team's do.
    centre = rng.integers(1, 6, size=assessments)[block // people]
    values = np.clip(centre + rng.integers(-1, 2, size=n), q.scale.min, q.scale.max)
    frame["value"] = values.astype(str)
    gaps = rng.random(n) < 0.03
    frame.loc[gaps, "value"] = ""
    frame.to_csv(path, index=False)
    return n


def timed(command: list[str]) -> tuple[float, float]:
    """Wall-clock time and CPU time (user + system, all threads) of a command, in seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)  # shown with the exception if it fails
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questionnaire", default="commitment")
    parser.add_argument("--assessments", type=int, default=2000)
    parser.add_argument("--answers", type=int, default=880_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        responses = Path(tmp) / "responses.csv"
        rows = make_responses(args.questionnaire, args.assessments, args.answers, responses)
        size = responses.stat().st_size / 1e6
        print(f"responses: {rows:,} answers, {args.assessments:,} assessments, "
              f"{args.questionnaire}, {size:.1f} MB")
        python = sys.executable
        cli, base_inside, base_process, cli_cpu, base_cpu = [], [], [], [], []
        for _ in range(args.repeat):
            wall, cpu = timed([python, "-m", "assessment", "score", args.questionnaire,
                               str(responses), "-o", str(Path(tmp) / "scores.csv")])
            cli.append(wall)
            cli_cpu.append(cpu)
            out = subprocess.run([python, "-c", BASELINE, str(responses)], check=True,
                                 capture_output=True, text=True)
            base_inside.append(float(out.stdout))
            wall, cpu = timed([python, "-c", BASELINE, str(responses)])
            base_process.append(wall)
            base_cpu.append(cpu)
        scores = pd.read_csv(Path(tmp) / "scores.csv")
        print(f"scores written: {len(scores):,} rows")

    cli_t = statistics.median(cli)
    inside = statistics.median(base_inside)
    process = statistics.median(base_process)
    # Each ratio within one repetition (the CLI and the baseline one after the other), then
    # the median: other work on the machine shifts both alike.
    in_ratio = statistics.median(c / b for c, b in zip(cli, base_inside, strict=True))
    process_ratio = statistics.median(c / b for c, b in zip(cli, base_process, strict=True))
    print(f"CLI score (whole process, median of {args.repeat}): {cli_t:.2f} s")
    print(f"baseline read_csv + 2 group-by means (in process): {inside:.2f} s")
    print(f"baseline as a whole process (python + import pandas): {process:.2f} s")
    print(f"ratio CLI / baseline in process: {in_ratio:.2f}")
    print(f"ratio CLI / baseline whole process: {process_ratio:.2f}")
    print(f"CPU time (user + system, all threads), medians: CLI "
          f"{statistics.median(cli_cpu):.2f} s, baseline process "
          f"{statistics.median(base_cpu):.2f} s, ratio "
          f"{statistics.median(c / b for c, b in zip(cli_cpu, base_cpu, strict=True)):.2f}")
    print(f"throughput: {rows / cli_t:,.0f} answers/s")
    print(f"load average (1, 5, 15 min) at the end: "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
