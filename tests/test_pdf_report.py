"""The PDF report (issue 10, item 7), read back with pypdf: what a CEO receives after the workshop."""

from __future__ import annotations

import dataclasses
import io
import re
import subprocess
import sys

import pandas as pd
import pytest
from conftest import ROOT, open_workshop_as
from pypdf import PdfReader

from assessment.actions import load_actions
from assessment.demo import create_demo
from assessment.model import Decision
from assessment.pdf_report import (
    MISSING,
    PdfError,
    clean,
    error_pdf,
    output_problem,
    pdf_bytes,
    save_pdf,
    score_text,
)
from assessment.questionnaire import load_shipped
from assessment.store import Store

SHIPPED = load_shipped()


def pages_and_text(data: bytes) -> tuple[int, str]:
    """The page count and the text, whitespace runs as one space (table cells wrap lines)."""
    reader = PdfReader(io.BytesIO(data))
    text = " ".join(page.extract_text() for page in reader.pages)
    return len(reader.pages), re.sub(r"\s+", " ", text)


def workshop_report(store: Store, workshop):
    from app_pages.report_download import workshop_report as build

    library = load_actions(dimensions={d.id for q in SHIPPED.values() for d in q.dimensions})
    return build(store, workshop, SHIPPED, library)


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory):
    """The demo workshop's report (SQLite), built once for the tests that vary it."""
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('pdf') / 'demo.db'}", questionnaires=SHIPPED)
    store.create_schema()
    workshop = create_demo(store, SHIPPED, read_only=False)
    report = workshop_report(store, workshop)
    store.close()
    return report


def with_texts(report, text: str, decisions: int = 3):
    """Every user text of the report replaced by `text`: client, title, rationale of every
    dimension (each agreed), every action's title, why and owner, and the decisions."""
    scores = report.scores.copy()
    dims = scores["dimension"] != "overall"
    scores.loc[dims, "agreed_score"] = 2.0
    scores.loc[dims, "rationale"] = text
    plan = report.plan.assign(action=[f"{text} {i}" for i in range(len(report.plan))],
                              why=text, owner=text)
    return dataclasses.replace(report, client=text, title=text, scores=scores, plan=plan,
                               decisions=[Decision(text, text)] * decisions)


# ---------------------------------------------------------------- the acceptance

@pytest.mark.postgres
def test_the_report_names_client_dimensions_priorities_agreed_scores_and_decisions(store):
    workshop = create_demo(store, SHIPPED, read_only=False)
    computed = workshop_report(store, workshop).scores.set_index("dimension").loc[
        "leadership", "score"]
    assert computed > 2.6  # the demo's leadership scores above what the team will agree
    store.record_agreed_score(workshop.id, "commitment", "leadership", 2.6,
                              "Talk exceeds action: no customer days yet.", computed)
    store.add_decision(workshop.id, "Stop measuring call handling time as the main target.",
                       owner="COO")
    report = workshop_report(store, workshop)

    data = pdf_bytes(report, SHIPPED)
    pages, text = pages_and_text(data)

    assert 1 <= pages <= 3
    assert report.client in text
    for name in report.scores.loc[report.scores["dimension"] != "overall", "name"]:
        assert name in text
    priorities = report.plan[report.plan["tier"] == "Priority"]
    assert 1 <= len(priorities) <= 5
    for action in priorities["action"]:
        assert action in text
    for owner in priorities["owner"]:
        assert owner in text
    assert f"agreed 2.6 computed {computed:.2f}" in text
    assert "Talk exceeds action: no customer days yet." in text
    assert "Stop measuring call handling time as the main target. (owner: COO)" in text
    # A participant's raw answer is an input, not a decision.
    assert "Stop launching product bundles nobody asked for." not in text


def test_the_plan_uses_the_agreed_score_and_the_pdf_says_so(demo_report):
    scores = demo_report.scores.copy()
    row = scores.index[scores["dimension"] == "people"][0]
    scores.loc[row, ["agreed_score", "score", "rationale"]] = [2.0, 2.0, "Promotions ignore it."]
    report = dataclasses.replace(demo_report, scores=scores)

    _, text = pages_and_text(pdf_bytes(report, SHIPPED))

    computed = scores.loc[row, "computed_score"]
    assert f"People and capability agreed 2.0 computed {computed:.2f}" in text
    assert "Promotions ignore it." in text


def blue_runs(image) -> int:
    """How many separate horizontal bands of the bars' blue (#1f4e79) an image holds."""
    import numpy as np

    pixels = np.asarray(image.convert("RGB")).astype(int)
    share = (np.abs(pixels - [31, 78, 121]).sum(axis=2) < 30).mean(axis=1)
    rows = (share > 0.05).astype(int)
    return int((np.diff(rows) == 1).sum() + rows[0])


def test_the_chart_shows_a_bar_per_dimension_and_every_page_renders(demo_report):
    """The chart, taken out of page one, has one bar per dimension; PDFium (Chrome's PDF
    engine) renders every page."""
    import pypdfium2 as pdfium

    data = pdf_bytes(demo_report, SHIPPED)
    images = PdfReader(io.BytesIO(data)).pages[0].images
    assert len(images) == 1
    dimensions = (demo_report.scores["dimension"] != "overall").sum()
    assert blue_runs(images[0].image) == dimensions
    document = pdfium.PdfDocument(data)
    try:
        for page in document:
            rendered = page.render(scale=0.5).to_pil().convert("L")
            assert rendered.getextrema()[0] < 100  # something dark is drawn on every page
    finally:
        document.close()


def test_a_benchmark_chosen_is_named_and_none_chosen_is_said(demo_report):
    _, text = pages_and_text(pdf_bytes(demo_report, SHIPPED))
    assert "Benchmark: none chosen" in text
    scores = demo_report.scores.assign(benchmark_median=3.1)
    report = dataclasses.replace(demo_report, scores=scores,
                                 benchmark_line="Synthetic benchmark (illustration only)")
    _, text = pages_and_text(pdf_bytes(report, SHIPPED))
    assert "Benchmark: Synthetic benchmark (illustration only)" in text
    assert "Orange mark: the benchmark median." in text


# ---------------------------------------------------------------- hostile text

HOSTILE = {  # id: (text, what of it the PDF shows)
    "markdown and html": ("**Acme** [click](http://evil.example) ![x](http://evil.example/i.png) "
                          "<b>bold</b> # heading", "**Acme** [click](http://evil.example)"),
    "control characters": ("Acme\x00\x07\x1b[31m\u202eevil\u200b\r\n\tLtd\x7f", "Acme[31mevil Ltd"),
    "very long": ("Acme " + "Überlange-Firmenbezeichnung-ohne-Leerzeichen" * 60 + " end" * 2000,
                  "Acme Überlange-Firmen"),
    "CJK": ("Zürich Ωmega 密码株式会社", f"Zürich Ωmega {MISSING * 6}"),
    "right to left": ("شركة الاتصالات עברית בע״מ", "ת"),
    "emoji": ("Acme 😀🚀 👩\u200d💻", f"Acme 😀{MISSING}"),  # no rocket in DejaVu Sans
}


@pytest.mark.parametrize(("text", "shown"), HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_text_everywhere_neither_crashes_nor_passes_three_pages(demo_report, text,
                                                                        shown):
    report = with_texts(demo_report, text, decisions=40)

    pages, extracted = pages_and_text(pdf_bytes(report, SHIPPED))

    assert 1 <= pages <= 3
    assert shown in extracted


def test_a_client_name_with_a_lone_surrogate_prints_without_it(demo_report):
    """As a command-line argument with undecodable bytes arrives."""
    report = dataclasses.replace(demo_report, client="Acme \udcff Ltd")
    _, text = pages_and_text(pdf_bytes(report, SHIPPED))
    assert "Acme Ltd" in text


def test_user_text_is_printed_as_typed_never_read_as_markup(demo_report):
    report = dataclasses.replace(demo_report, client="**Acme** <b>Ltd</b> [x](http://e.example)")
    _, text = pages_and_text(pdf_bytes(report, SHIPPED))
    assert "**Acme** <b>Ltd</b> [x](http://e.example)" in text


def test_characters_the_font_lacks_are_replaced_visibly_and_the_rest_kept():
    assert clean("Zürich Ωmega 密码 😀") == f"Zürich Ωmega {MISSING}{MISSING} 😀"
    assert clean("a\x00b\u202ec\n\td") == "abc d"
    assert clean("x" * 50, 10) == "x" * 9 + "…"


@pytest.mark.parametrize(("value", "agreed", "shown"), [
    (3.2381, False, "3.24"), (2.6, True, "2.6"), (2.6, False, "2.60"), (2.65, True, "2.65"),
    (None, False, "—"),
])
def test_scores_read_as_people_say_them(value, agreed, shown):
    assert score_text(value, agreed) == shown


# ---------------------------------------------------------------- a long plan

def test_a_plan_of_many_actions_fits_three_pages_with_the_backlog_summarised(demo_report):
    many = pd.concat([demo_report.plan] * 8, ignore_index=True)
    many["priority"] = range(1, len(many) + 1)
    many["action"] = [f"Action number {i}" for i in range(1, len(many) + 1)]
    many["tier"] = ["Priority"] * 5 + ["Backlog"] * (len(many) - 9) + ["Dropped"] * 4
    report = dataclasses.replace(demo_report, plan=many)

    pages, text = pages_and_text(pdf_bytes(report, SHIPPED))

    assert pages <= 3
    for i in range(1, 6):
        assert f"Action number {i} " in text
    assert f"Backlog: {len(many) - 9} further actions" in text
    assert "Dropped: 4 actions" in text
    assert "Action number 200 " not in text  # the backlog is summarised, not listed


def test_five_times_the_dimensions_with_long_texts_everywhere_still_fit_three_pages(
        demo_report):
    """The smallest budget: a questionnaire of 45 dimensions, every text 4,000 characters."""
    report = with_texts(demo_report, "Long " + "words " * 700, decisions=500)
    dimensions = report.scores[report.scores["dimension"] != "overall"]
    many = pd.concat([dimensions] * 5, ignore_index=True)
    many["name"] = [f"Dimension {i} " + "named at length " * 6 for i in range(len(many))]
    scores = pd.concat([many, report.scores[report.scores["dimension"] == "overall"]],
                       ignore_index=True)
    plan = report.plan.assign(tier="Priority")
    report = dataclasses.replace(report, scores=scores, plan=plan)

    pages, text = pages_and_text(pdf_bytes(report, SHIPPED))

    assert pages <= 3
    for i in range(len(many)):
        assert f"Dimension {i} " in text


def test_more_priorities_than_fit_are_counted_not_dropped_silently(demo_report):
    plan = demo_report.plan.assign(tier="Priority")
    report = dataclasses.replace(demo_report, plan=plan)
    pages, text = pages_and_text(pdf_bytes(report, SHIPPED))
    assert pages <= 3
    assert re.search(r"…and \d+ more priorities, listed in the workbook", text)


def test_a_plan_with_nothing_to_do_says_so(demo_report):
    report = dataclasses.replace(demo_report, plan=demo_report.plan.iloc[0:0], decisions=[])
    pages, text = pages_and_text(pdf_bytes(report, SHIPPED))
    assert pages == 1
    assert "No priorities: every dimension has reached its target." in text
    assert "No stop-doing decisions recorded yet." in text


def test_a_report_that_cannot_be_made_downloads_as_a_page_saying_so():
    pages, text = pages_and_text(error_pdf("The report could not be made (KeyError)."))
    assert pages == 1
    assert "The report could not be made (KeyError)." in text


# ---------------------------------------------------------------- writing the file

def test_save_pdf_writes_the_whole_file_and_leaves_no_temporary_one(demo_report, tmp_path):
    target = tmp_path / "report.pdf"
    target.write_bytes(b"an older report")
    save_pdf(demo_report, target, SHIPPED)
    assert target.read_bytes().startswith(b"%PDF-")
    assert [p.name for p in tmp_path.iterdir()] == ["report.pdf"]


def test_save_pdf_into_a_missing_folder_raises_a_named_error(demo_report, tmp_path):
    target = tmp_path / "gone" / "report.pdf"
    with pytest.raises(PdfError, match="cannot write the PDF there") as caught:
        save_pdf(demo_report, target, SHIPPED)
    assert caught.value.path == str(target)


@pytest.mark.parametrize(("name", "problem"), [
    ("gone/report.pdf", "does not exist"), ("", "not a file name"), ("folder", "is a folder"),
    ("report.pdf", ""),
])
def test_output_problems_are_found_before_writing(tmp_path, name, problem):
    (tmp_path / "folder").mkdir()
    found = output_problem(tmp_path / name if name else "")
    assert (problem in found) if problem else found == ""


# ---------------------------------------------------------------- the command line

def run(*args):
    return subprocess.run([sys.executable, "-m", "assessment", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def responses(tmp_path_factory):
    """A filled answer file for the commitment questionnaire: three executives."""
    template = pd.read_csv(io.StringIO(run("template", "commitment").stdout), dtype=str,
                           keep_default_na=False)
    frames = []
    for person, value in (("ann", "2"), ("bob", "3"), ("cy", "4")):
        frame = template.assign(assessment="Board", respondent=person, role="executive")
        frame.loc[frame["type"].isin(["level", "likert"]), "value"] = value
        frames.append(frame)
    path = tmp_path_factory.mktemp("cli") / "answers.csv"
    pd.concat(frames).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("with_workbook", [False, True], ids=["pdf alone", "pdf and xlsx"])
def test_plan_writes_the_pdf_alone_or_with_the_workbook(responses, tmp_path, with_workbook):
    pdf = tmp_path / "report.pdf"
    xlsx = tmp_path / "plan.xlsx"
    extra = ["--xlsx", xlsx] if with_workbook else []
    result = run("plan", "commitment", responses, "--pdf", pdf, "--client", "Zürich Ωmega 密码",
                 *extra)
    assert result.returncode == 0, result.stderr
    pages, text = pages_and_text(pdf.read_bytes())
    assert 1 <= pages <= 3
    assert "Zürich Ωmega" in text
    for dimension in SHIPPED["commitment"].dimensions:
        assert dimension.name in text
    assert xlsx.exists() is with_workbook
    assert sorted(p.name for p in tmp_path.iterdir()) == (["plan.xlsx", "report.pdf"]
                                                         if with_workbook else ["report.pdf"])


@pytest.mark.parametrize(("target", "message"), [
    ("gone/report.pdf", "does not exist"), (".", "is a folder"),
])
def test_plan_to_a_bad_path_says_so_and_writes_nothing(responses, tmp_path, target, message):
    xlsx = tmp_path / "plan.xlsx"
    result = run("plan", "commitment", responses, "--pdf", tmp_path / target, "--xlsx", xlsx)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not xlsx.exists()


def test_plan_asks_for_a_workbook_or_a_pdf(responses):
    result = run("plan", "commitment", responses)
    assert result.returncode == 2
    assert "--xlsx OUT, --pdf OUT or both" in result.stderr


# ---------------------------------------------------------------- the app

@pytest.mark.parametrize("page", ["app_pages/plan.py", "app_pages/results.py"])
def test_the_plan_and_results_pages_offer_the_pdf(db, page):
    from streamlit.testing.v1 import AppTest

    workshop = create_demo(db, SHIPPED)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    open_workshop_as(at, db, workshop)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    buttons = [b for b in at.get("download_button") if b.proto.label == "Download the report (PDF)"]
    assert len(buttons) == 1
    assert buttons[0].proto.ignore_rerun  # a click downloads; the page does not run again


# ---------------------------------------------------------------- in a real browser

HARNESS = """
import sys
sys.path.insert(0, {root!r})
import streamlit as st
from app_pages.common import open_store
from app_pages.report_download import pdf_download
store = open_store()
st.title("PDF")
pdf_download(store, store.workshops()[0], key="pdf")
"""


@pytest.mark.e2e
def test_the_download_button_gives_the_pdf_in_a_real_browser(tmp_path):
    """Streamlit runs the deferred download on its own thread when the button is clicked: the
    browser receives the PDF, made from the store, named after the client and the date."""
    import os
    import socket
    import time
    import urllib.request

    from playwright.sync_api import sync_playwright

    chromium = "/usr/bin/chromium"
    if not os.path.exists(chromium) and not os.environ.get("CI"):
        pytest.skip("Debian's chromium is not installed (scripts/system-deps.sh installs it)")
    database = tmp_path / "e2e.db"
    store = Store(f"sqlite:///{database}", questionnaires=SHIPPED)
    store.create_schema()
    create_demo(store, SHIPPED)
    store.close()
    script = tmp_path / "harness.py"
    script.write_text(HARNESS.format(root=str(ROOT)))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}",
           "STREAMLIT_SERVER_PORT": str(port), "STREAMLIT_SERVER_ADDRESS": "127.0.0.1",
           "STREAMLIT_SERVER_HEADLESS": "true"}
    log = tmp_path / "server.log"
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(script)], cwd=ROOT,
                              env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()[-2000:]
                time.sleep(0.3)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"])
            page = browser.new_page(accept_downloads=True)
            page.goto(url)
            button = page.get_by_role("button", name="Download the report (PDF)")
            button.wait_for(timeout=60_000)
            with page.expect_download(timeout=60_000) as caught:
                button.click()
            download = caught.value
            path = tmp_path / download.suggested_filename
            download.save_as(path)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert re.fullmatch(r"DEMO-Northwind-Utilities-sample-data-\d{4}-\d\d-\d\d-report\.pdf",
                        path.name)
    pages, text = pages_and_text(path.read_bytes())
    assert 1 <= pages <= 3
    assert "DEMO · Northwind Utilities (sample data)" in text


def test_plan_leaves_neither_file_when_its_workbook_cannot_be_reopened(responses, tmp_path,
                                                                        monkeypatch, capsys):
    from assessment import cli
    from assessment import export as export_module

    real = export_module.workbook

    def broken(report):  # as if something slipped past the cleaning (see test_hostile_files)
        wb = real(report)
        wb.properties.title = "A\x0bB"
        return wb

    monkeypatch.setattr(export_module, "workbook", broken)
    code = cli.main(["plan", "commitment", str(responses), "--xlsx", str(tmp_path / "plan.xlsx"),
                     "--pdf", str(tmp_path / "report.pdf")])
    assert code == 1
    assert "the workbook written cannot be opened again" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
