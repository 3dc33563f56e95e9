"""Load test: participants join a workshop and answer, as real Streamlit sessions, no browser.

Each participant is one websocket session (bench/stclient.py) doing what a person does: open
the join link (/?join=CODE), type a name, press Join, then answer the questionnaire's radio
questions section by section with a think time between clicks, pressing Next between
sections. The app is started here as a user starts it (``streamlit run``) on a free loopback
port, against a fresh SQLite file or PostgreSQL database; ``--target floor`` runs the same load
against bench/floor_app.py (the thinnest app doing the same job), ``--target both`` runs both,
one after the other, and prints the ratio.

An answer is *acknowledged* when the script run its click started finished without an
exception element or an error alert, and the radio came back drawn as chosen (the page reads
the answers back from the database). At the end every acknowledged answer must be in the
database with the acknowledged value: the run exits 1 otherwise, or when it did not finish.

    .venv/bin/python bench/load_test.py                          # 50 participants, app, SQLite
    .venv/bin/python bench/load_test.py --participants 30 --think 0 --target both
    .venv/bin/python bench/load_test.py --database postgresql --participants 200

Bounded: only 127.0.0.1, a time limit for the whole run (--time-limit), every process it
starts is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import shutil
import socket
import string
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import floor_db  # noqa: E402
from stclient import ProtocolError, StreamlitClient  # noqa: E402

HOST = "127.0.0.1"
RADIO_TYPES = ("level", "likert")


@dataclass
class Config:
    participants: int = 50
    questionnaire: str = "commitment"
    think: float = 5.0
    jitter: float = 0.5
    ramp: float | None = None  # seconds over which participants arrive; None: 2 x think
    sections: int = 0  # 0: all
    target: str = "app"
    database: str = "sqlite"
    database_url: str = ""
    time_limit: float = 1800.0
    run_timeout: float = 120.0
    seed: int = 1
    quiet: bool = False
    streamlit_options: list = field(default_factory=list)  # e.g. ["runner.postScriptGC=false"]


@dataclass
class Outcome:
    """One target's figures."""

    target: str
    database: str
    participants: int
    joined: int = 0
    finished: int = 0
    answers_sent: int = 0
    answers_acknowledged: int = 0
    answers_stored: int = 0
    lost: int = 0  # acknowledged but missing or with another value in the database
    errors: dict = field(default_factory=dict)
    seconds: float = 0.0
    answers_per_second: float = 0.0
    save_p50_ms: float = 0.0
    save_p95_ms: float = 0.0
    save_max_ms: float = 0.0
    join_p50_ms: float = 0.0
    join_p95_ms: float = 0.0
    next_p50_ms: float = 0.0
    requests: int = 0
    server_cpu_s: float = 0.0
    server_cpu_ms_per_request: float = 0.0
    client_cpu_s: float = 0.0
    peak_rss_mb: float = 0.0
    completed: bool = False
    examples: list = field(default_factory=list)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


# ---------------------------------------------------------------- the server

def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def stop_process(process: subprocess.Popen | None) -> None:
    """Stop a server process: SIGTERM, and SIGKILL if it is still there after 20 s."""
    if process and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


class Server:
    """One Streamlit process (the app, or the floor), started as a user starts it."""

    def __init__(self, script: str, database_url: str, log: Path, env: dict | None = None,
                 options: list[str] | None = None):
        self.script, self.database_url, self.log = script, database_url, log
        self.port = free_port()
        self.env = env or {}
        self.options = [f"--{o}" for o in options or []]
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = {**os.environ, **self.env, "DATABASE_URL": self.database_url,
               "STREAMLIT_SERVER_PORT": str(self.port), "STREAMLIT_SERVER_ADDRESS": HOST,
               "STREAMLIT_SERVER_HEADLESS": "true",
               "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", self.script, *self.options], cwd=ROOT, env=env,
            stdout=self.log.open("a"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"http://{HOST}:{self.port}/_stcore/health",
                                            timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"{self.script} did not start: {self.log.read_text()[-2000:]}")

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the server process so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_mb(self) -> float:
        """The process's high-water mark of resident memory (VmHWM)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        stop_process(self.process)


# ---------------------------------------------------------------- the databases

class Databases:
    """A fresh database per target: SQLite files in a temporary folder, or PostgreSQL
    databases on a throwaway server (tests/pg.py) or on the server of --database-url."""

    def __init__(self, config: Config, folder: Path):
        self.config, self.folder = config, folder
        self.pg = None
        self.admin_url = ""

    def __enter__(self) -> Databases:
        if self.config.database == "postgresql" and not self.config.database_url:
            sys.path.insert(0, str(ROOT / "tests"))
            from pg import TempPostgres

            self.pg = TempPostgres()
            self.admin_url = self.pg.start()
        return self

    def url(self, target: str) -> str:
        if self.config.database_url:
            return self.config.database_url  # runs are kept apart by their workshop
        if self.config.database == "sqlite":
            return f"sqlite:///{self.folder / f'{target}.db'}"
        import sqlalchemy as sa

        name = f"load_{target}_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as db:
            db.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()  # the throwaway server goes as a whole at the end
        return self.admin_url.rsplit("/", 1)[0] + f"/{name}"

    def __exit__(self, *exc) -> None:
        if self.pg is not None:
            self.pg.stop()


# ---------------------------------------------------------------- the targets

class AppTarget:
    script = "app.py"
    name = "app"

    def __init__(self, url: str, questionnaire: str):
        from assessment.store import Store

        self.url, self.questionnaire = url, questionnaire
        store = Store(url)
        if hasattr(store, "create_schema"):
            store.create_schema()
        client = store.create_client("Load test client")
        workshop = store.create_workshop(client.id, "Load test", [questionnaire])
        self.workshop_id, self.code = workshop.id, workshop.code
        store.close()

    def stored(self) -> dict[tuple[str, str], str]:
        from assessment.store import Store

        store = Store(self.url)
        try:
            frame = store.answer_frame(self.workshop_id, self.questionnaire)
        finally:
            store.close()
        frame = frame[frame["option_id"].fillna("") == ""]
        return {(n, q): str(v) for n, q, v in zip(frame["name"], frame["question_id"],
                                                   frame["value"], strict=True)}


class FloorTarget:
    script = "bench/floor_app.py"
    name = "floor"

    def __init__(self, url: str, questionnaire: str):
        self.url = url
        self.code = "".join(random.SystemRandom().choice(string.ascii_uppercase + "23456789")
                            for _ in range(6))
        engine = floor_db.make_engine(url)
        floor_db.create_schema(engine, self.code)
        engine.dispose()

    def stored(self) -> dict[tuple[str, str], str]:
        engine = floor_db.make_engine(self.url)
        try:
            return floor_db.stored_answers(engine, self.code)
        finally:
            engine.dispose()


# ---------------------------------------------------------------- one participant

class Recorder:
    def __init__(self):
        self.save: list[float] = []
        self.join: list[float] = []
        self.next: list[float] = []
        self.acks: dict[tuple[str, str], str] = {}
        self.errors: dict[str, int] = {}
        self.examples: list[str] = []
        self.sent = 0
        self.joined = 0
        self.finished = 0
        self.requests = 0

    def error(self, kind: str, detail: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1
        if len(self.examples) < 10:
            self.examples.append(f"{kind}: {detail[:300]}")


def _think(rng: random.Random, config: Config) -> float:
    if config.think <= 0:
        return 0.0
    return rng.uniform(config.think * (1 - config.jitter), config.think * (1 + config.jitter))


def _run_problem(result) -> str:
    if result.exceptions:
        return "exception: " + "; ".join(result.exceptions)
    if result.errors:
        return "error alert: " + "; ".join(result.errors)
    return ""


async def participant(number: int, port: int, code: str, sections, config: Config,
                      rec: Recorder) -> None:
    """Join with the code and answer every radio question of the chosen sections."""
    rng = random.Random(config.seed * 100_003 + number)
    name = f"Load participant {number:03d}"
    ramp = 2 * config.think if config.ramp is None else config.ramp
    await asyncio.sleep(rng.uniform(0, ramp))
    client = StreamlitClient(HOST, port, timeout=config.run_timeout)
    try:
        await client.connect()
        result = await client.open("", f"join={code}")
        rec.requests += 1
        if problem := _run_problem(result):
            rec.error(problem.split(":")[0].replace(" ", "_"), f"{name} join page: {problem}")
            return
        await asyncio.sleep(_think(rng, config))
        await client.set_value("join_name", name)
        result = await client.click("Join")
        rec.requests += 1
        rec.join.append(result.seconds)
        first = f"{config.questionnaire}.{sections[0][1][0][0]}"
        if _run_problem(result) or "p=" not in client.query_string or not client.has_widget(first):
            rec.error("join_failed", f"{name}: {_run_problem(result) or client.texts()[:5]}")
            return
        rec.joined += 1
        for number_in_list, (_, questions) in enumerate(sections):
            for qid, values in questions:
                key = f"{config.questionnaire}.{qid}"
                if not client.has_widget(key):
                    rec.error("missing_widget", f"{name}: {key} not on the page")
                    continue
                await asyncio.sleep(_think(rng, config))
                index = rng.randrange(len(values))
                rec.sent += 1
                result = await client.choose(key, index)
                rec.requests += 1
                rec.save.append(result.seconds)
                if problem := _run_problem(result):
                    rec.error(problem.split(":")[0].replace(" ", "_"), f"{name} {qid}: {problem}")
                elif not client.has_widget(key) or client.radio_index(client.widget(key)) != index:
                    rec.error("read_back", f"{name} {qid}: chose {index}, page shows "
                              f"{client.radio_index(client.widget(key)) if client.has_widget(key) else None}")
                else:
                    rec.acks[(name, qid)] = values[index]
            if number_in_list + 1 < len(sections):
                await asyncio.sleep(_think(rng, config))
                result = await client.click("next")
                rec.requests += 1
                rec.next.append(result.seconds)
                following = f"{config.questionnaire}.{sections[number_in_list + 1][1][0][0]}"
                if problem := _run_problem(result) or (
                        "" if client.has_widget(following) else "the next section did not open"):
                    rec.error("next_failed", f"{name}: {problem}")
                    return
        rec.finished += 1
    except ProtocolError as e:
        kind = "timeout" if "script_finished" in str(e) else "disconnect"
        rec.error(kind, f"{name}: {e}")
    except (TimeoutError, OSError) as e:
        rec.error("disconnect", f"{name}: {type(e).__name__}: {e}")
    except KeyError as e:
        rec.error("missing_widget", f"{name}: {e}")
    finally:
        try:
            await client.close()
        except Exception:  # noqa: BLE001 - closing a broken socket must not hide the result
            pass


def radio_sections(questionnaire_id: str, limit: int) -> list[tuple[str, list]]:
    """The questionnaire's sections as (title, [(question id, [stored value per option])]):
    only radio questions (level and likert); the options' values are what the app stores."""
    from assessment.questionnaire import load_shipped

    q = load_shipped()[questionnaire_id]
    sections = []
    for page in q.pages():
        questions = []
        for qid in page.question_ids:
            question = q.question(qid)
            if question.type in RADIO_TYPES:
                values = [str(v) for v in range(q.scale.min, q.scale.max + 1)]
                questions.append((qid, values))  # "n/a" is left out: not every question has it
        if questions:
            sections.append((page.title, questions))
        if len(questions) != len(page.question_ids):
            break  # a section with other question types: stop before it
    return sections[:limit] if limit else sections


def _percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)  # nearest rank
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


async def _load(port: int, code: str, sections, config: Config, rec: Recorder) -> bool:
    tasks = [asyncio.create_task(participant(i + 1, port, code, sections, config, rec))
             for i in range(config.participants)]
    done, pending = await asyncio.wait(tasks, timeout=config.time_limit)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=30)
        rec.error("time_limit", f"{len(pending)} participants still running after "
                                f"{config.time_limit:.0f} s")
    return not pending


def run_target(kind: str, url: str, config: Config, folder: Path) -> Outcome:
    target = (AppTarget if kind == "app" else FloorTarget)(url, config.questionnaire)
    sections = radio_sections(config.questionnaire, config.sections)
    env = {"FLOOR_QUESTIONNAIRE": config.questionnaire,
           "MAX_PARTICIPANTS": str(max(200, config.participants))}
    log = folder / f"{kind}-server.log"
    server = Server(target.script, url, log, env, config.streamlit_options)
    outcome = Outcome(kind, config.database, config.participants)
    rec = Recorder()
    server.start()
    try:
        asyncio.run(_warm_up(server.port))  # the first run imports and caches: not counted
        cpu_before, client_before = server.cpu_seconds(), time.process_time()
        started = time.perf_counter()
        outcome.completed = asyncio.run(_load(server.port, target.code, sections, config, rec))
        outcome.seconds = time.perf_counter() - started
        outcome.server_cpu_s = server.cpu_seconds() - cpu_before
        outcome.client_cpu_s = time.process_time() - client_before
        outcome.peak_rss_mb = server.peak_rss_mb()
    finally:
        server.stop()
    server_log = log.read_text(errors="replace")
    locked = server_log.count("database is locked")
    if locked:
        rec.error("database_is_locked_in_log", f"{locked} lines in {log}")
    stored = target.stored()
    outcome.answers_stored = len(stored)
    lost = [(k, v, stored.get(k)) for k, v in rec.acks.items() if stored.get(k) != v]
    outcome.lost = len(lost)
    for k, v, got in lost[:5]:
        rec.examples.append(f"lost: {k} acknowledged {v!r}, stored {got!r}")
    outcome.joined, outcome.finished = rec.joined, rec.finished
    outcome.answers_sent, outcome.answers_acknowledged = rec.sent, len(rec.acks)
    outcome.errors, outcome.examples = dict(rec.errors), rec.examples
    outcome.requests = rec.requests
    outcome.answers_per_second = len(rec.acks) / outcome.seconds if outcome.seconds else 0.0
    outcome.save_p50_ms = 1000 * _percentile(rec.save, 50)
    outcome.save_p95_ms = 1000 * _percentile(rec.save, 95)
    outcome.save_max_ms = 1000 * max(rec.save, default=0.0)
    outcome.join_p50_ms = 1000 * _percentile(rec.join, 50)
    outcome.join_p95_ms = 1000 * _percentile(rec.join, 95)
    outcome.next_p50_ms = 1000 * _percentile(rec.next, 50)
    outcome.server_cpu_ms_per_request = (1000 * outcome.server_cpu_s / rec.requests
                                         if rec.requests else 0.0)
    return outcome


async def _warm_up(port: int) -> None:
    async with StreamlitClient(HOST, port) as client:
        await client.open("", "join=WARMUP")


# ---------------------------------------------------------------- report

ROWS = [
    ("participants (joined / finished)", lambda o: f"{o.participants} ({o.joined} / {o.finished})"),
    ("answers sent", lambda o: f"{o.answers_sent}"),
    ("answers acknowledged", lambda o: f"{o.answers_acknowledged}"),
    ("answers stored", lambda o: f"{o.answers_stored}"),
    ("acknowledged but lost", lambda o: f"{o.lost}"),
    ("errors", lambda o: f"{o.error_count}" + (f" {o.errors}" if o.errors else "")),
    ("duration", lambda o: f"{o.seconds:.1f} s"),
    ("answers per second", lambda o: f"{o.answers_per_second:.1f}"),
    ("save latency p50 / p95 / max", lambda o: f"{o.save_p50_ms:.0f} / {o.save_p95_ms:.0f} / "
                                               f"{o.save_max_ms:.0f} ms"),
    ("join p50 / p95, next p50", lambda o: f"{o.join_p50_ms:.0f} / {o.join_p95_ms:.0f}, "
                                           f"{o.next_p50_ms:.0f} ms"),
    ("server CPU (per request)", lambda o: f"{o.server_cpu_s:.1f} s "
                                           f"({o.server_cpu_ms_per_request:.1f} ms)"),
    ("load generator CPU", lambda o: f"{o.client_cpu_s:.1f} s"),
    ("server peak RSS (VmHWM)", lambda o: f"{o.peak_rss_mb:.0f} MB"),
]


def report(outcomes: list[Outcome], config: Config) -> str:
    names = [o.target for o in outcomes]
    width = max(len(label) for label, _ in ROWS)
    lines = [f"{config.participants} participants, {config.questionnaire}, think "
             f"{config.think:g} s ±{config.jitter:.0%}, {config.database}"
             + "".join(f", --{o}" for o in config.streamlit_options),
             f"{'':{width}}  " + "  ".join(f"{n:>28}" for n in names)]
    for label, cell in ROWS:
        lines.append(f"{label:{width}}  " + "  ".join(f"{cell(o):>28}" for o in outcomes))
    if len(outcomes) == 2 and all(o.answers_per_second for o in outcomes):
        app, floor = outcomes
        lines.append(
            f"app / floor: answers per second {app.answers_per_second / floor.answers_per_second:.2f}, "
            f"save p50 {app.save_p50_ms / max(floor.save_p50_ms, 1e-9):.2f}, "
            f"server CPU per request "
            f"{app.server_cpu_ms_per_request / max(floor.server_cpu_ms_per_request, 1e-9):.2f}, "
            f"peak RSS {app.peak_rss_mb / max(floor.peak_rss_mb, 1e-9):.2f}")
    for o in outcomes:
        for example in o.examples:
            lines.append(f"  {o.target}: {example}")
    return "\n".join(lines)


def run(config: Config) -> list[Outcome]:
    """Run the load against the chosen target(s); returns one Outcome per target."""
    folder = Path(tempfile.mkdtemp(prefix="loadtest-"))
    outcomes = []
    try:
        with Databases(config, folder) as databases:
            for kind in (["app", "floor"] if config.target == "both" else [config.target]):
                outcomes.append(run_target(kind, databases.url(kind), config, folder))
                if not config.quiet:
                    print(f"{kind}: done in {outcomes[-1].seconds:.1f} s", file=sys.stderr)
    finally:
        if not any(o.error_count or o.lost for o in outcomes):
            shutil.rmtree(folder, ignore_errors=True)
        elif not config.quiet:
            print(f"server logs kept in {folder}", file=sys.stderr)
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=50)
    parser.add_argument("--questionnaire", default="commitment")
    parser.add_argument("--think", type=float, default=5.0,
                        help="seconds between a participant's clicks (0: saturation)")
    parser.add_argument("--jitter", type=float, default=0.5, help="think time ± this fraction")
    parser.add_argument("--ramp", type=float, default=None,
                        help="arrivals spread over this many seconds (default 2 x think)")
    parser.add_argument("--sections", type=int, default=0, help="answer only the first N sections")
    parser.add_argument("--target", choices=["app", "floor", "both"], default="app")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--database-url", default="",
                        help="use this database instead of a throwaway one")
    parser.add_argument("--time-limit", type=float, default=1800.0, help="seconds, whole load")
    parser.add_argument("--run-timeout", type=float, default=120.0,
                        help="seconds one click may take before it counts as a timeout")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--streamlit-option", action="append", default=[], metavar="NAME=VALUE",
                        help="passed to `streamlit run` as --NAME=VALUE, for both targets "
                             "(e.g. runner.postScriptGC=false)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.database_url.startswith("postgresql"):
        args.database = "postgresql"
    config = Config(args.participants, args.questionnaire, args.think, args.jitter, args.ramp,
                    args.sections, args.target, args.database, args.database_url,
                    args.time_limit, args.run_timeout, args.seed,
                    streamlit_options=args.streamlit_option)
    outcomes = run(config)
    print(report(outcomes, config))
    if args.json:
        args.json.write_text(json.dumps({
            "date": datetime.now(UTC).isoformat(timespec="seconds"), "config": asdict(config),
            "outcomes": [asdict(o) | {"error_count": o.error_count} for o in outcomes]},
            indent=2))
    failed = any(o.lost or not o.completed or o.answers_acknowledged < 1 for o in outcomes)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
