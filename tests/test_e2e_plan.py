"""The plan page in a real browser at 1,400 px (issue 10): the grid shows Action, Owner, Due,
Status and Notes without sideways scrolling, and applying an uploaded workbook says what it
applied (never "the workbook holds no changes" right after applying them)."""

from __future__ import annotations

import asyncio

import openpyxl
import pytest
from test_deliverable import SHIPPED, workshop_report
from test_e2e import ARGS, CHROMIUM, server, sign_in  # noqa: F401  (the fixture)
from test_export import col

from assessment.demo import create_demo
from assessment.export import save_workbook
from assessment.store import Store

pytestmark = pytest.mark.e2e
USER, PASSWORD = "consultant", "correct horse battery staple"


async def idle(page) -> None:
    await page.wait_for_selector("[data-testid=stApp][data-test-connection-state=CONNECTED]",
                                 timeout=60_000)
    await page.wait_for_timeout(500)
    await page.wait_for_selector("[data-test-script-state=notRunning]", timeout=90_000)
    await page.wait_for_timeout(500)


def test_the_plan_grid_fits_1400_px_and_an_applied_upload_says_what_it_applied(
        server, tmp_path):  # noqa: F811
    store = Store(f"sqlite:///{server.database}")
    store.create_schema()  # as the app does when it opens the store
    workshop = create_demo(store, SHIPPED, read_only=False)
    store.add_user(USER, PASSWORD, admin=True)  # the first admin is given every client
    report, plan = workshop_report(store, workshop)
    edited = tmp_path / "edited.xlsx"
    save_workbook(report, edited)
    store.close()
    wb = openpyxl.load_workbook(edited)
    wb["Action plan"][f"{col('Owner')}2"] = "Dana (COO)"
    wb["Action plan"][f"{col('Notes')}3"] = "Board signs off in March"
    wb.save(edited)
    seen = asyncio.run(browse(server.url, workshop.id, edited, tmp_path))
    scroll, client = seen["grid"]
    assert scroll <= client, seen  # no sideways scrolling
    assert seen["headers"] == ["#", "Tier", "Action", "Owner", "Due", "Status", "Notes"]
    assert seen["diff"] and not seen["no_changes_before"]
    assert (f"Applied 2 change(s): '{plan['action'].iloc[0]}': owner Dana (COO); "
            f"'{plan['action'].iloc[1]}': notes Board signs off in March.") in seen["after"]
    assert "holds no changes" not in seen["after"]


async def browse(url: str, workshop_id: int, edited, shots) -> dict:
    from playwright.async_api import async_playwright

    seen = {}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = await browser.new_page(viewport={"width": 1400, "height": 1000})
        await sign_in(page, url, USER, PASSWORD)
        await page.goto(f"{url}/plan?workshop={workshop_id}")
        await idle(page)
        grid = page.locator(".st-key-plan_editor [data-testid=stDataFrame], "
                            "[data-testid=stDataFrame]").nth(1)
        await grid.scroll_into_view_if_needed()
        seen["grid"] = await grid.evaluate(
            "el => { const s = el.querySelector('.dvn-scroller');"
            " return [s.scrollWidth, s.clientWidth] }")
        # The grid draws on a canvas and fills its accessible table a moment later.
        for _ in range(40):
            seen["headers"] = await grid.evaluate(
                "el => [...el.querySelectorAll('th')].map(t => t.textContent.trim())")
            if seen["headers"]:
                break
            await page.wait_for_timeout(250)
        await page.screenshot(path=shots / "plan-grid-1400.png")
        await page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(
            str(edited))
        await idle(page)
        body = await page.inner_text("body")
        seen["diff"] = "Apply 2 change(s)" in body
        seen["no_changes_before"] = "holds no changes" in body
        await page.get_by_role("button", name="Apply 2 change(s)").click()
        await idle(page)
        seen["after"] = (await page.inner_text("body")).replace("\u2060", "")
        await page.screenshot(path=shots / "plan-applied.png", full_page=True)
        await browser.close()
    return seen
