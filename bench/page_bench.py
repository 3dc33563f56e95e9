"""Benchmark: the results page, the plan page and the Excel export for a 30-person workshop.

Prints figures and ratios; asserts nothing.
Run: .venv/bin/python bench/page_bench.py [--people N] [--runs R]
A workshop of N participants (default 30) answering all three shipped questionnaires is seeded
into a temporary SQLite database. Each figure is measured in the same run as its baseline:
- a page's first run (cold caches) and later reruns, against an empty Streamlit page's rerun;
  beside it, what importing altair costs a fresh process (the results page's first run pays it,
  as the page's charts are altair charts);
- the scoring of the stored answers, against pandas reading the same answers and doing the
  two group-by means;
- the Excel workbook (build the report and write the .xlsx), against openpyxl writing a plain
  sheet with the same number of cells; and its parts: the report, the writing, and the read-back
  with which the command line's `plan` checks a written file before it replaces the target.
With --runs R (default 1) the whole measurement runs R times, each in a fresh process (so every
first run is a cold one), and the medians are printed: the machine may be busy with other work.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

EMPTY_PAGE = "import streamlit as st\nst.title('Empty')\n"
ALTAIR_IMPORT = """
import time
import pandas, streamlit
started = time.perf_counter()
import altair
print(time.perf_counter() - started)
"""


def timed(fn, repeat: int = 5) -> tuple[float, float]:
    """First call and median of the next `repeat` calls, in seconds."""
    started = time.perf_counter()
    fn()
    first = time.perf_counter() - started
    later = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        later.append(time.perf_counter() - started)
    return first, statistics.median(later)


def seed(store, people: int):
    """A closed workshop where `people` participants answered every questionnaire."""
    import numpy as np

    from assessment.questionnaire import load_shipped

    shipped = load_shipped()
    rng = np.random.default_rng(30)
    client = store.create_client("Bench client")
    workshop, _ = store.create_workshop(client.id, "Bench workshop", list(shipped))
    for i in range(people):
        person, _ = store.join(workshop.code, f"Person {i}", ["executive", "manager",
                                                               "frontline"][i % 3])
        for q in shipped.values():
            rows = []
            for question in q.questions:
                if question.scored:
                    rows.append((question.id, "", str(int(rng.integers(1, 6)))))
                elif question.type == "allocation":
                    points = [0] * len(question.options)
                    points[int(rng.integers(len(points)))] = question.total
                    rows += [(question.id, o.id, str(p))
                             for o, p in zip(question.options, points, strict=True)]
                elif question.type == "ranking":
                    order = rng.permutation(len(question.options))
                    rows += [(question.id, o.id, str(int(r) + 1))
                             for o, r in zip(question.options, order, strict=True)]
                elif question.type == "choice":
                    rows.append((question.id, "", question.options[0].id))
                else:
                    rows.append((question.id, "", f"Answer {i}"))
            store.save_answers(person.id, q.id, rows)
    store.set_answering_open(workshop.id, False)
    return workshop


def measure(people: int) -> dict:
    """Every figure of one run, in seconds (and the workbook's size and cells)."""
    figures: dict = {"people": people}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.db"
        import openpyxl
        import pandas as pd
        from streamlit.testing.v1 import AppTest

        from assessment.actions import load_actions
        from assessment.export import verify_workbook, workbook_bytes
        from assessment.questionnaire import load_shipped
        from assessment.report import Scored, build_report
        from assessment.store import Store
        from assessment.workshop import results

        shipped = load_shipped()
        store = Store(os.environ["DATABASE_URL"], questionnaires=shipped)
        store.create_schema()
        workshop = seed(store, people)
        figures["answers"] = len(store.answer_frame(workshop.id))

        # A fresh process, before this one has imported altair.
        out = subprocess.run([sys.executable, "-c", ALTAIR_IMPORT], check=True,
                             capture_output=True, text=True)
        figures["altair_import"] = float(out.stdout)

        empty = Path(tmp) / "empty.py"
        empty.write_text(EMPTY_PAGE)
        at = AppTest.from_file(str(empty), default_timeout=120)
        _, figures["empty_rerun"] = timed(at.run)
        for name, page in (("results", "app_pages/results.py"), ("plan", "app_pages/plan.py")):
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
            at.session_state["facilitator_workshop"] = workshop.id
            at.run()
            figures[f"{name}_first"], figures[f"{name}_rerun"] = timed(
                lambda at=at, page=page: at.switch_page(page).run())

        frames = {qid: store.answer_frame(workshop.id, qid) for qid in shipped}
        library = load_actions(dimensions={d.id for q in shipped.values() for d in q.dimensions})

        def score_all():
            return {qid: results(frames[qid], shipped[qid]) for qid in shipped}

        def group_means():
            for frame in frames.values():
                values = pd.to_numeric(frame["value"], errors="coerce")
                person = values.groupby([frame["participant_id"], frame["question_id"]]).mean()
                person.groupby(level=0).mean()

        _, figures["scoring"] = timed(score_all)
        _, figures["scoring_baseline"] = timed(group_means)

        outcome = score_all()

        def report():
            scored = [Scored(shipped[q], outcome[q].answers, outcome[q].scores) for q in shipped]
            return build_report(scored, library, reference="bench", client="Bench client",
                                title="Bench workshop")[0]

        def export():
            return workbook_bytes(report())

        _, figures["export"] = timed(export, repeat=3)
        _, figures["export_report"] = timed(report, repeat=3)
        plan = report()
        _, figures["export_write"] = timed(lambda: workbook_bytes(plan), repeat=3)
        data = export()
        written = Path(tmp) / "plan.xlsx"
        written.write_bytes(data)
        _, figures["export_read_back"] = timed(lambda: verify_workbook(written), repeat=3)
        figures["workbook_bytes"] = len(data)
        cells = sum(ws.max_row * ws.max_column
                    for ws in openpyxl.load_workbook(io.BytesIO(data)).worksheets)
        figures["workbook_cells"] = cells

        def plain_sheet():
            wb = openpyxl.Workbook()
            ws = wb.active
            width = 12
            for r in range(cells // width + 1):
                ws.append([f"cell {r}.{c}" for c in range(width)])
            wb.save(io.BytesIO())

        _, figures["export_baseline"] = timed(plain_sheet, repeat=3)
        store.close()
    # Each ratio within its own run (with --runs, the median of those).
    figures["ratio_results_rerun"] = figures["results_rerun"] / figures["empty_rerun"]
    figures["ratio_plan_rerun"] = figures["plan_rerun"] / figures["empty_rerun"]
    figures["ratio_scoring"] = figures["scoring"] / figures["scoring_baseline"]
    figures["ratio_export"] = figures["export"] / figures["export_baseline"]
    return figures


def report_lines(f: dict, runs: int) -> list[str]:
    ms = {k: v * 1000 for k, v in f.items() if isinstance(v, float) and
          not k.startswith("ratio")}
    how = f"median of {runs} runs" if runs > 1 else "one run"
    lines = [f"workshop: {f['people']} participants, {f['answers']:,} stored answers, "
             f"3 questionnaires ({how})",
             f"empty page rerun                 {ms['empty_rerun']:7.1f} ms"]
    for name in ("results", "plan"):
        lines.append(f"app_pages/{name + '.py':22s} first {ms[name + '_first']:7.1f} ms   "
                     f"rerun {ms[name + '_rerun']:7.1f} ms   rerun / empty page "
                     f"{f['ratio_' + name + '_rerun']:5.1f}")
        if name == "results":
            lines.append(f"  its first run includes importing altair: {ms['altair_import']:.1f} "
                         f"ms in a fresh process")
    lines += [
        f"scoring the stored answers        {ms['scoring']:7.1f} ms   pandas group-by "
        f"baseline {ms['scoring_baseline']:6.1f} ms   ratio {f['ratio_scoring']:5.1f}",
        f"Excel plan workbook               {ms['export']:7.1f} ms   "
        f"({f['workbook_bytes'] / 1000:.0f} kB, {f['workbook_cells']:,} cells)   openpyxl plain "
        f"sheet of as many cells {ms['export_baseline']:6.1f} ms   ratio {f['ratio_export']:5.1f}",
        f"  build the report {ms['export_report']:6.1f} ms, write the workbook "
        f"{ms['export_write']:6.1f} ms; `plan` also reads it back: {ms['export_read_back']:6.1f} ms",
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=30)
    parser.add_argument("--runs", type=int, default=1,
                        help="repeat the whole measurement in fresh processes; print medians")
    parser.add_argument("--json", help=argparse.SUPPRESS)  # one run's figures, for --runs
    args = parser.parse_args()
    if args.runs <= 1:
        figures = measure(args.people)
        if args.json:
            Path(args.json).write_text(json.dumps(figures))
        else:
            print("\n".join(report_lines(figures, 1)))
            print(f"load average (1, 5, 15 min) at the end: "
                  f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
        return
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            path = Path(tmp) / f"run{i}.json"
            subprocess.run([sys.executable, __file__, "--people", str(args.people),
                            "--json", str(path)], check=True, stderr=subprocess.DEVNULL)
            runs.append(json.loads(path.read_text()))
            print(f"run {i + 1}: results first {runs[-1]['results_first'] * 1000:.0f} ms, "
                  f"Excel {runs[-1]['export'] * 1000:.0f} ms", file=sys.stderr)
    median = {k: (statistics.median(r[k] for r in runs) if isinstance(v, float) else v)
              for k, v in runs[0].items()}
    print("\n".join(report_lines(median, args.runs)))
    print(f"load average (1, 5, 15 min) at the end: "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
