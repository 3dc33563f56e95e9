"""Saving in a real browser: the message that says what the plan grid saved stays on the page
(the grid reruns the page once when it takes in the saved data; the message used to show for a
blink and be gone with that rerun), and the agreed-score and stop-doing forms are empty after
recording (the browser keeps its own copy of a widget's value: deleting the key on the server
left the last score, rationale and answer in the form, ready to be recorded again)."""

from __future__ import annotations

import asyncio

import pytest
from test_e2e import ARGS, CHROMIUM, server, sign_in  # noqa: F401  (the fixture)
from test_e2e_plan import PASSWORD, USER, idle

from assessment.demo import create_demo
from assessment.questionnaire import load_shipped
from assessment.store import Store

pytestmark = pytest.mark.e2e
OWNER = "Ann Okafor, CEO"


def test_the_message_after_saving_the_plan_grid_stays_on_the_page(server, tmp_path):  # noqa: F811
    store = Store(f"sqlite:///{server.database}")
    store.create_schema()
    workshop = create_demo(store, load_shipped(), read_only=False)
    store.add_user(USER, PASSWORD, admin=True)
    store.close()
    seen = asyncio.run(save_an_owner(server.url, workshop.id, tmp_path))
    store = Store(f"sqlite:///{server.database}")
    owners = [e["owner"] for e in store.plan_edits(workshop.id).values()]
    store.close()
    assert owners == [OWNER]
    assert "Saved 1 change(s)" in seen["at once"]
    assert "Saved 1 change(s)" in seen["later"], seen["later"][:2000]
    assert f"owner {OWNER}" in seen["later"]


async def save_an_owner(url: str, workshop_id: int, shots) -> dict:
    from playwright.async_api import async_playwright

    seen = {}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = await browser.new_page(viewport={"width": 1400, "height": 1000})
        await sign_in(page, url, USER, PASSWORD)
        await page.goto(f"{url}/plan?workshop={workshop_id}")
        await idle(page)
        grid = page.locator(".st-key-plan_editor")
        await grid.scroll_into_view_if_needed()
        await page.wait_for_timeout(500)
        box = await grid.bounding_box()
        # first row's Owner cell: the columns are 40 + 72 + 318 px before it, rows 35 px
        editor = page.locator("textarea.gdg-input")
        for _ in range(5):  # the grid may still be drawing on a busy machine
            await page.mouse.dblclick(box["x"] + 40 + 72 + 318 + 60, box["y"] + 36 + 18)
            try:
                await editor.wait_for(timeout=3_000)
                break
            except Exception:  # noqa: BLE001 - tried again below
                await page.wait_for_timeout(1_000)
        await editor.fill(OWNER)
        await page.keyboard.press("Enter")
        await idle(page)
        await page.get_by_role("button", name="Save plan").click()
        await page.get_by_text("Saved 1 change(s)").first.wait_for(timeout=30_000)
        seen["at once"] = (await page.inner_text("body")).replace("\u2060", "")
        await page.wait_for_timeout(3000)  # the grid's own rerun comes within a second
        await idle(page)
        seen["later"] = (await page.inner_text("body")).replace("\u2060", "")
        await page.screenshot(path=shots / "plan-saved.png")
        await browser.close()
    return seen


def test_the_agreed_score_and_decision_forms_are_empty_in_the_browser_after_recording(
        server, tmp_path):  # noqa: F811
    store = Store(f"sqlite:///{server.database}")
    store.create_schema()
    workshop = create_demo(store, load_shipped(), read_only=False)
    store.add_user(USER, PASSWORD, admin=True)
    store.close()
    seen = asyncio.run(record_both(server.url, workshop.id, tmp_path))
    store = Store(f"sqlite:///{server.database}")
    agreed, decisions = store.agreed_scores(workshop.id), store.decisions(workshop.id)
    store.close()
    assert list(agreed["rationale"]) == ["Feedback exists but drives no decisions."]
    assert [d.owner for d in decisions] == ["COO"]
    assert seen == {"score": "", "rationale": "", "source": "", "owner": "", "decision": ""}


async def record_both(url: str, workshop_id: int, shots) -> dict:
    from playwright.async_api import async_playwright

    seen = {}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = await browser.new_page(viewport={"width": 1400, "height": 1000})
        await sign_in(page, url, USER, PASSWORD)
        await page.goto(f"{url}/results?workshop={workshop_id}")
        await idle(page)
        await page.locator(".st-key-agree_value input").fill("2.5")
        await page.locator(".st-key-agree_rationale textarea").fill(
            "Feedback exists but drives no decisions.")
        await page.get_by_role("button", name="Record agreed score").click()
        await page.get_by_text("Recorded 2.5").wait_for(timeout=30_000)
        await idle(page)
        seen["score"] = await page.locator(".st-key-agree_value input").input_value()
        seen["rationale"] = await page.locator(".st-key-agree_rationale textarea").input_value()

        await page.goto(f"{url}/plan?workshop={workshop_id}")
        await idle(page)
        source = page.locator(".st-key-decision_source input")
        await source.scroll_into_view_if_needed()
        await source.click()
        await page.get_by_role("option").nth(1).click()  # the first participant's answer
        await idle(page)
        await page.locator(".st-key-decision_owner input").fill("COO")
        await page.get_by_role("button", name="Record the decision").click()
        await page.get_by_text("Recorded the decision").wait_for(timeout=30_000)
        await idle(page)
        seen["source"] = await source.input_value()
        seen["owner"] = await page.locator(".st-key-decision_owner input").input_value()
        seen["decision"] = await page.locator("[class*=st-key-decision_text_] textarea"
                                              ).input_value()
        await page.screenshot(path=shots / "decision-recorded.png")
        await browser.close()
    return seen
