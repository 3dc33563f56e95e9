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

from rerun_bench import sign_in  # noqa: E402 - after the path, like the app's own imports

EMPTY_PAGE = "import streamlit as st\nst.title('Empty')\n"
ALTAIR_IMPORT = """
import time
import pandas, streamlit
started, cpu = time.perf_counter(), time.process_time()
import altair
print(time.perf_counter() - started, time.process_time() - cpu)
"""


def timed(fn, repeat: int = 5) -> dict[str, float]:
    """The first call and the median of the next `repeat` calls, in seconds: wall-clock time,
    and CPU time of this process (all its threads), which other work on the machine disturbs
    less."""
    def once() -> tuple[float, float]:
        started, cpu = time.perf_counter(), time.process_time()
        fn()
        return time.perf_counter() - started, time.process_time() - cpu

    first, first_cpu = once()
    later = [once() for _ in range(repeat)]
    return {"first": first, "first_cpu": first_cpu,
            "later": statistics.median(t for t, _ in later),
            "later_cpu": statistics.median(c for _, c in later)}




def keep(figures: dict, name: str, times: dict, which: str = "later") -> None:
    figures[name], figures[name + "_cpu"] = times[which], times[which + "_cpu"]


def seed(store, people: int):
    """A closed workshop where `people` participants answered every questionnaire."""
    import numpy as np

    from assessment.questionnaire import load_shipped

    shipped = load_shipped()
    rng = np.random.default_rng(30)
    client = store.create_client("Bench client")
    workshop = store.create_workshop(client.id, "Bench workshop", list(shipped))
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
        figures["altair_import"], figures["altair_import_cpu"] = map(float, out.stdout.split())

        empty = Path(tmp) / "empty.py"
        empty.write_text(EMPTY_PAGE)
        at = AppTest.from_file(str(empty), default_timeout=120)
        keep(figures, "empty_rerun", timed(at.run))
        for name, page in (("results", "app_pages/results.py"), ("plan", "app_pages/plan.py")):
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
            sign_in(at, store, workshop.id)
            at.run()
            times = timed(lambda at=at, page=page: at.switch_page(page).run())
            keep(figures, f"{name}_first", times, "first")
            keep(figures, f"{name}_rerun", times)

        frames = {qid: store.answer_frame(workshop.id, qid) for qid in shipped}
        library = load_actions(dimensions={d.id for q in shipped.values() for d in q.dimensions})

        def score_all():
            return {qid: results(frames[qid], shipped[qid]) for qid in shipped}

        def group_means():
            for frame in frames.values():
                values = pd.to_numeric(frame["value"], errors="coerce")
                person = values.groupby([frame["participant_id"], frame["question_id"]]).mean()
                person.groupby(level=0).mean()

        keep(figures, "scoring", timed(score_all))
        keep(figures, "scoring_baseline", timed(group_means))

        outcome = score_all()

        def report():
            scored = [Scored(shipped[q], outcome[q].answers, outcome[q].scores) for q in shipped]
            return build_report(scored, library, reference="bench", client="Bench client",
                                title="Bench workshop")[0]

        def export():
            return workbook_bytes(report())

        keep(figures, "export", timed(export, repeat=3))
        keep(figures, "export_report", timed(report, repeat=3))
        plan = report()
        keep(figures, "export_write", timed(lambda: workbook_bytes(plan), repeat=3))
        data = export()
        written = Path(tmp) / "plan.xlsx"
        written.write_bytes(data)
        keep(figures, "export_read_back", timed(lambda: verify_workbook(written), repeat=3))
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

        keep(figures, "export_baseline", timed(plain_sheet, repeat=3))
        store.close()
    # Each ratio within its own run (with --runs, the median of those), in wall-clock and in
    # CPU time.
    for ratio, (a, b) in {"results_rerun": ("results_rerun", "empty_rerun"),
                          "plan_rerun": ("plan_rerun", "empty_rerun"),
                          "scoring": ("scoring", "scoring_baseline"),
                          "export": ("export", "export_baseline")}.items():
        figures[f"ratio_{ratio}"] = figures[a] / figures[b]
        figures[f"ratio_{ratio}_cpu"] = figures[a + "_cpu"] / figures[b + "_cpu"]
    return figures


def report_lines(f: dict, runs: int) -> list[str]:
    def t(name: str, width: int = 7) -> str:
        return f"{f[name] * 1000:{width}.1f} ms (CPU {f[name + '_cpu'] * 1000:.1f})"

    def r(name: str) -> str:
        return f"{f['ratio_' + name]:.1f} (CPU {f['ratio_' + name + '_cpu']:.1f})"

    how = f"median of {runs} runs" if runs > 1 else "one run"
    lines = [f"workshop: {f['people']} participants, {f['answers']:,} stored answers, "
             f"3 questionnaires ({how}); wall-clock time, CPU time of the process in brackets",
             f"empty page rerun                 {t('empty_rerun')}"]
    for name in ("results", "plan"):
        lines.append(f"app_pages/{name + '.py':22s} first {t(name + '_first')}   "
                     f"rerun {t(name + '_rerun')}   rerun / empty page {r(name + '_rerun')}")
        if name == "results":
            lines.append(f"  its first run includes importing altair: {t('altair_import', 1)} "
                         f"in a fresh process")
    lines += [
        f"scoring the stored answers        {t('scoring')}   pandas group-by baseline "
        f"{t('scoring_baseline', 1)}   ratio {r('scoring')}",
        f"Excel plan workbook               {t('export')}   "
        f"({f['workbook_bytes'] / 1000:.0f} kB, {f['workbook_cells']:,} cells)   openpyxl plain "
        f"sheet of as many cells {t('export_baseline', 1)}   ratio {r('export')}",
        f"  build the report {t('export_report', 1)}, write the workbook "
        f"{t('export_write', 1)}; `plan` also reads it back: {t('export_read_back', 1)}",
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
            last = runs[-1]
            print(f"run {i + 1}: results first {last['results_first'] * 1000:.0f} ms "
                  f"(CPU {last['results_first_cpu'] * 1000:.0f}), Excel "
                  f"{last['export'] * 1000:.0f} ms (CPU {last['export_cpu'] * 1000:.0f}), load "
                  f"{os.getloadavg()[0]:.1f}", file=sys.stderr)
    median = {k: (statistics.median(r[k] for r in runs) if isinstance(v, float) else v)
              for k, v in runs[0].items()}
    print("\n".join(report_lines(median, args.runs)))
    print(f"load average (1, 5, 15 min) at the end: "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
