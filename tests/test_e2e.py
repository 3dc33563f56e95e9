"""End to end in a real browser: a facilitator and three participants answering at once."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
PEOPLE = [("Ann Executive", 0), ("Bob Manager", 1), ("Cy Director", 2)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The real app, started as a user starts it, on a temporary SQLite file."""

    def __init__(self, database: Path, port: int, log: Path):
        self.database, self.port, self.log = database, port, log
        self.process = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{self.database}",
               "STREAMLIT_SERVER_PORT": str(self.port), "STREAMLIT_SERVER_ADDRESS": "127.0.0.1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py"], cwd=ROOT, env=env,
            stdout=self.log.open("a"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"the app did not start: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


@pytest.fixture
def server(tmp_path):
    if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
        pytest.skip("Debian's chromium is not installed (scripts/system-deps.sh installs it)")
    s = Server(tmp_path / "e2e.db", free_port(), tmp_path / "server.log")
    s.start()
    yield s
    s.stop()


async def settle(page) -> None:
    """Wait until Streamlit has finished rerunning."""
    await page.wait_for_selector("[data-testid=stMain] h1", timeout=30_000)
    await page.wait_for_timeout(400)
    await page.wait_for_function("!document.querySelector('[data-testid=stStatusWidget]')",
                                 timeout=30_000)
    await page.wait_for_timeout(200)


async def sign_in(page, url: str, username: str, password: str | None = None) -> None:
    """Sign in on the sign-in page (conftest's PASSWORD unless given); it leads to the
    Facilitator page."""
    from conftest import PASSWORD

    await page.goto(f"{url}/account")
    await settle(page)
    await page.get_by_role("textbox", name="Username").fill(username)
    await page.get_by_role("textbox", name="Password").fill(password or PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("heading", name="Facilitator").wait_for(timeout=30_000)
    await settle(page)


async def checked_answers(page) -> int:
    """How many answer radios are selected (the questionnaire picker left out)."""
    return await page.locator("[class*='st-key-tradeoffs-'] input[type=radio]:checked").count()


async def answer_radio(page, key: str, option: int) -> None:
    choice = page.locator(f".st-key-tradeoffs-{key} label:has(input)").nth(option)
    await choice.click()
    # the answer is saved by the rerun this click starts; wait for the page to show it chosen
    await page.locator(f".st-key-tradeoffs-{key} input:checked").wait_for(timeout=30_000)
    await settle(page)


async def participant(browser, server, code, name, variant, shots: Path, reload_midway: bool,
                      log: list):
    context = await browser.new_context(viewport={"width": 430, "height": 1400})
    page = await context.new_page()
    await page.goto(f"{server.url}/?join={code}")
    await settle(page)
    await page.get_by_role("textbox", name="Your name").fill(name)
    await page.get_by_role("button", name="Join").click()
    await page.wait_for_url(lambda url: "p=" in url, timeout=30_000)
    await settle(page)
    await page.screenshot(path=shots / f"2-{variant}-joined.png", full_page=True)

    scored = ["tr01", "tr02", "tr03", "tr04", "tr05", "tr06", "tr07", "tr08"]
    for i, key in enumerate(scored):
        await answer_radio(page, key, (variant + i) % 5)
        if reload_midway and i == 3:
            await page.reload()
            await settle(page)
            kept = await checked_answers(page)
            log.append(("reloaded", name, kept))
            await page.screenshot(path=shots / f"3-{variant}-after-reload.png", full_page=True)
    assert await checked_answers(page) == len(scored)

    await page.get_by_role("button", name="Next →").click()
    await page.locator("[class*='st-key-tradeoffs-tr_alloc-'] input").first.wait_for(
        timeout=30_000)
    await settle(page)
    points = [[40, 20, 10, 10, 10, 10], [10, 30, 20, 20, 10, 10], [20, 20, 20, 20, 10, 10]]
    inputs = page.locator("[class*='st-key-tradeoffs-tr_alloc-'] input")
    for n, value in enumerate(points[variant]):
        await inputs.nth(n).fill(str(value))
        await inputs.nth(n).press("Enter")
        await settle(page)
    # the ranking: one row of rank buttons per option, every option ranked
    options = ["cost_reduction", "customer_experience", "new_products",
               "operational_efficiency", "new_markets", "people_capability"]
    for rank, option in enumerate(options[variant:] + options[:variant], start=1):
        button = page.locator(f".st-key-tradeoffs-tr_rank-{option}").get_by_role(
            "radio", name=("1st", "2nd", "3rd", "4th", "5th", "6th")[rank - 1], exact=True)
        await button.click()
        await page.locator(f".st-key-tradeoffs-tr_rank-{option} [aria-checked=true]").wait_for()
    await settle(page)
    await page.locator(".st-key-tradeoffs-tr_customers label:has(input)").nth(variant + 1).click()
    await settle(page)
    for key, text in (("tr_stop", f"stop the monthly product push, says number {variant}"),
                      ("tr_giveup", "=HYPERLINK(\"http://x\") some margin")):
        box = page.locator(f".st-key-tradeoffs-{key} textarea")
        await box.fill(text)
        await box.press("Control+Enter")
        await settle(page)
    await page.screenshot(path=shots / f"4-{variant}-trade-offs.png", full_page=True)
    await page.get_by_role("button", name="Review →").click()
    await settle(page)
    await page.get_by_text("You have answered every question").wait_for()
    await page.screenshot(path=shots / f"5-{variant}-review.png", full_page=True)
    log.append(("done", name, page.url))
    return context, page


async def scenario(server: Server, shots: Path) -> dict:
    from playwright.async_api import async_playwright

    found = {}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        facilitator = await (await browser.new_context(
            viewport={"width": 1300, "height": 2200})).new_page()
        await facilitator.goto(server.url)
        await settle(facilitator)
        await facilitator.get_by_text("Join a workshop").wait_for()
        await facilitator.screenshot(path=shots / "0-home.png", full_page=True)
        await sign_in(facilitator, server.url, "ann")
        await facilitator.get_by_role("tab", name="New workshop").click()
        await facilitator.get_by_role("textbox", name="Client name").fill("Acme Retail")
        chosen = facilitator.locator(".st-key-new_questionnaires")
        # keep only the trade-offs questionnaire: remove the other two chips
        for title in ("Leadership commitment", "Customers and proposition"):
            await chosen.get_by_role("button", name=f"Remove {title}").click()
        await facilitator.get_by_role("button", name="Create workshop").click()
        await settle(facilitator)
        code = (await facilitator.locator("[data-testid=stMetricValue]").first.inner_text()).strip()
        found["code"] = code
        await facilitator.screenshot(path=shots / "1-facilitator-created.png", full_page=True)

        log: list = []
        sessions = await asyncio.gather(*[
            participant(browser, server, code, name, variant, shots, variant == 1, log)
            for name, variant in PEOPLE])
        found["log"] = log

        await facilitator.get_by_text("3 of 3").wait_for(timeout=30_000)
        await facilitator.screenshot(path=shots / "6-facilitator-progress.png", full_page=True)
        await facilitator.get_by_role("button", name="Open the results").click()
        await settle(facilitator)
        await facilitator.get_by_text("Scores by dimension").wait_for()
        await facilitator.get_by_text("Say–do gap").or_(
            facilitator.get_by_text("In their own words")).first.wait_for()
        # scores, heatmap and allocation drawn and visible (the context panel's stay folded)
        visible = ("[...document.querySelectorAll('[data-testid=stVegaLiteChart] canvas, "
                   "[data-testid=stVegaLiteChart] svg')].filter(e => e.offsetParent !== null)"
                   ".length")
        await facilitator.wait_for_function(f"{visible} >= 3", timeout=30_000)
        await facilitator.wait_for_timeout(1000)
        found["charts"] = await facilitator.evaluate(visible)
        found["results_text"] = await facilitator.locator("[data-testid=stMain]").inner_text()
        await facilitator.screenshot(path=shots / "7-facilitator-results.png", full_page=True)

        # A server restart: the participant's link still brings back every answer.
        server.stop()
        server.start()
        context, page = sessions[2]
        await page.goto(page.url.split("&")[0].replace("s=4", "s=0"))
        await settle(page)
        await page.get_by_text("13 of 13 answered").wait_for()
        found["after_restart"] = await checked_answers(page)
        await page.screenshot(path=shots / "8-after-restart.png", full_page=True)
        await browser.close()
    return found


def test_three_participants_answer_at_once_and_the_facilitator_sees_results(server, tmp_path):
    from conftest import add_consultant

    from assessment.store import Store

    store = Store(f"sqlite:///{server.database}")
    store.create_schema()
    add_consultant(store, "ann")
    store.close()
    shots = tmp_path / "screenshots"
    shots.mkdir()
    try:
        found = asyncio.run(scenario(server, shots))
    finally:
        if os.environ.get("E2E_SCREENSHOTS"):  # to look at them after a run
            shutil.copytree(shots, os.environ["E2E_SCREENSHOTS"], dirs_exist_ok=True)

    reloads = [entry for entry in found["log"] if entry[0] == "reloaded"]
    assert reloads == [("reloaded", "Bob Manager", 4)]
    assert sum(entry[0] == "done" for entry in found["log"]) == 3
    text = found["results_text"]
    assert "Participants who answered" in text and "3" in text
    assert "Overall level" in text and "Developing" in text or "Aware" in text
    assert found["charts"] >= 3  # scores, heatmap, allocation (and the context panel's)
    assert "stop the monthly product push" in text
    assert "Ann Executive" not in text  # names stay hidden until the facilitator shows them
    assert found["after_restart"] == 8

    from assessment.store import Store

    store = Store(f"sqlite:///{server.database}")
    frame = store.answer_frame(store.workshop_by_code(found["code"]).id)
    store.close()
    assert frame["participant_id"].nunique() == 3
    assert (frame[frame["question_id"] == "tr01"].shape[0]) == 3
    give_up = frame.loc[frame["question_id"] == "tr_giveup", "value"]
    assert set(give_up) == {"=HYPERLINK(\"http://x\") some margin"}
    assert len(list(shots.glob("*.png"))) >= 15


async def plan_round_trip(server: Server, shots: Path, workshop_id: int) -> dict:
    import openpyxl
    from playwright.async_api import async_playwright

    found = {}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = await (await browser.new_context(viewport={"width": 1300, "height": 2400},
                                                accept_downloads=True)).new_page()
        await sign_in(page, server.url, "root")
        await page.goto(f"{server.url}/facilitator?workshop={workshop_id}")  # an admin's
        await page.get_by_role("button", name="Open the plan").wait_for(timeout=30_000)
        await page.get_by_role("button", name="Open the plan").click()
        await page.get_by_role("button", name="Prepare the Excel workbook").wait_for(
            timeout=30_000)
        await settle(page)
        await page.screenshot(path=shots / "plan-1-page.png")
        await page.get_by_role("button", name="Prepare the Excel workbook").click()
        download_button = page.get_by_role("button", name="Download the action plan (.xlsx)")
        await download_button.wait_for(timeout=30_000)
        async with page.expect_download() as info:
            await download_button.click()
        book = shots / "downloaded.xlsx"
        await (await info.value).save_as(book)

        wb = openpyxl.load_workbook(book)
        ws = wb["Action plan"]
        head = [c.value for c in ws[1]]
        letter = {name: openpyxl.utils.get_column_letter(head.index(name) + 1)
                  for name in ("Action", "Owner", "Status")}
        found["action"] = ws[f"{letter['Action']}2"].value
        ws[f"{letter['Owner']}2"] = "Dana Whitfield (COO)"
        ws[f"{letter['Status']}2"] = "In progress"
        wb.save(book)
        await page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(
            str(book))
        apply = page.get_by_role("button", name="Apply 2 change(s)")
        await apply.wait_for(timeout=30_000)
        await page.screenshot(path=shots / "plan-2-changes.png")
        await apply.click()
        # the page says what it applied (never "holds no changes" right after applying them)
        await page.get_by_text("Applied 2 change(s)").first.wait_for(timeout=30_000)
        found["no changes"] = await page.get_by_text("The workbook holds no changes").count()
        await browser.close()
    return found


def test_an_edited_plan_workbook_comes_back_into_the_app(server, tmp_path):
    from conftest import add_consultant

    from assessment.demo import create_demo
    from assessment.questionnaire import load_shipped
    from assessment.store import Store

    store = Store(f"sqlite:///{server.database}")
    store.create_schema()
    workshop = create_demo(store, load_shipped(), read_only=False)  # the demo is read-only
    add_consultant(store, "root", admin=True)  # sees every client
    shots = tmp_path / "screenshots"
    shots.mkdir()
    try:
        found = asyncio.run(plan_round_trip(server, shots, workshop.id))
    finally:
        if os.environ.get("E2E_SCREENSHOTS"):
            shutil.copytree(shots, os.environ["E2E_SCREENSHOTS"], dirs_exist_ok=True)
    edits = store.plan_edits(workshop.id)
    store.close()
    changed = [e for e in edits.values() if e["owner"] == "Dana Whitfield (COO)"]
    assert len(changed) == 1 and changed[0]["status"] == "In progress"
    assert found["action"] and found["no changes"] == 0
