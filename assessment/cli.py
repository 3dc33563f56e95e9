"""The command line: validate questionnaires, write answer templates, score responses."""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import tempfile
from pathlib import Path

import pandas as pd

from .actions import build_actions, is_action_library
from .benchmarks import (
    BenchmarkError,
    build_benchmark,
    check_comparable,
    compare,
    find_benchmark,
    is_benchmark_file,
)
from .errors import StoreError
from .model import Questionnaire
from .questionnaire import build_questionnaire, find_questionnaire, load_questionnaire, load_shipped
from .responses import INPUT_COLUMNS, REFERENCE_COLUMNS, ResponsesError, load_answers
from .scoring import allocation_summary, score
from .yamlsafe import DataFileError, read_yaml

DECIMALS = 6


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m assessment",
        description="Customer-centricity maturity assessment: validate questionnaires, "
                    "write answer templates and score responses without the app.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser("validate", help="check questionnaire, benchmark and action files",
                            description="Check questionnaire, benchmark and action library "
                                        "files. Exit 0 when all are valid; else exit 1 with one "
                                        "line per problem: PATH:LINE: message.")
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="questionnaire, benchmark or action library YAML files")
    p.set_defaults(run=cmd_validate)

    p = commands.add_parser("template", help="write a CSV of answers to fill in",
                            description="Write a long-format CSV to fill in: one row per "
                                        "question, one per option for allocation and ranking.")
    p.add_argument("questionnaire", metavar="QUESTIONNAIRE", help="a path or a shipped id")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output")
    p.set_defaults(run=cmd_template)

    p = commands.add_parser("score", help="score responses per dimension",
                            description="Score a CSV or XLSX of responses in the template's "
                                        "long format. Writes a CSV with -o, else prints a table.")
    p.add_argument("questionnaire", metavar="QUESTIONNAIRE", help="a path or a shipped id")
    p.add_argument("responses", metavar="RESPONSES", help="CSV or XLSX in the long format")
    p.add_argument("-o", "--output", metavar="FILE", help="write the scores as CSV here")
    p.add_argument("--benchmark", metavar="ID_OR_PATH",
                   help="add benchmark_percentile, benchmark_median and benchmark_p75 columns")
    p.set_defaults(run=cmd_score)

    p = commands.add_parser("plan", help="a prioritised action plan as Excel and/or PDF",
                            description="Score responses, rank the action library's actions "
                                        "against the gaps and write the Excel action plan "
                                        "(--xlsx), the PDF report (--pdf), or both.")
    p.add_argument("questionnaire", metavar="QUESTIONNAIRE", help="a path or a shipped id")
    p.add_argument("responses", metavar="RESPONSES", help="CSV or XLSX in the long format")
    p.add_argument("--xlsx", metavar="OUT", help="the workbook to write")
    p.add_argument("--pdf", metavar="OUT", help="the PDF report (1-3 A4 pages) to write")
    p.add_argument("--benchmark", metavar="ID_OR_PATH",
                   help="targets at the benchmark's top quartile, and its figures in the plan")
    p.add_argument("--assessment", metavar="NAME",
                   help="which assessment of the file (needed when it holds several)")
    p.add_argument("--client", default="", help="the client's name for the Summary sheet")
    p.set_defaults(run=cmd_plan)

    p = commands.add_parser("reliability", help="Cronbach's alpha per dimension of the responses",
                            description="Internal consistency per dimension over every "
                                        "respondent of the file: Cronbach's alpha (pairwise, or "
                                        "--listwise), alpha if an item is deleted and the "
                                        "corrected item-total correlation. Refuses bad "
                                        "responses as score does.")
    p.add_argument("questionnaire", metavar="QUESTIONNAIRE", help="a path or a shipped id")
    p.add_argument("responses", metavar="RESPONSES", help="CSV or XLSX in the long format")
    p.add_argument("-o", "--output", metavar="OUT.csv", help="write the table as CSV here")
    p.add_argument("--listwise", action="store_true",
                   help="only respondents who answered every item of a dimension (default: "
                        "pairwise, each covariance from those who answered both items)")
    p.set_defaults(run=cmd_reliability)

    p = commands.add_parser("benchmark", help="build a benchmark from your own assessments",
                            description="Benchmarks from the completed workshops in the store "
                                        "(DATABASE_URL).")
    bench = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    b = bench.add_parser("build", help="a score distribution over matching clients",
                         description="Build a score distribution from the latest completed "
                                     "workshop of each client matching the filters. Fewer than "
                                     "5 organisations: refused, nothing written.")
    b.add_argument("questionnaire", metavar="QUESTIONNAIRE", help="a path or a shipped id")
    b.add_argument("--sector", default="", help="only clients of this sector")
    b.add_argument("--size-band", default="", help="only clients of this size band")
    b.add_argument("--region", default="", help="only clients of this region")
    b.add_argument("--title", default="", help="the benchmark's title")
    b.add_argument("--id", default="", help="the benchmark's id")
    b.add_argument("-o", "--output", metavar="FILE", required=True, help="the YAML file to write")
    b.set_defaults(run=cmd_benchmark_build)

    p = commands.add_parser("demo", help="create the demo client on an empty database",
                            description="Create the schema and, on an empty database only, a "
                                        "clearly labelled demo client with a finished workshop. "
                                        "Uses DATABASE_URL, else data/assessment.db.")
    p.set_defaults(run=cmd_demo)

    p = commands.add_parser("db", help="the database's schema revision",
                            description="Schema migrations of the database at DATABASE_URL (else "
                                        "data/assessment.db). The app upgrades at start too.")
    db = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    d = db.add_parser("upgrade", help="bring the database to the latest revision, keeping data")
    d.set_defaults(run=cmd_db_upgrade)
    d = db.add_parser("current", help="print the database's revision and the latest one")
    d.set_defaults(run=cmd_db_current)

    p = commands.add_parser("user", help="consultants' accounts",
                            description="Accounts of the consultants who sign in to the app "
                                        "(DATABASE_URL, else data/assessment.db). Passwords are "
                                        "read from standard input when it is not a terminal, "
                                        "else asked twice without echo.")
    u = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    a = u.add_parser("add", help="a new account (--admin: every client, manages users)")
    a.add_argument("username", metavar="USERNAME")
    a.add_argument("--admin", action="store_true", help="an admin: sees every client")
    a.set_defaults(run=cmd_user_add)
    a = u.add_parser("list", help="every account, its role and whether it is disabled")
    a.set_defaults(run=cmd_user_list)
    a = u.add_parser("passwd", help="set a new password (ends the user's sessions)")
    a.add_argument("username", metavar="USERNAME")
    a.set_defaults(run=cmd_user_passwd)
    a = u.add_parser("disable", help="refuse the account's sign-ins (ends its sessions)")
    a.add_argument("username", metavar="USERNAME")
    a.set_defaults(run=cmd_user_disable, disabled=True)
    a = u.add_parser("enable", help="allow a disabled account to sign in again")
    a.add_argument("username", metavar="USERNAME")
    a.set_defaults(run=cmd_user_disable, disabled=False)
    a = u.add_parser("init", help="on a database without accounts: an admin 'admin' with a "
                                  "random password, printed once")
    a.set_defaults(run=cmd_user_init)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (DataFileError, ResponsesError, BenchmarkError, StoreError) as e:
        print(e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # the last guard: a user never sees a traceback
        print(f"error: {type(e).__name__}: {e}", file=sys.stderr)
        return 2


def _questionnaire(name: str) -> Questionnaire:
    return load_questionnaire(find_questionnaire(name), shown=name)


def cmd_validate(args) -> int:
    problems = []
    ids: dict[str, str] = {}
    raws, benchmarks = {}, []
    for path in args.paths:
        try:
            raws[path] = read_yaml(path)
        except DataFileError as e:
            problems.extend(e.problems)
    try:
        questionnaires = load_shipped()
    except DataFileError:
        questionnaires = {}  # shipped files are checked by their own tests; cross-check the rest
    libraries = []
    for path, raw in raws.items():
        if is_benchmark_file(raw):
            benchmarks.append((path, raw))
            continue
        if is_action_library(raw):
            libraries.append((path, raw))
            continue
        try:
            q = build_questionnaire(raw, path, Path(path))
        except DataFileError as e:
            problems.extend(e.problems)
            continue
        if q.id in ids:
            problems.append(f"{path}:1: questionnaire id {q.id!r} is also used by {ids[q.id]}")
        ids.setdefault(q.id, path)
        questionnaires[q.id] = q
    dimensions = {d.id for q in questionnaires.values() for d in q.dimensions}
    for path, raw in libraries:
        try:
            build_actions(raw, path, dimensions or None, Path(path))
        except DataFileError as e:
            problems.extend(e.problems)
    for path, raw in benchmarks:
        try:
            b = build_benchmark(raw, path, Path(path), questionnaires)
        except DataFileError as e:
            problems.extend(e.problems)
            continue
        if b.kind == "scores" and b.questionnaire not in questionnaires:
            problems.append(f"{path}:1: questionnaire {b.questionnaire!r} is not shipped; "
                            f"validate it alongside to cross-check the dimensions")
        if b.id in ids:
            problems.append(f"{path}:1: id {b.id!r} is also used by {ids[b.id]}")
        ids.setdefault(b.id, path)
    for p in problems:
        print(p)
    if not problems:
        print(f"{len(args.paths)} file(s) valid", file=sys.stderr)
    return 1 if problems else 0


def template_frame(q: Questionnaire) -> pd.DataFrame:
    """One row per question to fill in (per option for allocation and ranking)."""
    rows = []
    for question in q.questions:
        base = {c: "" for c in INPUT_COLUMNS}
        base.update(question=question.id, dimension=question.dimension or "",
                    type=question.type, reverse="true" if question.reverse else "false",
                    weight=f"{question.weight:g}")
        if question.scored:
            rows.append({**base, "min": q.scale.min, "max": q.scale.max})
        elif question.type in ("allocation", "ranking"):
            top = question.total if question.type == "allocation" else len(question.options)
            low = 0 if question.type == "allocation" else 1
            rows.extend({**base, "option": o.id, "min": low, "max": top}
                        for o in question.options)
        else:
            rows.append({**base, "min": "", "max": ""})
    return pd.DataFrame(rows, columns=[*INPUT_COLUMNS, *REFERENCE_COLUMNS])


def cmd_template(args) -> int:
    frame = template_frame(_questionnaire(args.questionnaire))
    if args.output:
        _write_atomically(args.output, frame.to_csv(index=False))
    else:
        frame.to_csv(sys.stdout, index=False)
    return 0


def cmd_score(args) -> int:
    q = _questionnaire(args.questionnaire)
    benchmark = find_benchmark(args.benchmark, {q.id: q}) if args.benchmark else None
    if benchmark is not None:
        check_comparable(benchmark, q)  # refuse before reading a large file
    answers = load_answers(args.responses, q)
    table = score(answers, q)
    if benchmark is not None:
        compared = compare(table, benchmark, q)
        for column in ("benchmark_percentile", "benchmark_median", "benchmark_p75"):
            table[column] = compared[column]
        print(f"benchmark: {benchmark.provenance.line()}", file=sys.stderr)
    if args.output:
        _write_atomically(args.output, scores_csv(table))
        print(f"wrote {len(table)} rows to {args.output}", file=sys.stderr)
        return 0
    shown = table.copy()
    names = {d.id: d.name for d in q.dimensions}
    shown.insert(2, "name", shown["dimension"].map(names).fillna("Overall"))
    print(f"{q.title} (version {q.version})")
    print(shown.to_string(index=False, float_format=lambda v: f"{v:.4f}", na_rep=""))
    alloc = allocation_summary(answers, q)
    if not alloc.empty:
        print("\nMean points per option")
        print(alloc.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    return 0


def scores_csv(table: pd.DataFrame) -> str:
    """The scores as CSV text: what table.to_csv(index=False, float_format="%.6f") writes
    (blank for a missing value, the same csv writer), with the numbers formatted column by
    column in plain Python, which takes half the time for the many rows of a large file."""
    columns = []
    for name in table.columns:
        values = table[name].to_numpy(dtype=object)
        if pd.api.types.is_float_dtype(table[name].dtype):
            columns.append(["" if v != v else f"%.{DECIMALS}f" % v for v in values])
        else:
            columns.append(["" if v is None or v != v else v for v in values])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.columns)
    writer.writerows(zip(*columns, strict=True))
    return out.getvalue()


def cmd_plan(args) -> int:
    from .actions import load_actions
    from .export import WorkbookError, save_workbook
    from .pdf_report import PdfError, output_problem, pdf_bytes, write_pdf
    from .report import build_report, score_file

    if not (args.xlsx or args.pdf):
        print("plan: say what to write: --xlsx OUT, --pdf OUT or both", file=sys.stderr)
        return 2
    problems = [p for p in map(output_problem, filter(None, (args.xlsx, args.pdf))) if p]
    if problems:  # before any work, and before either file is written
        print("; ".join(problems), file=sys.stderr)
        return 1
    q = _questionnaire(args.questionnaire)
    benchmark = find_benchmark(args.benchmark, {q.id: q}) if args.benchmark else None
    if benchmark is not None:
        check_comparable(benchmark, q)
    answers = load_answers(args.responses, q)
    present = list(dict.fromkeys(answers["assessment"].astype(str)))
    if args.assessment is None and len(present) > 1:
        print(f"{args.responses} holds {len(present)} assessments: {', '.join(present)}; "
              f"choose one with --assessment NAME", file=sys.stderr)
        return 1
    name = args.assessment or present[0]
    if name not in present:
        print(f"no assessment {name!r} in {args.responses}; it holds: {', '.join(present)}",
              file=sys.stderr)
        return 1
    answers = answers[answers["assessment"].astype(str) == name].reset_index(drop=True)
    library = load_actions(dimensions={d.id for d in q.dimensions} | _all_dimensions())
    report, plan = build_report(
        [score_file(answers, q)], library, reference=f"file {Path(args.responses).name}, "
        f"assessment {name}, questionnaire {q.id} {q.version}", client=args.client or name,
        title=f"{q.title}: {name}", benchmarks={q.id: benchmark} if benchmark else {})
    try:
        # The PDF is made first and written last: a failure on the way leaves neither file.
        pdf = pdf_bytes(report, {q.id: q}) if args.pdf else None
        if args.xlsx:
            save_workbook(report, args.xlsx)  # read back before it takes the target's place
        if pdf is not None:
            write_pdf(pdf, args.pdf)
    except (WorkbookError, PdfError) as e:
        print(e, file=sys.stderr)
        return 1
    written = " and ".join(p for p in (args.xlsx, args.pdf) if p)
    print(f"wrote {written}: {len(plan)} actions for {name}", file=sys.stderr)
    return 0


def _all_dimensions() -> set[str]:
    try:
        return {d.id for q in load_shipped().values() for d in q.dimensions}
    except DataFileError:
        return set()


def cmd_reliability(args) -> int:
    from .reliability import COLUMNS, MIN_RESPONDENTS, THRESHOLDS, reliability

    q = _questionnaire(args.questionnaire)
    answers = load_answers(args.responses, q)  # refused exactly as score refuses it
    result = reliability(answers, q, listwise=args.listwise)
    table = result.table.loc[:, list(COLUMNS)]
    print(f"{result.respondents} respondent(s); "
          f"{'listwise' if args.listwise else 'pairwise'}; {THRESHOLDS}", file=sys.stderr)
    for note in result.notes:
        print(note, file=sys.stderr)
    if args.output:
        _write_atomically(args.output, scores_csv(table))
        print(f"wrote {len(table)} rows to {args.output}", file=sys.stderr)
        return 0
    shown = result.table.loc[:, [*COLUMNS, "verdict", "flagged"]].copy()
    shown["flagged"] = shown["flagged"].map({True: "yes", False: ""})
    print(f"{q.title} (version {q.version}): internal consistency, at least "
          f"{MIN_RESPONDENTS} respondents per dimension")
    print(shown.to_string(index=False, float_format=lambda v: f"{v:.3f}", na_rep=""))
    return 0


def cmd_benchmark_build(args) -> int:
    from .benchmarks import to_yaml
    from .portfolio import build_benchmark as build_from_store
    from .store import Store

    q = _questionnaire(args.questionnaire)
    store = Store()
    try:
        store.create_schema()
        benchmark = build_from_store(store, q, args.sector, args.size_band, args.region,
                                     args.title, args.id)
    finally:
        store.close()
    _write_atomically(args.output, to_yaml(benchmark))
    print(f"wrote {args.output}: {benchmark.provenance.line()}", file=sys.stderr)
    return 0


def cmd_demo(args) -> int:
    from .demo import ensure_demo
    from .questionnaire import load_shipped
    from .store import Store

    store = Store()
    try:
        workshop = ensure_demo(store, load_shipped())
    finally:
        store.close()
    if workshop is None:
        print("the database already holds data; no demo added", file=sys.stderr)
    else:
        print(f"demo workshop created (join code {workshop.code}); every consultant who signs in "
              "sees it", file=sys.stderr)
    return 0


def cmd_db_upgrade(args) -> int:
    from .store import Store

    store = Store()
    try:
        before, after = store.migrate()
    finally:
        store.close()
    print(f"database at revision {after}" + (f" (was {before or 'empty'})" if before != after else
                                             " (already the latest)"))
    return 0


def cmd_db_current(args) -> int:
    from .store import Store
    from .store.engine import head_revision

    store = Store()
    try:
        current = store.revision()
    finally:
        store.close()
    head = head_revision()
    print(f"{current or 'empty'} (latest {head})")
    return 0


def _user_store():
    from .store import Store

    store = Store()
    store.create_schema()
    return store


def _read_password(prompt: str = "Password") -> str:
    """A password: one line of standard input when it is not a terminal, else typed twice."""
    if not sys.stdin.isatty():
        try:
            password = sys.stdin.buffer.readline().decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            raise StoreError("the password on standard input is not UTF-8 text") from None
        if not password:
            raise StoreError("no password on standard input")
        return password
    import getpass

    try:
        first = getpass.getpass(f"{prompt}: ")
        if getpass.getpass(f"{prompt} again: ") != first:
            raise StoreError("the two passwords differ; nothing changed")
    except EOFError:
        raise StoreError("no password given; nothing changed") from None
    return first


def cmd_user_add(args) -> int:
    from .store.accounts import check_new_password

    password = check_new_password(_read_password())
    store = _user_store()
    try:
        user = store.add_user(args.username, password, admin=args.admin)
    finally:
        store.close()
    print(f"added {'admin' if user.is_admin else 'consultant'} {user.username!r}",
          file=sys.stderr)
    return 0


def cmd_user_list(args) -> int:
    store = _user_store()
    try:
        everyone = store.users()
    finally:
        store.close()
    if not everyone:
        print("no accounts yet: python -m assessment user add USERNAME --admin", file=sys.stderr)
        return 0
    width = max(len(u.username) for u in everyone)
    for u in everyone:
        role = "admin" if u.is_admin else "consultant"
        print(f"{u.username:<{width}}  {role:<10}  {'disabled' if u.disabled else 'enabled'}")
    return 0


def cmd_user_passwd(args) -> int:
    from .store.accounts import check_new_password

    store = _user_store()
    try:
        user = store.user(args.username)  # before asking: a typo should not cost a password
        store.set_password(user.username, check_new_password(_read_password("New password")))
    finally:
        store.close()
    print(f"password of {user.username!r} changed; its sessions have ended", file=sys.stderr)
    return 0


def cmd_user_disable(args) -> int:
    store = _user_store()
    try:
        user = store.user(args.username)
        store.set_disabled(user.username, args.disabled)
    finally:
        store.close()
    print(f"{user.username!r} " + ("disabled; its sessions have ended" if args.disabled
                                   else "enabled"), file=sys.stderr)
    return 0


def cmd_user_init(args) -> int:
    store = _user_store()
    try:
        made = store.init_admin()
    finally:
        store.close()
    if made is None:
        return 0  # accounts exist: nothing to say on every start
    user, password = made
    print(f"\nFirst start: created the admin account {user.username!r} with the password\n\n"
          f"    {password}\n\n"
          f"It is shown only this once. Sign in with it, then change it on the Account page "
          f"(or: python -m assessment user passwd {user.username}).\n")
    return 0


def _write_atomically(path: str, text: str) -> None:
    """Write the whole file or nothing: a half-written output is worse than none."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent if str(target.parent) else ".",
                               prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
