"""Benchmark: what one answer click costs, against the rerun of an empty Streamlit page.

Prints figures; asserts nothing. Run: .venv/bin/python bench/answer_click_bench.py

The participant page draws each question in its own ``@st.fragment``: in a browser, a click on
an answer runs the widget's callback (the answer is written to the database) and then reruns
that one question, not the page. Streamlit's AppTest cannot show that: ``AppTest.run()`` always
runs the whole script (it sends no fragment id; checked below on a two-line app), so this
bench measures in two ways, in the same run, each against an empty page measured the same way:

1. **Server (what a participant waits for)**: the app started as a user starts it
   (``streamlit run``, a fresh SQLite file, loopback), driven through Streamlit's websocket
   protocol (bench/stclient.py): join, open the largest section of ``commitment``, click an
   answer. The time is from the click's message to ``script_finished``, and the run must end
   as a *fragment* run (``FINISHED_FRAGMENT_RUN_SUCCESSFULLY``). The empty page is a script of
   one line (``import streamlit as st``) on its own server, rerun the same way, once after
   each click (interleaved, so that the rest of the machine's load weighs on both). A full rerun of
   the answer page (what every click cost before fragments, and what "Next" costs) is given
   for reference.
2. **AppTest (the whole script)**: ``at.radio(key="commitment.<qid>").set_value(n).run()``
   reruns the whole page: on the largest shipped section (7 questions) and on a variant of
   ``commitment`` shown as one section of all 34 questions (made here, in this process only),
   against ``AppTest.from_string("import streamlit as st")``.

Every click's answer is checked in the database afterwards (outside the timing). Options for
both servers can be given as ``--option runner.postScriptGC=false`` (Streamlit's defaults
otherwise, as ``make run`` uses them).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

QUESTIONNAIRE = "commitment"
CLICKS = 35  # measured clicks per figure (after WARM_UP): five rounds of 7 questions
WARM_UP = 3
EMPTY_PAGE = "import streamlit as st\n"


def median_ms(values: list[float]) -> float:
    return 1000 * statistics.median(values)


def largest_section() -> tuple[int, list[str]]:
    from assessment.questionnaire import load_shipped

    pages = load_shipped()[QUESTIONNAIRE].pages()
    index = max(range(len(pages)), key=lambda i: len(pages[i].question_ids))
    return index, list(pages[index].question_ids)


def new_workshop(url: str) -> str:
    from assessment.store import Store

    store = Store(url)
    store.create_schema()
    client = store.create_client("Bench client")
    workshop = store.create_workshop(client.id, "Answer click bench", [QUESTIONNAIRE])
    store.close()
    return workshop.code


def stored(url: str) -> dict[str, str]:
    from assessment.store import Store

    store = Store(url)
    try:
        frame = store.answer_frame(store.workshops()[0].id, QUESTIONNAIRE)
    finally:
        store.close()
    return dict(zip(frame["question_id"], frame["value"].astype(str), strict=True))


# ---------------------------------------------------------------- the server

async def _server_runs(app, empty_server, code: str, section: int, questions: list[str]) -> dict:
    """Join and open the section, then click answers. Wall time: each click as a fragment run,
    the same question clicked again as a whole-page run, then one rerun of the empty page, in
    turn, so that whatever else the machine does weighs on all three alike. Server CPU time:
    each of the three alone, back to back, from the server process's own counters."""
    from stclient import StreamlitClient, _state
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    async with (StreamlitClient("127.0.0.1", app.port) as client,
                StreamlitClient("127.0.0.1", empty_server.port) as empty):
        await empty.open()
        await client.open("", f"join={code}")
        await client.set_value("join_name", "Bench participant")
        joined = await client.click("Join")
        if not joined.ok or "p=" not in client.query_string:
            raise RuntimeError(f"could not join: {joined.exceptions or client.texts()[:5]}")
        for _ in range(section):
            await client.click("next")
        given: dict[str, str] = {}

        def checked(result, qid):
            if not result.ok or result.errors:
                raise RuntimeError(f"click on {qid} failed: {result.exceptions or result.errors}")
            return result

        async def fragment_click(n: int):
            """As the browser sends it: the widget's fragment id, so a fragment run."""
            qid = questions[n % len(questions)]
            index = (n // len(questions) + n) % 5
            result = checked(await client.choose(f"{QUESTIONNAIRE}.{qid}", index), qid)
            given[qid] = str(index + 1)
            return result

        async def full_click(n: int):
            """The same kind of click without the fragment id: the whole page reruns, as every
            click did before the questions were fragments."""
            qid = questions[n % len(questions)]
            index = (n // len(questions) + n + 2) % 5
            element = client.widget(f"{QUESTIONNAIRE}.{qid}")
            client.states[element.id] = _state(element, element.proto.options[index])
            result = checked(await client.rerun(), qid)
            given[qid] = str(index + 1)
            return result

        async def empty_rerun(n: int):
            return await empty.rerun()

        kinds = {"click": (fragment_click, app), "full": (full_click, app),
                 "empty": (empty_rerun, empty_server)}
        out = {"fragment_runs": 0, "given": given, **{k: [] for k in kinds}}
        for n in range(WARM_UP + CLICKS):
            for kind, (action, _) in kinds.items():
                result = await action(n)
                if n >= WARM_UP:
                    out[kind].append(result.seconds)
                    if kind == "click":
                        out["fragment_runs"] += (
                            result.status == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY)
        for kind, (action, server) in kinds.items():
            await asyncio.sleep(0.5)
            before = server.cpu_seconds()
            for n in range(CLICKS):
                await action(n)
            await asyncio.sleep(0.5)  # anything the last run left to do (its garbage collection)
            out[f"{kind}_cpu"] = (server.cpu_seconds() - before) / CLICKS
        return out


def server_figures(tmp: Path, section: int, questions: list[str], options: list[str]) -> dict:
    from load_test import Server

    url = f"sqlite:///{tmp / 'server.db'}"
    code = new_workshop(url)
    empty_script = tmp / "empty_page.py"
    empty_script.write_text(EMPTY_PAGE)
    app = Server("app.py", url, tmp / "app.log", options=options)
    empty = Server(str(empty_script), f"sqlite:///{tmp / 'unused.db'}", tmp / "empty.log",
                   options=options)
    try:
        app.start()
        empty.start()
        out = asyncio.run(_server_runs(app, empty, code, section, questions))
    finally:
        app.stop()
        empty.stop()
    saved = stored(url)
    out["lost"] = [q for q, v in out["given"].items() if saved.get(q) != v]
    return out


def write_times(tmp: Path) -> list[float]:
    """One answer written through the store, as the click's callback writes it (SQLite)."""
    from assessment.questionnaire import load_shipped
    from assessment.store import Store

    url = f"sqlite:///{tmp / 'write.db'}"
    code = new_workshop(url)
    store = Store(url, questionnaires=load_shipped())
    person, _ = store.join(code, "Writer", "executive")
    qids = [x.id for x in load_shipped()[QUESTIONNAIRE].questions]
    times = []
    for n in range(WARM_UP + CLICKS):
        started = time.perf_counter()
        store.save_answers(person.id, QUESTIONNAIRE, [(qids[n % len(qids)], "", str(n % 5 + 1))])
        times.append(time.perf_counter() - started)
    store.close()
    return times[WARM_UP:]


# ---------------------------------------------------------------- AppTest

def apptest_reruns_whole_script() -> bool:
    """Whether AppTest reruns the whole script after a widget in a fragment changes."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_string("""
import streamlit as st
st.session_state["runs"] = st.session_state.get("runs", 0) + 1
@st.fragment
def part():
    st.radio("x", [1, 2], key="x", index=None)
part()
""")
    at.run()
    at.radio(key="x").set_value(2).run()
    return at.session_state["runs"] == 2


def apptest_clicks(url: str, questions: list[str], section: int) -> tuple[list[float], list[float]]:
    """Answer clicks through AppTest (whole-script reruns), each followed by one rerun of an
    empty page's AppTest; both lists of seconds."""
    from streamlit.testing.v1 import AppTest

    from assessment.store import Store

    store = Store(url)
    code = store.workshops()[0].code
    _, token = store.join(code, f"AppTest participant {section}-{len(questions)}", "executive")
    store.close()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["p"] = token
    at.query_params["s"] = str(section)
    at.run()
    empty = AppTest.from_string(EMPTY_PAGE)
    empty.run()
    if at.exception:
        raise RuntimeError(at.exception)
    clicks, floors = [], []
    for n in range(WARM_UP + CLICKS):
        qid = questions[n % len(questions)]
        value = (n // len(questions) + n) % 5 + 1
        started = time.perf_counter()
        at.radio(key=f"{QUESTIONNAIRE}.{qid}").set_value(value).run()
        clicked = time.perf_counter()
        empty.run()
        if n >= WARM_UP:
            clicks.append(clicked - started)
            floors.append(time.perf_counter() - clicked)
        if at.exception:
            raise RuntimeError(at.exception)
    return clicks, floors


def one_section_variant() -> list[str]:
    """commitment shown as one section of all its questions, in this process's AppTest runs."""
    import app_pages.common as common
    from assessment.model import Section

    original = common.load_shipped

    def patched():
        shipped = original()
        q = shipped[QUESTIONNAIRE]
        ids = tuple(x.id for x in q.questions)
        shipped[QUESTIONNAIRE] = dataclasses.replace(q, sections=(Section("all", "All", ids),))
        return shipped

    common.load_shipped = patched
    common.questionnaires.clear()
    common._store.clear()  # the store validates answers against the questionnaires it was given
    return [x.id for x in patched()[QUESTIONNAIRE].questions]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                        help="a Streamlit option for both servers, e.g. runner.postScriptGC=false")
    options = parser.parse_args(argv).option
    section, questions = largest_section()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        print(f"Answer click on {QUESTIONNAIRE}, section {section + 1} ({len(questions)} "
              f"questions, the largest shipped section); medians of {CLICKS} clicks after "
              f"{WARM_UP} warm-up clicks.\n")

        server = server_figures(tmp, section, questions, options)
        write = median_ms(write_times(tmp))
        wall = {k: median_ms(server[k]) for k in ("click", "full", "empty")}
        cpu = {k: 1000 * server[f"{k}_cpu"] for k in ("click", "full", "empty")}
        print("Server (streamlit run, websocket protocol, loopback): what a participant waits for"
              + (f"; options {' '.join(options)}" if options else ""))
        print("                                     wall (median)  ratio   server CPU  ratio")
        for kind, label in (("click", "answer click (fragment run)"),
                            ("full", "the same click, whole page"),
                            ("empty", "empty page rerun")):
            print(f"  {label:32s} {wall[kind]:8.1f} ms   {wall[kind] / wall['empty']:5.2f}"
                  f"   {cpu[kind]:7.1f} ms  {cpu[kind] / cpu['empty']:5.2f}")
        print(f"  {server['fragment_runs']} of {CLICKS} answer clicks ended as fragment runs; "
              f"answers not in the database after their click: {len(server['lost'])}; "
              f"the answer's database write alone (in process): {write:.1f} ms\n")

        os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'apptest.db'}"
        new_workshop(os.environ["DATABASE_URL"])
        whole = apptest_reruns_whole_script()
        print("AppTest (in process, no browser or network): "
              + ("reruns the WHOLE script on a click, fragment or not" if whole else
                 "reran only the fragment"))
        real, floor = (median_ms(v) for v in apptest_clicks(os.environ["DATABASE_URL"],
                                                            questions, section))
        print(f"  answer click, whole page of {len(questions):2d} questions  {real:7.1f} ms   "
              f"empty page {floor:5.1f} ms   ratio {real / floor:5.2f}")
        all_questions = one_section_variant()
        big, floor = (median_ms(v) for v in apptest_clicks(os.environ["DATABASE_URL"],
                                                           all_questions, 0))
        print(f"  answer click, whole page of {len(all_questions):2d} questions  {big:7.1f} ms   "
              f"empty page {floor:5.1f} ms   ratio {big / floor:5.2f}   (commitment as one "
              "section, made here)")


if __name__ == "__main__":
    main()
