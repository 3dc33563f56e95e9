"""Accounts in a real browser: a reload keeps the consultant signed in through the cookie, a
signed-out session never comes back, two consultants never see each other's clients, and a
participant on a facilitator page is asked to sign in and sees no client name."""

from __future__ import annotations

import asyncio
import os
import shutil

import pytest
from conftest import add_consultant
from test_e2e import ARGS, CHROMIUM, settle, sign_in

from app_pages.common import COOKIE
from assessment.demo import DEMO_CLIENT, ensure_demo
from assessment.questionnaire import load_shipped
from assessment.store import Store

pytestmark = pytest.mark.e2e
FACILITATOR_PAGES = ["facilitator", "projector", "results", "plan", "clients", "compare",
                     "users"]


@pytest.fixture
def firm(tmp_path):
    """Two consultants with a client and a workshop each, and the demo."""
    store = Store(f"sqlite:///{tmp_path / 'e2e.db'}")
    ensure_demo(store, load_shipped())
    made = {}
    for name, client in (("ann", "Acme Ferries"), ("bob", "Bolt Mining")):
        user = add_consultant(store, name)
        owned = store.create_client_for(user, client)
        made[name] = store.create_workshop_for(user, owned.id, f"{client} offsite",
                                               ["commitment"])
    store.close()
    return made


async def main_text(page) -> str:
    return await page.locator("[data-testid=stMain]").inner_text()


async def sidebar_links(page) -> list[str]:
    return [t.strip().split("\n")[-1] for t in await page.locator(  # after the icon's name
        "[data-testid=stSidebar] [data-testid=stPageLink]").all_inner_texts()]


async def _reload_and_sign_out(url: str, shots) -> dict:
    from playwright.async_api import async_playwright

    seen = {}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        page = await context.new_page()
        await sign_in(page, url, "ann")
        # the page that set the cookie: the hidden element must take no room
        seen["title_y_setting"] = (await page.locator("[data-testid=stMain] h1").bounding_box())["y"]
        seen["cookie_box"] = await page.locator(".st-key-account_cookie").bounding_box()
        await page.screenshot(path=shots / "signed-in-cookie-set.png")
        seen["cookies"] = [c for c in await context.cookies() if c["name"] == COOKIE]
        seen["url_after_sign_in"] = page.url

        await page.reload()
        await settle(page)
        seen["after_reload"] = await main_text(page)
        seen["title_y_reloaded"] = (await page.locator("[data-testid=stMain] h1").bounding_box())["y"]
        await page.screenshot(path=shots / "signed-in-after-reload.png")
        seen["links"] = await sidebar_links(page)

        # open the workshop, reload: still open (?workshop=ID), still signed in
        await page.locator("[class*=st-key-open_workshop_] button").first.click()
        await page.get_by_text("Join link to share").wait_for(timeout=30_000)
        await page.reload()
        await settle(page)
        seen["workshop_after_reload"] = await main_text(page)
        seen["workshop_url"] = page.url

        old = seen["cookies"][0]["value"]
        await page.goto(f"{url}/account")
        await settle(page)
        await page.get_by_role("button", name="Sign out").click()
        await page.get_by_role("button", name="Sign in").wait_for(timeout=30_000)
        await settle(page)
        seen["cookies_after_sign_out"] = [c for c in await context.cookies()
                                          if c["name"] == COOKIE]

        # the old token put back into the cookie (as a thief would): refused
        await context.add_cookies([{"name": COOKIE, "value": old, "url": url}])
        await page.goto(f"{url}/facilitator")
        await settle(page)
        seen["old_token"] = await main_text(page)
        seen["old_token_links"] = await sidebar_links(page)
        await browser.close()
    return seen


def test_a_reload_keeps_the_consultant_signed_in_and_a_signed_out_session_never_returns(
        server_for, firm, tmp_path):
    server = server_for(tmp_path / "e2e.db")
    seen = asyncio.run(_reload_and_sign_out(server.url, tmp_path))
    keep(tmp_path, "signed-in-cookie-set.png", "signed-in-after-reload.png")

    (cookie,) = seen["cookies"]
    assert cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert cookie["expires"] > 0  # kept across browser restarts, for the session's lifetime
    assert cookie["value"] not in seen["url_after_sign_in"]  # nothing secret in the address
    assert seen["cookie_box"] is None  # the script's element is hidden...
    assert seen["title_y_setting"] == seen["title_y_reloaded"]  # ...and leaves no gap

    assert "Sign in first" not in seen["after_reload"]
    assert "Acme Ferries" in seen["after_reload"] and "Bolt Mining" not in seen["after_reload"]
    assert "Users" not in seen["links"] and "Facilitator" in seen["links"]
    assert "Acme Ferries offsite" in seen["workshop_after_reload"]
    assert "Join link to share" in seen["workshop_after_reload"]
    assert f"?workshop={firm['ann'].id}" in seen["workshop_url"]

    assert seen["cookies_after_sign_out"] == []
    assert "This page is for consultants. Sign in first." in seen["old_token"]
    assert "Acme Ferries" not in seen["old_token"]
    assert seen["old_token_links"] == ["Home", "Answer", "Sign in"]


async def _two_consultants(url: str, firm) -> dict:
    from playwright.async_api import async_playwright

    seen = {}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        ann = await (await browser.new_context()).new_page()
        bob = await (await browser.new_context()).new_page()
        await sign_in(ann, url, "ann")
        await sign_in(bob, url, "bob")
        seen["bob_list"] = await bob.locator("[data-testid=stSelectbox]").first.inner_text()
        await bob.locator("[data-testid=stSelectbox]").first.click()
        seen["bob_options"] = await bob.locator("[role=option]").all_inner_texts()
        await bob.keyboard.press("Escape")
        acme = firm["ann"].id
        for name in ("facilitator", "results", "plan", "projector"):
            await bob.goto(f"{url}/{name}?workshop={acme}")
            await settle(bob)
            seen[f"bob_{name}"] = await main_text(bob)
        await ann.goto(f"{url}/results?workshop={acme}")
        await settle(ann)
        seen["ann_results"] = await main_text(ann)
        await browser.close()
    return seen


def test_two_consultants_cannot_reach_each_others_clients_by_list_or_address(
        server_for, firm, tmp_path):
    server = server_for(tmp_path / "e2e.db")
    seen = asyncio.run(_two_consultants(server.url, firm))
    assert "Bolt Mining" in seen["bob_options"]
    assert f"{DEMO_CLIENT} (demo: invented data)" in seen["bob_options"]  # visible, marked
    assert not any("Acme" in o for o in seen["bob_options"])
    for name in ("facilitator", "results", "plan", "projector"):
        text = seen[f"bob_{name}"]
        assert "No workshop of yours has that id" in text, name
        assert "Acme" not in text and firm["ann"].code not in text, name
    assert "Acme Ferries offsite" in seen["ann_results"]  # the owner's own link works


async def _participant(url: str, code: str) -> dict:
    from playwright.async_api import async_playwright

    seen = {}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = await (await browser.new_context()).new_page()
        await page.goto(f"{url}/?join={code}")
        await settle(page)
        seen["links"] = await sidebar_links(page)
        for name in FACILITATOR_PAGES:
            await page.goto(f"{url}/{name}")
            await settle(page)
            seen[name] = await main_text(page)
        await browser.close()
    return seen


def test_a_participant_on_any_facilitator_page_is_asked_to_sign_in_and_sees_no_client(
        server_for, firm, tmp_path):
    server = server_for(tmp_path / "e2e.db")
    seen = asyncio.run(_participant(server.url, firm["ann"].code))
    assert seen["links"] == ["Home", "Answer", "Sign in"]
    for name in FACILITATOR_PAGES:
        text = seen[name]
        assert "Sign in first" in text, name
        assert "Acme" not in text and "Bolt" not in text and "DEMO" not in text, name


def keep(folder, *names) -> None:
    if os.environ.get("E2E_SCREENSHOTS"):
        for name in names:
            shutil.copy(folder / name, os.environ["E2E_SCREENSHOTS"])


@pytest.fixture
def server_for(tmp_path):
    """The real app on a database the test has filled."""
    from pathlib import Path

    from test_e2e import Server, free_port

    if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
        pytest.skip("Debian's chromium is not installed (scripts/system-deps.sh installs it)")
    servers = []

    def start(database):
        server = Server(database, free_port(), tmp_path / "server.log")
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
