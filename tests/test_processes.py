"""Real app processes, as a user starts them, driven through Streamlit's own websocket protocol.

- two processes on one PostgreSQL database: a participant answers on one, the facilitator's
  live progress board on the other shows it;
- crash safety: the process is killed (SIGKILL) while participants answer; after a restart on
  the same database every acknowledged answer is there, and each participant's personal link
  brings back their answers;
- nginx in front of two processes, with deploy/nginx-assessment.conf as shipped: sticky
  sessions, the websocket, the health endpoint, the client's address, and a process dying.

The browser is bench/stclient.py (one StreamlitClient is one browser tab). An answer is
*acknowledged* when the script run that its change started finished without an exception
element and without an error alert. Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))

import websockets  # noqa: E402
from load_test import stop_process  # noqa: E402
from stclient import ProtocolError, StreamlitClient  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402

pytestmark = pytest.mark.e2e

HOST = "127.0.0.1"
QUESTIONNAIRE = "commitment"
NGINX_CONF = ROOT / "deploy" / "nginx-assessment.conf"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def http_get(url: str, headers: dict | None = None, timeout: float = 5, data: bytes | None = None,
             method: str = "GET") -> tuple[int, dict, str]:
    request = urllib.request.Request(url, headers=headers or {}, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode(errors="replace")


def wait_until(check, seconds: float, what: str, every: float = 0.1):
    """Poll `check` until it returns something true; fail after `seconds`, saying `what`."""
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")
        time.sleep(every)


# ---------------------------------------------------------------- the app's processes

class App:
    """One process of the app: `python -m streamlit run app.py`, settings from the environment."""

    def __init__(self, database_url: str, log: Path, port: int | None = None):
        self.database_url, self.log = database_url, log
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def launch(self) -> None:
        env = {**os.environ, "DATABASE_URL": self.database_url,
               "STREAMLIT_SERVER_PORT": str(self.port), "STREAMLIT_SERVER_ADDRESS": HOST}
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", "app.py"], cwd=ROOT, env=env,
                stdout=log, stderr=subprocess.STDOUT)

    def _healthy(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"the app exited ({self.process.returncode}): "
                               f"{self.log.read_text()[-2000:]}")
        try:
            return http_get(f"{self.url}/_stcore/health", timeout=2)[0] == 200
        except OSError:
            return False

    def wait_ready(self, seconds: float = 60) -> None:
        wait_until(self._healthy, seconds, f"the app on port {self.port} to answer /_stcore/health",
                   every=0.2)

    def start(self) -> App:
        self.launch()
        self.wait_ready()
        return self

    def kill(self) -> int:
        """SIGKILL: no shutdown code runs, as in a crash or an out-of-memory kill."""
        self.process.send_signal(signal.SIGKILL)
        return self.process.wait(timeout=20)

    def stop(self) -> None:
        stop_process(self.process)


@contextmanager
def running(*apps: App):
    """Start the processes together (as a service manager would) and stop them all at the end."""
    try:
        for app in apps:
            app.launch()
        for app in apps:
            app.wait_ready()
        yield apps
    finally:
        for app in apps:
            app.stop()


FACILITATOR = "facilitator"  # the consultant who runs the workshops of these tests


def new_workshop(url: str, questionnaires=(QUESTIONNAIRE,)) -> tuple[int, str]:
    """A client and a workshop made with the store, the client given to the consultant
    FACILITATOR (made if needed, with conftest's PASSWORD); (workshop id, join code)."""
    from conftest import add_consultant

    from assessment.store import Store, StoreError

    store = Store(url)
    try:
        store.create_schema()
        try:
            user = store.user(FACILITATOR)
        except StoreError:
            user = add_consultant(store, FACILITATOR)
        client = store.create_client_for(user, "Process Test Ltd")
        workshop = store.create_workshop_for(user, client.id, "Process test",
                                             list(questionnaires))
    finally:
        store.close()
    return workshop.id, workshop.code


def stored_answers(url: str, workshop_id: int) -> dict[tuple[str, str], str]:
    """(participant name, question) -> stored value, for the questions without options."""
    from assessment.store import Store

    store = Store(url)
    try:
        frame = store.answer_frame(workshop_id, QUESTIONNAIRE)
    finally:
        store.close()
    frame = frame[frame["option_id"].fillna("") == ""]
    return {(n, q): str(v) for n, q, v in zip(frame["name"], frame["question_id"], frame["value"],
                                               strict=True)}


def first_section() -> list[str]:
    """The radio questions (level, likert) of the questionnaire's first section."""
    from assessment.questionnaire import load_shipped

    q = load_shipped()[QUESTIONNAIRE]
    page = next(iter(q.pages()))
    return [x for x in page.question_ids if q.question(x).type in ("level", "likert")]


# ---------------------------------------------------------------- the browser tab

class _Tap:
    """The websocket, with the server's requests for fragment auto-reruns noted on the way."""

    def __init__(self, ws, auto_reruns: dict):
        self._ws, self._auto_reruns = ws, auto_reruns

    async def recv(self):
        data = await self._ws.recv()
        msg = ForwardMsg()
        msg.ParseFromString(data)
        if msg.WhichOneof("type") == "auto_rerun":
            self._auto_reruns[msg.auto_rerun.fragment_id] = msg.auto_rerun.interval
        return data

    def __getattr__(self, name):
        return getattr(self._ws, name)


class Tab(StreamlitClient):
    """A StreamlitClient that can send headers (a cookie, a forged X-Forwarded-For), notes the
    fragments the server asks to rerun on a timer, and knows this app's forms."""

    def __init__(self, port: int, headers: dict | None = None, timeout: float = 30.0):
        super().__init__(HOST, port, timeout=timeout)
        self.headers = headers or {}
        self.auto_reruns: dict[str, float] = {}

    async def connect(self) -> None:
        ws = await websockets.connect(
            f"ws://{self.host}:{self.port}/_stcore/stream", subprotocols=["streamlit"],
            origin=f"http://{self.host}:{self.port}", additional_headers=self.headers,
            max_size=None, open_timeout=self.timeout, ping_interval=20,
            ping_timeout=self.timeout, compression=None)
        self.ws = _Tap(ws, self.auto_reruns)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws._ws.close()
            self.ws = None

    @property
    def token(self) -> str:
        return urllib.parse.parse_qs(self.query_string).get("p", [""])[0]

    async def join(self, code: str, name: str, role: int = 0) -> str:
        """Open the join link, fill in the form, press Join; the personal token."""
        result = await self.open("", f"join={code}")
        assert result.ok and not result.errors, result
        await self.set_value("join_name", name)
        await self.choose("join_role", role)
        result = await self.click("Join")
        assert result.ok and not result.errors, (result, self.texts())
        assert self.token, f"no personal token after joining: {self.query_string!r}"
        return self.token

    async def sign_in(self, workshop_id: int) -> None:
        """Sign in as FACILITATOR on the sign-in page, then open the workshop's Facilitator
        page by its address (the page checks the id against the consultant's clients)."""
        from conftest import PASSWORD

        result = await self.open("account", "")
        assert result.ok, result
        await self.set_value("signin_username", FACILITATOR)
        await self.set_value("signin_password", PASSWORD)
        result = await self.click("Sign in")
        assert result.ok and not result.errors, (result, self.texts())
        result = await self.open("facilitator", f"workshop={workshop_id}")
        assert result.ok and not result.errors, (result, self.texts())
        assert "Progress" in self.texts(), self.texts()

    def personal_link(self) -> tuple[str, str]:
        """The personal link the page shows (its path and query), to open as a new tab would."""
        for element in self.elements.values():
            if element.kind == "code" and "p=" in element.proto.code_text:
                link = urllib.parse.urlsplit(element.proto.code_text.strip())
                return link.path, link.query
        raise AssertionError(f"no personal link on the page: {self.texts()[:8]}")

    def metric(self, label: str) -> str | None:
        for element in self.elements.values():
            if element.kind == "metric" and element.proto.label == label:
                return element.proto.body
        return None

    def tables(self) -> list:
        """Every st.dataframe on the page, as pandas frames (from the Arrow bytes sent)."""
        import pyarrow as pa

        return [pa.ipc.open_stream(e.proto.arrow_data.data).read_all().to_pandas()
                for _, e in sorted(self.elements.items()) if e.kind == "dataframe"]

    def chosen(self, key: str) -> int | None:
        return self.radio_index(self.widget(key))


def acknowledged(result) -> bool:
    return result.ok and not result.errors and result.status >= 0


# ---------------------------------------------------------------- two processes, one database

@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_processes_share_one_postgresql_database(database_url, tmp_path):
    """A participant answers on process A; the facilitator's progress board on B shows it."""
    a = App(database_url, tmp_path / "a.log")
    b = App(database_url, tmp_path / "b.log")
    with running(a, b):
        found = asyncio.run(asyncio.wait_for(_two_processes(database_url, a, b), 90))
    assert found["before"] == "Nobody has joined yet. Share the code or the link above."
    assert found["interval"] == 3.0
    assert found["complete"] == "0 of 1"
    row = found["row"]
    assert row["participant"] == "Ann Two-Process" and row["role"] == "Manager"
    assert row["Leadership commitment"] == found["expected_percent"] > 0


async def _two_processes(url: str, a: App, b: App) -> dict:
    # The database is empty: the first page each process runs migrates it, one at a time.
    async with Tab(a.port) as tab_a, Tab(b.port) as tab_b:
        first = await asyncio.gather(tab_a.open(), tab_b.open())
    assert all(r.ok for r in first), first
    workshop_id, code = new_workshop(url)  # create_schema: already at the latest revision

    found: dict = {}
    async with Tab(b.port) as facilitator:
        await facilitator.sign_in(workshop_id)
        board = [e for e in facilitator.elements.values() if e.fragment_id]
        assert board, "the progress board is not a fragment"
        fragment = board[0].fragment_id
        found["before"] = next(e.text for e in board if e.kind == "alert")
        found["interval"] = facilitator.auto_reruns.get(fragment)

        async with Tab(a.port) as participant:
            await participant.join(code, "Ann Two-Process", role=1)
            answered = first_section()[:3]
            for i, qid in enumerate(answered):
                result = await participant.choose(f"{QUESTIONNAIRE}.{qid}", i + 1)
                assert acknowledged(result), result
                assert participant.chosen(f"{QUESTIONNAIRE}.{qid}") == i + 1

        from assessment.questionnaire import load_shipped

        total = len(load_shipped()[QUESTIONNAIRE].questions)
        found["expected_percent"] = round(100 * len(answered) / total)
        # What the browser does every `interval` seconds: rerun the board's fragment alone.
        deadline = time.monotonic() + 30
        while True:
            await asyncio.sleep(found["interval"] or 3)
            result = await facilitator.rerun(fragment_id=fragment)
            assert result.ok, result
            tables = facilitator.tables()
            if tables and len(tables[-1]):
                break
            assert time.monotonic() < deadline, f"B's board never showed: {facilitator.texts()}"
        found["complete"] = facilitator.metric("Participants complete")
        found["row"] = tables[-1].iloc[0].to_dict()
    return found


# ---------------------------------------------------------------- crash safety

PEOPLE = 5
KILL_AFTER = 10  # acknowledged answers before the kill


def test_answers_survive_a_killed_process(database_url, tmp_path):
    """SIGKILL while five participants answer; restart; nothing acknowledged is lost."""
    workshop_id, code = new_workshop(database_url)
    app = App(database_url, tmp_path / "app.log").start()
    try:
        outcome = asyncio.run(asyncio.wait_for(_answer_until_killed(app, code), 90))
        assert outcome["returncode"] == -signal.SIGKILL
        acks = outcome["acks"]
        assert len(acks) >= KILL_AFTER
        # The kill landed in the middle of answering: other tabs were waiting for their run.
        assert outcome["interrupted"] >= 1, outcome

        app.start()  # the same port, the same database
        stored = stored_answers(database_url, workshop_id)
        lost = {k: (v, stored.get(k)) for k, v in acks.items() if stored.get(k) != v}
        assert not lost, f"acknowledged but lost or changed (acked, stored): {lost}"

        after = asyncio.run(asyncio.wait_for(_come_back(app, outcome["links"], stored), 60))
    finally:
        app.stop()
    for name, (shown, expected) in after["shown"].items():
        assert shown == expected, f"{name}'s page after the restart: {shown} != stored {expected}"
    stored = stored_answers(database_url, workshop_id)
    for (name, qid), value in after["new"].items():
        assert stored.get((name, qid)) == value, (name, qid, value, stored.get((name, qid)))
    assert after["new"], "nobody could continue after the restart"


async def _answer_until_killed(app: App, code: str) -> dict:
    questions = first_section()
    rng = random.Random(13)
    tabs = [Tab(app.port) for _ in range(PEOPLE)]
    for tab in tabs:
        await tab.connect()
    names = [f"Crash Person {i + 1}" for i in range(PEOPLE)]
    await asyncio.gather(*(tab.join(code, name, role=i % 4)
                           for i, (tab, name) in enumerate(zip(tabs, names, strict=True))))
    links = {name: tab.personal_link() for name, tab in zip(names, tabs, strict=True)}
    acks: dict[tuple[str, str], str] = {}
    state = {"returncode": None, "interrupted": 0}

    async def answer(tab: Tab, name: str) -> None:
        order = rng.sample(questions, len(questions))
        try:
            for qid in order:
                index = rng.randrange(5)
                result = await tab.choose(f"{QUESTIONNAIRE}.{qid}", index)
                if acknowledged(result):
                    assert tab.chosen(f"{QUESTIONNAIRE}.{qid}") == index
                    acks[(name, qid)] = str(index + 1)  # options 1..5 of the scale
                if len(acks) >= KILL_AFTER and state["returncode"] is None:
                    # Synchronously, right here: every other tab is waiting for its run.
                    state["returncode"] = app.kill()
                    return
        except ProtocolError:
            state["interrupted"] += 1  # the server went away during this tab's run

    try:
        await asyncio.gather(*(answer(t, n) for t, n in zip(tabs, names, strict=True)))
    finally:
        for tab in tabs:
            try:
                await tab.close()
            except Exception:  # noqa: BLE001 - the server is gone: closing may fail
                pass
    return {"acks": acks, "links": links, **state}


async def _come_back(app: App, links: dict[str, tuple[str, str]], stored: dict) -> dict:
    """Each participant opens the personal link their page showed: the page shows what the
    database holds; then they answer one more question."""
    questions = first_section()
    shown, new = {}, {}
    for name, (path, query) in links.items():
        assert query.startswith("p="), query
        async with Tab(app.port) as tab:
            result = await tab.open(path, query)
            assert result.ok and not result.errors, (name, result)
            assert any(name in t for t in tab.texts()), tab.texts()[:5]
            page = {qid: tab.chosen(f"{QUESTIONNAIRE}.{qid}") for qid in questions}
            expected = {qid: int(stored[(name, qid)]) - 1 if (name, qid) in stored else None
                        for qid in questions}
            shown[name] = (page, expected)
            left = [qid for qid in questions if (name, qid) not in stored]
            if left:
                result = await tab.choose(f"{QUESTIONNAIRE}.{left[0]}", 4)
                assert acknowledged(result), (name, result)
                new[(name, left[0])] = "5"
    return {"shown": shown, "new": new}


# ---------------------------------------------------------------- nginx in front

def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None)


class Nginx:
    """nginx in the foreground, running deploy/nginx-assessment.conf as shipped except for the
    listen line and the upstream's addresses, with a log of where each request went."""

    def __init__(self, binary: str, folder: Path, backends: list[int]):
        self.binary, self.folder = binary, folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        site = NGINX_CONF.read_text()
        servers = re.findall(r"^\s*server 127\.0\.0\.1:\d+[^;]*;$", site, flags=re.M)
        assert len(servers) == 2, "the shipped upstream lists two processes"
        for line, port in zip(servers, backends, strict=True):
            site = site.replace(line, re.sub(r":\d+", f":{port}", line), 1)
        site, n = re.subn(r"^(\s*)listen 80;$", rf"\1listen {HOST}:{self.port};", site,
                          flags=re.M)
        assert n == 1, "the shipped server listens on port 80"
        (folder / "site.conf").write_text(site)
        user = "user root root;\n" if os.geteuid() == 0 else ""
        (folder / "nginx.conf").write_text(
            f"{user}daemon off;\nworker_processes 1;\npid {folder}/nginx.pid;\n"
            f"error_log {folder}/error.log info;\n"
            "events { worker_connections 256; }\n"
            "http {\n"
            f"    include {folder}/site.conf;\n"
            "    log_format route '$request_uri|$status|$upstream_addr|$assessment_route';\n"
            f"    access_log {folder}/access.log route;\n"
            + "".join(f"    {kind}_temp_path {folder}/{kind};\n"
                      for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
            + "}\n")

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def _command(self, *extra: str) -> list[str]:
        return [self.binary, "-p", str(self.folder), "-c", str(self.folder / "nginx.conf"),
                "-e", str(self.folder / "error.log"), *extra]

    def start(self) -> None:
        check = subprocess.run(self._command("-t"), capture_output=True, text=True, timeout=30)
        assert check.returncode == 0, f"nginx -t refused the configuration:\n{check.stderr}"
        self.process = subprocess.Popen(self._command(), stdout=subprocess.DEVNULL,
                                        stderr=subprocess.STDOUT)

        def up():
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited: {(self.folder / 'error.log').read_text()}")
            try:
                with socket.create_connection((HOST, self.port), timeout=1):
                    return True
            except OSError:
                return False

        wait_until(up, 20, "nginx to listen")

    def log(self) -> list[list[str]]:
        """The access log's lines as [uri, status, upstream address(es), routing key]."""
        path = self.folder / "access.log"
        text = path.read_text() if path.exists() else ""
        return [line.split("|") for line in text.splitlines()]

    def logged(self, prefix: str, count: int) -> list[list[str]] | None:
        """The logged requests whose path starts so, once there are `count` of them (nginx
        writes a line when a request is over, which can be just after its answer)."""
        lines = [x for x in self.log() if x[0].startswith(prefix)]
        return lines if len(lines) >= count else None

    def stop(self) -> None:
        stop_process(self.process)


@pytest.fixture
def nginx(tmp_path):
    binary = nginx_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("nginx is not installed, and CI installs it (.ci/run)")
        pytest.skip("nginx is not installed (scripts/system-deps.sh installs it)")
    folder = tmp_path / "nginx"
    folder.mkdir()
    return lambda backends: Nginx(binary, folder, backends)


def route_cookie(headers: dict) -> str:
    match = re.search(r"assessment_route=([^;]+)", headers.get("Set-Cookie", ""))
    assert match, f"no routing cookie set: {headers}"
    return match.group(1)


def attempt_subjects(url: str) -> list[str]:
    """The subjects of the failed join attempts recorded (address:…)."""
    import sqlalchemy as sa

    from assessment.schema import attempts
    from assessment.store import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as db:
            return list(db.execute(sa.select(attempts.c.subject).where(
                attempts.c.door == "join")).scalars())
    finally:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_nginx_in_front_of_two_processes(database_url, tmp_path, nginx):
    a = App(database_url, tmp_path / "a.log")
    b = App(database_url, tmp_path / "b.log")
    with running(a, b):
        proxy = nginx([a.port, b.port])
        proxy.start()
        try:
            _through_nginx(database_url, a, b, proxy)
        finally:
            proxy.stop()


def _through_nginx(url: str, a: App, b: App, proxy: Nginx) -> None:
    backends = {f"{HOST}:{a.port}": a, f"{HOST}:{b.port}": b}
    workshop_id, code = new_workshop(url)

    # The health endpoint answers through the proxy.
    status, _, body = http_get(f"{proxy.url}/_stcore/health")
    assert (status, body) == (200, "ok")

    # A first visit gets a routing cookie; with it, every request goes to the same process.
    status, headers, page = http_get(f"{proxy.url}/?join={code}")
    assert status == 200 and "<html" in page.lower()
    cookie = route_cookie(headers)
    for _ in range(5):
        status, again, _ = http_get(f"{proxy.url}/_stcore/health",
                                    {"Cookie": f"assessment_route={cookie}"})
        assert status == 200 and "assessment_route" not in again.get("Set-Cookie", "")

    # Uploads of 8 MB (nginx's own default limit is 1 MB) reach Streamlit. These carry no XSRF
    # token: Streamlit answers 403 and may close the connection before reading the body, so
    # that nginx answers 502. Either way the process must stay in the pool: the browser's
    # later requests below still go to it.
    for _ in range(3):
        status, _, body = http_get(f"{proxy.url}/_stcore/upload_file/session/file",
                                   timeout=20, data=b"x" * 8_000_000, method="PUT",
                                   headers={"Content-Type": "application/octet-stream",
                                            "Cookie": f"assessment_route={cookie}"})
        assert (status, body) == (403, "XSRF token missing or invalid") or status == 502, \
            (status, body[:200])
    uploads = wait_until(lambda: proxy.logged("/_stcore/upload_file/", 3), 10,
                         "nginx to log the uploads")
    assert all(x[2].startswith(HOST) for x in uploads), uploads  # a process was asked

    # Different browsers are spread over both processes.
    for _ in range(24):
        http_get(f"{proxy.url}/_stcore/health")

    # The tab's websocket, with the cookie: join and answer through nginx. The forged
    # X-Forwarded-For is replaced by the address nginx saw (127.0.0.1: "unknown" to the app).
    tab_headers = {"Cookie": f"assessment_route={cookie}", "X-Forwarded-For": "198.51.100.8"}
    qid = first_section()[0]

    async def participant() -> str:
        async with Tab(proxy.port, headers=tab_headers) as tab:
            result = await tab.open("", "join=WRONG9")  # a failed join attempt is counted
            assert result.ok and result.errors, result
            await tab.join(code, "Nia Nginx", role=2)
            result = await tab.choose(f"{QUESTIONNAIRE}.{qid}", 3)
            assert acknowledged(result) and tab.chosen(f"{QUESTIONNAIRE}.{qid}") == 3, result
            return tab.personal_link()

    path, query = asyncio.run(asyncio.wait_for(participant(), 60))
    assert query.startswith("p="), query
    assert stored_answers(url, workshop_id) == {("Nia Nginx", qid): "4"}
    assert attempt_subjects(url) == ["address:unknown"]

    stream = wait_until(lambda: proxy.logged("/_stcore/stream", 1), 10,
                        "nginx to log the closed websocket")
    lines = proxy.log()
    mine = {x[2].split(", ")[0] for x in lines if x[3] == cookie}  # first process tried
    assert len(mine) == 1, f"one browser's requests went to several processes: {mine}"
    assert stream[0][1] == "101" and stream[0][2] in mine
    assert {x[2] for x in lines if x[0] == "/_stcore/health"} == set(backends), \
        "browsers were not spread over both processes"

    # Without a proxy in front the app believes X-Forwarded-For from 127.0.0.1 (uvicorn's
    # default): so behind nginx the limits count the real client's address.
    async def direct() -> None:
        async with Tab(a.port, headers={"X-Forwarded-For": "198.51.100.7"}) as tab:
            result = await tab.open("", "join=WRONG8")
            assert result.ok and result.errors, result

    asyncio.run(asyncio.wait_for(direct(), 30))
    assert sorted(attempt_subjects(url)) == ["address:198.51.100.7", "address:unknown"]

    # The process holding this browser dies: nginx sends the browser to the other one, and the
    # personal link brings the participant back to their answer there.
    served = backends[stream[0][2]]
    assert served.kill() == -signal.SIGKILL
    survivor = next(x for x in backends.values() if x is not served)

    async def reconnect() -> int | None:
        async with Tab(proxy.port, headers=tab_headers) as tab:
            result = await tab.open(path, query)
            assert result.ok and not result.errors, result
            return tab.chosen(f"{QUESTIONNAIRE}.{qid}")

    assert asyncio.run(asyncio.wait_for(reconnect(), 60)) == 3
    last = wait_until(lambda: proxy.logged("/_stcore/stream", 2), 10,
                      "nginx to log the second websocket")
    assert last[-1][2].endswith(f"{HOST}:{survivor.port}"), last[-1]
