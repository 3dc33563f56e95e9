"""The participant's whole journey in a real browser: three people (one on a phone) answer
every questionnaire of a workshop. Nobody is told they are done before the last question; the
workshop's progress reaches 100%; after every "Next" the new section's heading is in view (and
on the phone the first question too). Joining from Home carries the typed code to the form."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import time
from pathlib import Path

import pytest
from test_e2e import ARGS, CHROMIUM, Server, free_port, settle

pytestmark = pytest.mark.e2e

QUESTIONNAIRES = ["commitment", "proposition", "tradeoffs"]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PEOPLE = [("Ann Executive", DESKTOP), ("Bob Manager", PHONE), ("Cy Director", DESKTOP)]
DONE = re.compile("you are done|answered every question", re.IGNORECASE)


@pytest.fixture
def server(tmp_path):
    if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
        pytest.skip("Debian's chromium is not installed (scripts/system-deps.sh installs it)")
    s = Server(tmp_path / "journey.db", free_port(), tmp_path / "server.log")
    s.start()
    yield s
    s.stop()


def ordinal(n: int) -> str:
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n, 'th')}"


def css(key: str) -> str:
    """The class Streamlit gives an element with this key."""
    return ".st-key-" + re.sub(r"[^a-zA-Z0-9_-]", "-", key)


async def finished(page) -> None:
    """Wait until the run that is drawing the page is over (and its last scroll done)."""
    await page.wait_for_function("document.querySelector('[data-testid=stApp]')"
                                 ".getAttribute('data-test-script-state') === 'notRunning'",
                                 timeout=30_000)
    await page.wait_for_timeout(300)


async def in_view(page, locator) -> bool:
    """Whether the element's top edge is on the screen (scrolled into view, not above/below),
    once the run that drew it is over."""
    await locator.wait_for(timeout=30_000)
    await finished(page)
    return await locator.evaluate("e => { const r = e.getBoundingClientRect(); "
                                  "return r.top >= 0 && r.top < window.innerHeight; }")


async def not_done_yet(page, where: str, seen: list) -> None:
    text = await page.locator("[data-testid=stMain]").inner_text()
    if DONE.search(text):
        seen.append(where)


async def answer(page, q, question, person: int) -> None:
    """Answer one question as a person would: radio labels clicked, boxes filled."""
    from playwright.async_api import expect

    key = f"{q.id}.{question.id}"
    if question.type in ("level", "likert", "choice"):
        choice = (person + len(question.id)) % (len(question.options) if question.options else 5)
        await page.locator(f"{css(key)} label:has(input)").nth(choice).click()
        await page.locator(f"{css(key)} input:checked").wait_for(timeout=30_000)
    elif question.type == "text":
        box = page.locator(f"{css(key)} textarea")
        await box.fill(f"stop the monthly product push ({person})")
        await box.press("Control+Enter")
        await settle(page)
    elif question.type == "allocation":
        share = [question.total // len(question.options)] * len(question.options)
        share[person % len(share)] += question.total - sum(share)
        for option, points in zip(question.options, share, strict=True):
            box = page.locator(f"{css(f'{key}.{option.id}')} input")
            await box.fill(str(points))
            await box.press("Enter")
            await settle(page)
    elif question.type == "ranking":
        n = len(question.options)
        for i, option in enumerate(question.options):
            rank = (i + person) % n + 1
            button = page.locator(css(f"{key}.{option.id}")).get_by_role(
                "radio", name=ordinal(rank), exact=True)
            await button.click()
            await expect(button).to_have_attribute("aria-checked", "true", timeout=30_000)


async def participant(browser, url: str, code: str, name: str, device: dict, person: int,
                      shipped: dict, shots: Path, found: dict) -> None:
    context = await browser.new_context(**device)
    page = await context.new_page()
    phone = device is PHONE
    label = name.split()[0].lower()
    log = found.setdefault(name, {"headings": [], "first_questions": [], "done_early": [],
                                  "progress": [], "picked": []})
    if phone:  # Home -> Join with a typed code
        await page.goto(url)
        await settle(page)
        await page.get_by_role("textbox", name="Join code").fill(code.lower())
        await page.get_by_role("button", name="Join", exact=True).click()
        await page.get_by_role("textbox", name="Your name").wait_for(timeout=30_000)
        await settle(page)
        found["home_join_code"] = await page.get_by_role("textbox",
                                                         name="Join code").input_value()
        found["home_join_url"] = page.url
    else:
        await page.goto(f"{url}/?join={code}")
        await settle(page)
    await page.get_by_role("textbox", name="Your name").fill(name)
    await page.get_by_role("button", name="Join", exact=True).click()
    await page.wait_for_url(lambda u: "p=" in u, timeout=30_000)
    await settle(page)
    first = True
    for qn, qid in enumerate(QUESTIONNAIRES):
        q = shipped[qid]
        pages = q.pages()
        for s, section in enumerate(pages):
            heading = page.get_by_role("heading", name=f"{s + 1}. {section.title}", exact=True)
            log["headings"].append((qid, s, await in_view(page, heading)))
            if phone:
                box = page.locator(css(f"box.{qid}.{section.question_ids[0]}"))
                log["first_questions"].append((qid, s, await in_view(page, box)))
            if first:
                await page.screenshot(path=shots / f"{label}-first-screen.png")
                first = False
            await not_done_yet(page, f"{qid} section {s + 1}", log["done_early"])
            for qnum in section.question_ids:
                await answer(page, q, q.question(qnum), person)
            if person == 0 and s == 0:  # a comment, saved like an answer
                comment = page.locator(css(f"box.{qid}.{section.question_ids[0]}"))
                await comment.get_by_text("Comment (optional)").click()
                box = comment.locator("textarea")
                await box.fill(f"A comment on {qid}, from the browser")
                await box.press("Control+Enter")
            await settle(page)
            await page.get_by_role("button", name="Review →" if s == len(pages) - 1
                                   else "Next →").click()
            await settle(page)
        # the review at the end of the questionnaire
        review = page.get_by_role("heading", name=f"Review: {q.title}")
        log["headings"].append((qid, "review", await in_view(page, review)))
        log["progress"].append(await page.locator("[data-testid=stProgress]").inner_text())
        if qn < len(QUESTIONNAIRES) - 1:
            await not_done_yet(page, f"{qid} review", log["done_early"])
            following = shipped[QUESTIONNAIRES[qn + 1]]
            await page.screenshot(path=shots / f"{label}-review-{qid}.png")
            await page.get_by_role("button", name=f"Next: {following.title}, "
                                                  f"{len(following.questions)} questions").click()
            await page.get_by_role("heading", name=f"1. {following.pages()[0].title}",
                                   exact=True).wait_for(timeout=30_000)
            await finished(page)
            picker = page.locator(".st-key-questionnaire_choice label:has(input:checked)")
            log["picked"].append((following.id, await picker.inner_text()))
    try:
        await page.get_by_text("You are done.").wait_for(timeout=30_000)
    except Exception:  # noqa: BLE001 - the store's answers, checked below, say what is missing
        await page.screenshot(path=shots / f"{label}-not-done.png", full_page=True)
    found[name]["end"] = await page.locator("[data-testid=stMain]").inner_text()
    await page.screenshot(path=shots / f"{label}-done.png", full_page=True)
    await context.close()


async def scenario(server: Server, code: str, shots: Path) -> dict:
    from playwright.async_api import async_playwright

    from assessment.questionnaire import load_shipped

    shipped = load_shipped()
    found: dict = {}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        await asyncio.gather(*[participant(browser, server.url, code, name, device, n,
                                           shipped, shots, found)
                               for n, (name, device) in enumerate(PEOPLE)])
        await browser.close()
    return found


def test_three_participants_answer_every_questionnaire_one_on_a_phone(server, tmp_path):
    from assessment.questionnaire import load_shipped
    from assessment.store import Store
    from assessment.workshop import is_answered

    store = Store(f"sqlite:///{server.database}")
    store.create_schema()
    client = store.create_client("Acme Retail")
    workshop = store.create_workshop(client.id, "Board offsite", QUESTIONNAIRES)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    started = time.monotonic()
    try:
        found = asyncio.run(scenario(server, workshop.code, shots))
    finally:
        if os.environ.get("E2E_SCREENSHOTS"):
            shutil.copytree(shots, os.environ["E2E_SCREENSHOTS"], dirs_exist_ok=True)
    print(f"journey of three participants: {time.monotonic() - started:.0f} s")

    assert found["home_join_code"] == workshop.code
    assert f"join={workshop.code}" in found["home_join_url"]
    shipped = load_shipped()
    # What the pages said is what the store holds: every question of every questionnaire.
    people = store.participants(workshop.id)
    assert len(people) == 3
    for person in people:
        everything = store.answers_by_questionnaire(person.id)
        for qid in QUESTIONNAIRES:
            missing = [x.id for x in shipped[qid].questions
                       if not is_answered(x, everything.get(qid, {}))]
            assert missing == [], (person.name, qid, missing)
    total = sum(len(shipped[q].questions) for q in QUESTIONNAIRES)
    for name, _ in PEOPLE:
        log = found[name]
        assert log["done_early"] == [], (name, log["done_early"])
        assert [h for h in log["headings"] if not h[2]] == [], (name, log["headings"])
        assert [f for f in log["first_questions"] if not f[2]] == [], name
        assert log["progress"][-1].startswith(f"Whole workshop: {total} of {total} answered")
        assert "You are done." in log["end"] and f"({total} of {total})" in log["end"]
        # the picker shows the questionnaire the review's button opened
        assert [title for _, title in log["picked"]] == [shipped[q].title
                                                         for q in QUESTIONNAIRES[1:]]
    phone = found[PEOPLE[1][0]]
    assert len(phone["first_questions"]) == sum(len(shipped[q].pages()) for q in QUESTIONNAIRES)

    ann = next(p for p in people if p.name == "Ann Executive")
    assert store.comments_of(ann.id, "commitment") == {
        "pu01": "A comment on commitment, from the browser"}
    store.close()
