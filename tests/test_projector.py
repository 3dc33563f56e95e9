"""The projector view and the public address: the code and a QR code of the join link with the
configured PUBLIC_URL, the live count, nothing confidential; the localhost warning."""

from __future__ import annotations

import asyncio
import base64
import io
import os
import re
import shutil
from pathlib import Path

import pytest
import zxingcpp
from conftest import ROOT, add_consultant, open_workshop_as
from PIL import Image
from streamlit.testing.v1 import AppTest
from test_e2e import ARGS, CHROMIUM, Server, free_port, sign_in
from test_hostile_text import HOSTILE, Page

from app_pages import common
from assessment.questionnaire import load_shipped
from assessment.store import Store

TIMEOUT = 60
PUBLIC = "http://192.168.1.20:8501"
PROJECTOR = "app_pages/projector.py"
FACILITATOR = "app_pages/facilitator.py"


@pytest.fixture
def db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("PUBLIC_URL", raising=False)
    store = Store(url)
    store.create_schema()
    yield store
    store.close()


@pytest.fixture
def room(db):
    """A workshop of one questionnaire, and another client beside it."""
    db.create_client("Other Client Ltd")
    client = db.create_client("Acme Retail")
    return db.create_workshop(client.id, "Board offsite", ["commitment"])


def signed_in(workshop_id: int, page: str = PROJECTOR) -> AppTest:
    """A consultant who may see the workshop's client has opened it, on the given page."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    store = Store(os.environ["DATABASE_URL"])  # the db fixture's database
    open_workshop_as(at, store, store.workshop(workshop_id))
    store.close()
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def shown(at: AppTest) -> str:
    """Every string the page sends to the browser (all the fields of every element), read as a
    reader sees it: without plain()'s backslashes and invisible word joiners."""
    found: list[str] = []

    def strings(message) -> None:
        for field, value in message.ListFields():
            values = value if field.is_repeated else [value]
            for v in values:
                if isinstance(v, str):
                    found.append(v)
                elif hasattr(v, "ListFields"):
                    strings(v)

    for node in at._tree:
        if getattr(node, "proto", None) is not None:
            strings(node.proto)
    return read("\n".join(found))


def read(text: str) -> str:
    """Text as the reader sees it: without plain()'s backslashes and invisible word joiners."""
    return re.sub(r"\\([!-/:-@[-`{-~])", r"\1", text).replace("\u2060", "")


def warnings(at: AppTest) -> str:
    return read(" ".join(w.value for w in at.warning))


def decoded_qr(at: AppTest) -> list[str]:
    """The texts of the QR codes in the page's images, decoded with zxing-cpp."""
    found = []
    for image in at.image:
        for url in image.value:
            assert url.startswith("data:image/png;base64,"), url[:40]
            png = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
            found += [r.text for r in zxingcpp.read_barcodes(png)]
    return found


def answer_all(db: Store, participant_id: int, how_many: int | None = None) -> None:
    q = load_shipped()["commitment"]
    rows = [(x.id, "", "3") for x in q.questions][:how_many]
    db.save_answers(participant_id, "commitment", rows)


# ---------------------------------------------------------------- the projector

def test_the_projector_needs_a_signed_in_consultant(db, room):
    workshop = room
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.run()
    at.switch_page(PROJECTOR).run()
    assert not at.exception
    assert "for consultants. Sign in first" in shown(at)
    assert "Acme Retail" not in shown(at)
    assert workshop.code not in shown(at) and not at.image


def test_the_projector_shows_the_code_and_a_qr_code_of_the_join_link_with_the_public_url(
        db, room, monkeypatch):
    monkeypatch.setenv("PUBLIC_URL", PUBLIC + "/")  # a trailing slash is fine
    workshop = room
    at = signed_in(workshop.id)
    assert workshop.code in [t.value for t in at.title]
    assert decoded_qr(at) == [f"{PUBLIC}/?join={workshop.code}"]
    assert PUBLIC in shown(at)
    assert not at.warning  # a valid public address: nothing to warn about


def test_the_page_draws_the_qr_code_that_qr_image_makes_for_the_join_link(db, room, monkeypatch):
    monkeypatch.setenv("PUBLIC_URL", "https://workshop.example.com/assess")
    workshop = room
    at = signed_in(workshop.id)
    image, _ = common.qr_image(f"https://workshop.example.com/assess/?join={workshop.code}")
    assert at.image[0].value == [image]


def test_the_projector_shows_no_other_client_and_no_names_by_default(db, room):
    workshop = room
    ann, _ = db.join(workshop.code, "Ann Zebedee", "executive")
    db.join(workshop.code, "Bob Quixote", "manager")
    answer_all(db, ann.id)
    at = signed_in(workshop.id)
    text = shown(at)
    assert "Other Client Ltd" not in text
    assert "Ann Zebedee" not in text and "Bob Quixote" not in text
    assert "Acme Retail" in text  # the room's own client: every participant sees it too
    assert not at.dataframe and not at.table and not at.metric  # no board of people or scores
    assert at.toggle(key="projector_show_names").value is False
    at.toggle(key="projector_show_names").set_value(True).run()
    text = shown(at)
    assert "Ann Zebedee" in text and "Bob Quixote" in text


def test_the_live_count_says_who_joined_who_finished_and_how_far_the_room_is(db, room):
    workshop = room
    at = signed_in(workshop.id)
    assert "Waiting for the first person to join" in shown(at)
    ann, _ = db.join(workshop.code, "Ann", "executive")
    bob, _ = db.join(workshop.code, "Bob", "manager")
    db.join(workshop.code, "Cy", "frontline")
    answer_all(db, ann.id)                 # 34 of 34
    answer_all(db, bob.id, how_many=17)    # 17 of 34
    at.run()  # what the fragment's own refresh (run_every) draws as well
    assert "3 joined · 1 finished · 50% of all answers" in shown(at)  # 51 of 102
    assert at.get("progress")[0].proto.value == 50


def test_the_facilitator_page_leads_to_the_projector(db, room):
    workshop = room
    at = signed_in(workshop.id, FACILITATOR)
    at.button(key="to_projector").click().run()
    assert not at.exception
    assert decoded_qr(at)



@pytest.mark.parametrize("hostile", HOSTILE)
def test_names_client_and_title_on_the_projector_are_shown_as_text(db, hostile):
    """The hostile strings of test_hostile_text, checked the same way on the projector."""
    client = db.create_client(f"{hostile} ZQclient")
    workshop = db.create_workshop(client.id, f"{hostile} ZQtitle", ["commitment"])
    people = [db.join(workshop.code, f"{hostile} ZQp{n}", "executive")[0] for n in range(2)]
    workshop = db.workshop(workshop.id)
    page = Page({"client name": workshop.client_name, "workshop title": workshop.title,
                 **{f"name of participant {n}": p.name for n, p in enumerate(people)}})
    at = signed_in(workshop.id)
    at.toggle(key="projector_show_names").set_value(True).run()
    page.look("projector, names shown", at)
    page.shows(workshop.client_name, "client name")
    page.shows(workshop.title, "workshop title")
    for person in people:
        page.shows(person.name, "participant's name")
    assert not page.problems, "\n".join(page.problems)


# ---------------------------------------------------------------- the public address

def test_without_public_url_on_localhost_the_facilitator_is_warned_on_both_pages(db, room):
    workshop = room
    for page in (FACILITATOR, PROJECTOR):
        at = signed_in(workshop.id, page)
        warning = warnings(at)
        assert "localhost" in warning and "PUBLIC_URL" in warning and "Network URL" in warning


def test_the_facilitator_page_shares_the_public_url(db, room, monkeypatch):
    monkeypatch.setenv("PUBLIC_URL", PUBLIC)
    workshop = room
    at = signed_in(workshop.id, FACILITATOR)
    assert f"{PUBLIC}/?join={workshop.code}" in [c.value for c in at.code]
    assert not at.warning


def test_a_bad_public_url_is_ignored_with_a_warning(db, room, monkeypatch):
    monkeypatch.setenv("PUBLIC_URL", "192.168.1.20:8501")  # no scheme
    workshop = room
    at = signed_in(workshop.id)
    assert "'192.168.1.20:8501', which is not an http" in warnings(at)
    assert decoded_qr(at) == [f"http://localhost:8501/?join={workshop.code}"]


def test_the_personal_link_uses_the_public_url(db, room, monkeypatch):
    monkeypatch.setenv("PUBLIC_URL", PUBLIC)
    workshop = room
    _, token = db.join(workshop.code, "Ann", "executive")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params["p"] = token
    at.run()
    assert not at.exception
    assert f"{PUBLIC}/?p={token}" in shown(at)


@pytest.mark.parametrize(("value", "expected"), [
    ("http://192.168.1.20:8501", "http://192.168.1.20:8501"),
    ("https://workshop.example.com/", "https://workshop.example.com"),
    ("https://example.com/assess/", "https://example.com/assess"),
    ("  http://[fe80::1]:8501  ", "http://[fe80::1]:8501"),
])
def test_public_url_accepts_http_and_https_addresses(monkeypatch, value, expected):
    monkeypatch.setenv("PUBLIC_URL", value)
    assert common.configured_public_url() == (expected, None)


@pytest.mark.parametrize("value", [
    "192.168.1.20:8501", "localhost:8501", "ftp://example.com", "javascript:alert(1)",
    "http://", "http://example.com:99999", "http://example.com/?join=X", "http://ex ample.com",
    "https://user:pass@example.com", "http://example.com/#top",
])
def test_public_url_refuses_what_is_not_an_http_address(monkeypatch, value):
    monkeypatch.setenv("PUBLIC_URL", value)
    public, problem = common.configured_public_url()
    assert public is None and "not an http:// or https:// address" in problem


def test_qr_image_is_a_png_of_the_text_at_whole_pixels_per_module():
    image, width = common.qr_image("http://192.168.1.20:8501/?join=ABCDEF")
    png = Image.open(io.BytesIO(base64.b64decode(image.split(",", 1)[1])))
    assert png.size == (width, width) and 500 <= width <= 600
    assert [r.text for r in zxingcpp.read_barcodes(png)] == ["http://192.168.1.20:8501/?join=ABCDEF"]


# ---------------------------------------------------------------- in a real browser

async def _projector_in_browser(url: str, code: str, shot: Path, database: str) -> dict:
    from playwright.async_api import async_playwright

    found = {}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = await (await browser.new_context(
            viewport={"width": 1920, "height": 1080})).new_page()
        await sign_in(page, url, "ann")
        await page.locator("[class*=st-key-open_workshop_] button").first.click()
        await page.get_by_role("button", name="Show on the projector").click()
        await page.locator(".st-key-projector-code h1").wait_for(timeout=30_000)
        await page.get_by_text("2 joined").wait_for(timeout=30_000)
        await page.wait_for_timeout(1000)
        await page.screenshot(path=shot)
        found["url"] = page.url
        found["code_px"] = await page.locator(".st-key-projector-code h1").evaluate(
            "e => parseFloat(getComputedStyle(e).fontSize)")
        found["boxes"] = [await page.locator(selector).bounding_box() for selector in (
            ".st-key-projector-code h1", "[data-testid=stImage] img",
            ".st-key-projector-count")]
        found["sidebar_right"] = await page.locator("[data-testid=stSidebar]").evaluate(
            "e => e.getBoundingClientRect().right")
        found["text"] = await page.locator("[data-testid=stMain]").inner_text()
        # someone joins: the count follows on its own, nobody touches the page
        store = Store(database)
        store.join(code, "Cy Late", "manager")
        store.close()
        await page.get_by_text("3 joined").wait_for(timeout=15_000)
        found["refreshed"] = True
        await browser.close()
    return found


@pytest.mark.e2e
def test_the_projector_in_a_browser_fits_1920x1080_and_its_qr_code_scans(tmp_path, monkeypatch):
    if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
        pytest.skip("Debian's chromium is not installed (scripts/system-deps.sh installs it)")
    monkeypatch.setenv("PUBLIC_URL", PUBLIC)
    store = Store(f"sqlite:///{tmp_path / 'projector.db'}")
    store.create_schema()
    ann = add_consultant(store, "ann")
    workshop = store.create_workshop_for(ann, store.create_client_for(ann, "Acme Retail").id,
                                         "Offsite", ["commitment"])
    for name in ("Ann Zebedee", "Bob Quixote"):
        store.join(workshop.code, name, "executive")
    store.close()
    server = Server(tmp_path / "projector.db", free_port(), tmp_path / "server.log")
    server.start()
    shot = tmp_path / "projector-1920x1080.png"
    try:
        found = asyncio.run(_projector_in_browser(server.url, workshop.code, shot,
                                                  f"sqlite:///{tmp_path / 'projector.db'}"))
    finally:
        server.stop()
        if os.environ.get("E2E_SCREENSHOTS"):
            shutil.copy(shot, os.environ["E2E_SCREENSHOTS"])

    assert found["url"].endswith(f"/projector?workshop={workshop.id}")
    # the QR code as the browser draws it, read from the screenshot, is the public join link
    assert [r.text for r in zxingcpp.read_barcodes(Image.open(shot))] == [
        f"{PUBLIC}/?join={workshop.code}"]
    assert found["code_px"] >= 150  # readable from the back of the room
    for box in found["boxes"]:  # code, QR and live count all on the one screen
        assert box and box["y"] >= 0 and box["y"] + box["height"] <= 1080
        assert box["x"] >= 0 and box["x"] + box["width"] <= 1920
    assert found["sidebar_right"] <= 0  # the navigation is folded away, off the screen
    text = found["text"]
    assert workshop.code in text and "2 joined · 0 finished · 0% of all answers" in text
    assert "Ann Zebedee" not in text and "Bob Quixote" not in text
    assert found["refreshed"]
