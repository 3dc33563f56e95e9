"""Hostile files: uploads are bounded before they are parsed, exports never hold what a
workbook cannot.

The zip bombs are built here, streamed, so the test itself stays small in memory; time and
memory are measured in a fresh process (earlier tests do not pollute it), with the address space
capped so that a reader that does try to expand a bomb fails instead of taking the machine.
"""

from __future__ import annotations

import io
import json
import os
import re
import resource
import struct
import subprocess
import sys
import threading
import time
import zipfile
from datetime import date

import openpyxl
import pandas as pd
import pytest
from conftest import ROOT
from test_planning import DIMENSIONS, LIBRARY, SHIPPED

from assessment import cli
from assessment import export as export_module
from assessment.actions import load_actions
from assessment.export import SHEETS, WorkbookError, read_plan, save_workbook, workbook_bytes
from assessment.report import build_report, score_file
from assessment.responses import ResponsesError, load_answers, parse_answers
from assessment.uploads import CSV, UPLOAD, WORKBOOK, UploadError, check_csv, check_xlsx

MB = 1_000_000
REFERENCE = "workshop 1 (ABCDEF)"
SHEET = "xl/worksheets/sheet1.xml"
HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet '
        b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
FOOT = b"</sheetData></worksheet>"
HEADER_ROW = (b'<row r="1"><c r="A1" t="inlineStr"><is><t>respondent</t></is></c>'
              b'<c r="B1" t="inlineStr"><is><t>question</t></is></c>'
              b'<c r="C1" t="inlineStr"><is><t>value</t></is></c></row>')
TINY_ROW = b"<row><c><v>1</v></c></row>"   # 26 bytes: deflate packs it about 400 to 1
ADDRESS_SPACE = 4 << 30                    # a reader that expands a bomb fails, not the machine


# ---------------------------------------------------------------- building hostile workbooks

def template(sheets: int = 1) -> bytes:
    """A real workbook from openpyxl, whose first worksheet the tests replace."""
    wb = openpyxl.Workbook()
    wb.active.title = "Action plan"
    for i in range(1, sheets):
        wb.create_sheet(f"Sheet {i + 1}")
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def write_xlsx(path, chunks, sheets: int = 1, extra: dict[str, bytes] | None = None,
               declared: int | None = None, method: int = zipfile.ZIP_DEFLATED):
    """Write a workbook whose first worksheet is the XML in `chunks`, streamed into the zip.

    `declared` rewrites the worksheet's uncompressed size in both zip headers: a lying header.
    """
    source = zipfile.ZipFile(io.BytesIO(template(sheets)))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            if info.filename == SHEET:
                member = zipfile.ZipInfo(SHEET, date_time=info.date_time)
                member.compress_type = zipfile.ZIP_DEFLATED
                with out.open(member, "w") as f:
                    for chunk in chunks:
                        f.write(chunk)
            else:
                out.writestr(info, source.read(info.filename))
        for name, data in (extra or {}).items():
            out.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    if declared is not None:
        lie_about_size(path, SHEET, declared)
    return path


def lie_about_size(path, member: str, declared: int) -> None:
    """Rewrite a member's uncompressed size in its local header and in the central directory."""
    data = bytearray(path.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    count, _, start = struct.unpack_from("<HII", data, end + 10)
    at = start
    for _ in range(count):
        assert data[at:at + 4] == b"PK\x01\x02"
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, at + 28)
        local = struct.unpack_from("<I", data, at + 42)[0]
        if data[at + 46:at + 46 + name_len] == member.encode():
            struct.pack_into("<I", data, at + 24, declared)
            struct.pack_into("<I", data, local + 22, declared)
        at += 46 + name_len + extra_len + comment_len
    path.write_bytes(bytes(data))


def repeated(row: bytes, total: int, head: bytes = HEAD + HEADER_ROW):
    """Sheet XML of about `total` bytes: the head, then `row` again and again, 1 MB at a time."""
    block = row * (MB // len(row))
    yield head
    for _ in range(total // len(block)):
        yield block
    yield FOOT


def one_long_text(total: int):
    """Sheet XML whose second row holds one text cell of `total` bytes."""
    yield HEAD + HEADER_ROW + b'<row r="2"><c r="A2" t="inlineStr"><is><t>'
    block = b"a" * MB
    for _ in range(total // MB):
        yield block
    yield b"</t></is></c></row>" + FOOT


@pytest.fixture(scope="session")
def bombs(tmp_path_factory):
    """Workbooks under 1 MB that expand to 300 MB: honest headers, and headers that lie."""
    folder = tmp_path_factory.mktemp("bombs")
    made = {
        "honest": write_xlsx(folder / "bomb.xlsx", repeated(TINY_ROW, 300 * MB)),
        "lying rows": write_xlsx(folder / "lying-rows.xlsx", repeated(TINY_ROW, 300 * MB),
                                 declared=30 * MB),
        "lying text": write_xlsx(folder / "lying-text.xlsx", one_long_text(300 * MB),
                                 declared=30 * MB),
    }
    for path in made.values():
        assert path.stat().st_size < MB, path
    return made


@pytest.fixture
def responses_xlsx(tmp_path):
    frame = pd.DataFrame({"respondent": ["ann", "bob"], "question": ["q1", "q1"],
                          "value": ["4", "2"]})
    path = tmp_path / "answers.xlsx"
    frame.to_excel(path, index=False)
    return path


# ---------------------------------------------------------------- measuring in a fresh process

PROBE = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
import openpyxl  # imported before measuring: what is measured is reading the file
from assessment.export import WorkbookError, read_plan
from assessment.questionnaire import load_questionnaire
from assessment.responses import ResponsesError, load_answers

reader, path = sys.argv[2], Path(sys.argv[3])
q = load_questionnaire(sys.argv[4])
data = path.read_bytes()

def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024

try:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # the peak resident size counts from here
except OSError:
    pass
before = status("VmRSS")
started = time.perf_counter()
try:
    if reader == "read_plan":
        read_plan(data, "workshop 1 (ABCDEF)", name=path.name)
    else:
        load_answers(path, q)
    outcome = "accepted"
except (WorkbookError, ResponsesError) as e:
    outcome = str(e)
except MemoryError:
    outcome = "MemoryError"
seconds = time.perf_counter() - started
print(json.dumps({"outcome": outcome, "seconds": seconds, "growth": status("VmHWM") - before}))
"""


def cap_address_space():
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def probe(reader: str, path, questionnaire) -> dict:
    result = subprocess.run([sys.executable, "-c", PROBE, str(ROOT), reader, str(path),
                             str(questionnaire)], capture_output=True, text=True, timeout=120,
                            preexec_fn=cap_address_space)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def run_measured(*args, timeout: float = 120):
    """python -m assessment ARGS: (exit code, stderr, seconds, peak resident bytes)."""
    out = io.StringIO()
    with open(os.devnull, "w") as devnull, \
            subprocess.Popen([sys.executable, "-m", "assessment", *map(str, args)], cwd=ROOT,
                             stdout=devnull, stderr=subprocess.PIPE,
                             preexec_fn=cap_address_space) as proc:
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        started = time.perf_counter()
        reader = threading.Thread(target=lambda: out.write(proc.stderr.read().decode()))
        reader.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        timer.cancel()
        reader.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, out.getvalue(), seconds, usage.ru_maxrss * 1024


# ---------------------------------------------------------------- zip bombs

BOMBS = [
    # bomb,        read_plan says,                                   load_answers says
    ("honest", r"expands to 300(\.\d)? MB; the limit is 50 MB", r"expands to 300(\.\d)? MB; the limit is 200 MB"),
    ("lying rows", r"more than 200,000 rows|does not match its header", r"more than 200,000 rows|does not match its header"),
    ("lying text", r"damaged: its part xl/worksheets/sheet1.xml does not match its header",
     r"damaged: its part xl/worksheets/sheet1.xml does not match its header"),
]


@pytest.mark.parametrize("reader", ["read_plan", "load_answers"])
@pytest.mark.parametrize(("bomb", "plan_message", "answers_message"), BOMBS)
def test_a_zip_bomb_workbook_is_refused_in_under_2_s_with_under_100_mb_more_memory(
        bombs, mini_path, reader, bomb, plan_message, answers_message):
    path = bombs[bomb]
    measured = probe(reader, path, mini_path)
    print(f"{reader} {bomb}: {measured['seconds']:.3f} s, "
          f"+{measured['growth'] / MB:.1f} MB: {measured['outcome']}")
    assert measured["outcome"] != "accepted"
    assert re.search(plan_message if reader == "read_plan" else answers_message,
                     measured["outcome"]), measured["outcome"]
    assert path.name in measured["outcome"]
    assert measured["seconds"] < 2
    assert measured["growth"] < 100 * MB


@pytest.mark.parametrize(("bomb", "message"), [
    ("honest", "expands to 300"),
    ("lying text", "does not match its header"),
])
def test_the_score_command_refuses_a_zip_bomb_with_exit_1_fast_and_in_little_memory(
        bombs, mini_path, responses_xlsx, bomb, message):
    # The same command on a small valid workbook is the baseline: starting Python and importing
    # the libraries is not the refusal's cost.
    code, _, base_seconds, base_peak = run_measured("score", mini_path, responses_xlsx)
    assert code == 0
    code, stderr, seconds, peak = run_measured("score", mini_path, bombs[bomb])
    print(f"score {bomb}: {seconds:.3f} s (valid file {base_seconds:.3f} s), peak "
          f"{peak / MB:.0f} MB (valid file {base_peak / MB:.0f} MB): {stderr.strip()}")
    assert code == 1
    assert message in stderr and bombs[bomb].name in stderr
    assert "Traceback" not in stderr
    assert seconds - base_seconds < 2
    assert peak - base_peak < 100 * MB


def test_a_bomb_is_refused_from_its_headers_before_anything_is_decompressed(bombs):
    with pytest.raises(UploadError) as caught:
        check_xlsx(bombs["honest"], "bomb.xlsx", UPLOAD)
    assert str(caught.value).startswith("bomb.xlsx: the workbook expands to 300")
    assert caught.value.limit == "expanded_bytes" and caught.value.allowed == 50 * MB
    assert caught.value.value > 300 * MB


# ---------------------------------------------------------------- other limits of a workbook

def many_cells_in_one_row(n: int):
    yield HEAD + HEADER_ROW + b"<row>" + b"<c><v>1</v></c>" * n + b"</row>" + FOOT


def far_cell():
    yield HEAD + HEADER_ROW + b'<row r="2"><c r="AZ2"><v>1</v></c></row>' + FOOT


def far_row():
    yield HEAD + HEADER_ROW + b'<row r="1000000"><c r="A1000000"><v>1</v></c></row>' + FOOT


def stated_dimension():
    yield HEAD.replace(b"<sheetData>", b'<dimension ref="A1:XFD1048576"/><sheetData>') + \
        HEADER_ROW + FOOT


def with_doctype():
    yield HEAD.replace(b"<worksheet", b"<!DOCTYPE worksheet [<!ENTITY a 'b'>]><worksheet") + \
        HEADER_ROW + FOOT


def plain():
    yield HEAD + HEADER_ROW + FOOT


REFUSED = [
    # what the file holds,              how it is made,                                   message
    ("21 sheets", lambda p: write_xlsx(p, plain(), sheets=21), r"more than 20 sheets"),
    ("a row of 60 cells", lambda p: write_xlsx(p, many_cells_in_one_row(60)),
     r"a row of at least 60 cells; the limit is 50 columns"),
    ("a cell in column AZ", lambda p: write_xlsx(p, far_cell()), r"column AZ \(column 52\)"),
    ("row number 1,000,000", lambda p: write_xlsx(p, far_row()),
     r"row 1,000,000 reached\); the limit is 200,000"),
    ("a stated size of the whole sheet", lambda p: write_xlsx(p, stated_dimension()),
     r"spans 1,048,576 rows \(A1:XFD1048576\)"),
    ("a DTD with an entity", lambda p: write_xlsx(p, with_doctype()), r"declares a DTD"),
    ("201 parts", lambda p: write_xlsx(p, plain(), extra={f"xl/media/i{i}.bin": b"x"
                                                          for i in range(192)}),
     r"holds 201 parts; the limit is 200"),
    ("a styles part of 12 MB", lambda p: write_xlsx(p, plain(), extra={
        "xl/custom.xml": b"<a>" + b" " * 12 * MB + b"</a>"}),
     r"its part xl/custom.xml expands to 12 MB; the limit is 10 MB"),
]


@pytest.mark.parametrize(("holds", "make", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_a_workbook_past_a_limit_is_refused_by_the_plan_upload_naming_the_limit(
        tmp_path, holds, make, message):
    path = make(tmp_path / "upload.xlsx")
    with pytest.raises(WorkbookError, match=message):
        read_plan(path.read_bytes(), REFERENCE, name="upload.xlsx")


@pytest.mark.parametrize(("holds", "make", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_a_workbook_past_a_limit_is_refused_as_responses_naming_the_file(
        tmp_path, mini, holds, make, message):
    path = make(tmp_path / "answers.xlsx")
    with pytest.raises(ResponsesError, match=message) as caught:
        load_answers(path, mini)
    assert str(caught.value).startswith(f"{path}: ")


def test_an_upload_over_5_mb_is_refused_by_the_app_but_not_on_the_command_line(tmp_path, mini):
    noise = os.urandom(6 * MB)  # random bytes do not compress: the file is over 6 MB
    path = write_xlsx(tmp_path / "big.xlsx", plain(), extra={"xl/media/photo.bin": noise},
                      method=zipfile.ZIP_STORED)
    with pytest.raises(WorkbookError, match=r"the file is 6(\.\d)? MB; the limit is 5 MB"):
        read_plan(path.read_bytes(), REFERENCE, name="big.xlsx")
    assert check_xlsx(path, limits=WORKBOOK).file_bytes > 6 * MB


# ---------------------------------------------------------------- CSV

def million_columns(path):
    with path.open("w") as f:
        f.write("respondent,question,value,")
        f.write(",".join(f"c{i}" for i in range(1_000_000)))
        f.write("\nann,q1,4\n")
    return path


def too_many_rows(path):
    path.write_bytes(b"respondent,question,value\n" + b",,\n" * CSV.rows)
    return path


def long_header(path):
    path.write_text("respondent,question,value," + "x" * 100_000 + "\nann,q1,4\n")
    return path


CSV_REFUSED = [
    ("a header of a million columns", million_columns,
     r"the header has at least [\d,]+ columns; the limit is 50"),
    ("2,000,001 rows", too_many_rows, r"the file has 2,000,001 rows; the limit is 2,000,000"),
    ("a header line of 100 KB", long_header, r"the header line is longer than 64 KB"),
]


@pytest.mark.parametrize(("holds", "make", "message"), CSV_REFUSED,
                         ids=[r[0] for r in CSV_REFUSED])
def test_a_csv_past_a_limit_is_refused_naming_the_file_and_the_limit(
        tmp_path, mini, holds, make, message):
    path = make(tmp_path / "answers.csv")
    with pytest.raises(ResponsesError, match=message) as caught:
        load_answers(path, mini)
    assert str(caught.value).startswith(f"{path}: ")


def test_a_csv_of_a_million_columns_is_refused_in_well_under_a_second_in_little_memory(
        tmp_path, mini_path):
    path = million_columns(tmp_path / "wide.csv")
    measured = probe("load_answers", path, mini_path)
    print(f"wide CSV: {measured['seconds']:.3f} s, +{measured['growth'] / MB:.1f} MB")
    assert "columns; the limit is 50" in measured["outcome"]
    assert measured["seconds"] < 0.5
    assert measured["growth"] < 20 * MB


def test_a_csv_check_reads_only_the_header_line_and_counts_line_breaks():
    assert check_csv(b"a,b,c\r\n1,2,3\r\n4,5,6", "x.csv").rows == 3
    assert check_csv(b"a,b\r1,2\r", "x.csv").rows == 2
    assert check_csv(b'"a,b",c\n', "x.csv").columns == 2
    with pytest.raises(UploadError, match=r"x.csv: the file is 5\.1 MB; the limit is 5 MB"):
        check_csv(b"a\n" * 2_550_000, "x.csv", UPLOAD)


# ---------------------------------------------------------------- ordinary files still pass

@pytest.fixture
def plan_report(write):
    library = load_actions(write("actions.yaml", LIBRARY), dimensions=DIMENSIONS)

    def make(client: str = "Acme", reference: str = REFERENCE):
        q = SHIPPED["proposition"]
        rows = [{"respondent": p, "question": x.id, "value": "2" if not x.reverse else "4"}
                for p in ("ann", "bob") for x in q.scored_questions]
        scored = score_file(parse_answers(pd.DataFrame(rows), q), q)
        return build_report([scored], library, reference=reference, client=client,
                            title="Offsite", made=date(2026, 1, 15))[0]

    return make


def test_an_exported_plan_passes_the_upload_checks_and_comes_back(plan_report):
    report = plan_report()
    data = workbook_bytes(report)
    facts = check_xlsx(data, "plan.xlsx", UPLOAD)
    assert facts.sheets == len(SHEETS) and len(facts.worksheets) == len(SHEETS)
    assert {f.columns for f in facts.worksheets} <= set(range(1, 51))
    back = read_plan(data, REFERENCE, name="plan.xlsx")
    assert list(back["action"]) == list(report.plan["action"])


def test_a_responses_workbook_passes_the_checks_and_keeps_its_row_numbers_true_past_a_blank_row(
        tmp_path, mini, responses_xlsx):
    facts = check_xlsx(responses_xlsx, limits=WORKBOOK)
    assert (facts.sheets, [(f.rows, f.columns) for f in facts.worksheets]) == (1, [(3, 3)])
    assert load_answers(responses_xlsx, mini)["value"].tolist() == [4.0, 2.0]
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in (["respondent", "question", "value"], ["ann", "q1", 4], [None, None, None],
                ["bob", "q1", "seven"]):
        ws.append(row)
    path = tmp_path / "gap.xlsx"
    wb.save(path)
    with pytest.raises(ResponsesError, match=r"row 4, question 'q1', value 'seven'"):
        load_answers(path, mini)


# ---------------------------------------------------------------- control characters in exports

CLIENTS = ["A\x0bB\x01C", "nul\x00byte", "bell\x07and\x1bescape", "not a character \ufffe\uffff",
           "undecodable \udcff byte", "=cmd|' /C calc'!A0\x0c"]


@pytest.mark.parametrize("client", CLIENTS, ids=[repr(c) for c in CLIENTS])
def test_control_characters_in_the_client_name_never_make_the_workbook_invalid(
        plan_report, client):
    data = workbook_bytes(plan_report(client=client))
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    assert all(ch not in wb.properties.title for ch in "\x0b\x01\x00\x07\x1b\x0c\ufffe")
    wb.close()
    wb = openpyxl.load_workbook(io.BytesIO(data))  # the full reader too, every cell
    assert wb["Summary"]["B3"].value.startswith(client[:1])
    assert len(read_plan(data, REFERENCE)) > 0  # the app's own round trip


def test_control_characters_in_the_reference_do_not_break_the_round_trip(plan_report):
    reference = "file a.csv, assessment North\x01\x0b, questionnaire proposition 1.0"
    data = workbook_bytes(plan_report(reference=reference))
    assert len(read_plan(data, reference)) > 0


def test_a_text_longer_than_a_cell_holds_is_cut_to_fit():
    assert len(export_module.safe("x" * 40_000)) == export_module.MAX_CELL_TEXT


@pytest.fixture
def proposition_answers(write):
    return write("answers.csv", "respondent,question,value\n" + "".join(
        f"{p},{q.id},3\n" for p in ("ann", "bob") for q in SHIPPED["proposition"].scored_questions))


def test_the_plan_command_with_control_characters_in_the_client_writes_a_workbook_that_opens(
        tmp_path, proposition_answers):
    out = tmp_path / "plan.xlsx"
    result = subprocess.run([sys.executable, "-m", "assessment", "plan", "proposition",
                             proposition_answers, "--xlsx", out, "--client", "A\x0bB\x01C"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    wb = openpyxl.load_workbook(out, read_only=True)
    assert wb.properties.title.endswith("ABC")
    for ws in wb.worksheets:
        assert sum(1 for _ in ws.iter_rows(values_only=True)) > 0
    wb.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answers.csv", "plan.xlsx"]


def test_the_plan_command_fails_loudly_and_leaves_nothing_when_its_workbook_cannot_be_reopened(
        tmp_path, proposition_answers, monkeypatch, capsys):
    real = export_module.workbook

    def broken(report):  # as if something slipped past the cleaning
        wb = real(report)
        wb.properties.title = "A\x0bB"
        return wb

    monkeypatch.setattr(export_module, "workbook", broken)
    out = tmp_path / "plan.xlsx"
    code = cli.main(["plan", "proposition", str(proposition_answers), "--xlsx", str(out)])
    err = capsys.readouterr().err
    assert code == 1
    assert f"{out}: the workbook written cannot be opened again" in err
    assert "nothing was written" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answers.csv"]


def test_save_workbook_replaces_the_target_only_after_reading_it_back(plan_report, tmp_path,
                                                                      monkeypatch):
    out = tmp_path / "plan.xlsx"
    out.write_bytes(b"the previous plan")
    real = export_module.workbook
    monkeypatch.setattr(export_module, "workbook", lambda r: _titled(real(r), "\x01"))
    with pytest.raises(WorkbookError):
        save_workbook(plan_report(), out)
    assert out.read_bytes() == b"the previous plan"
    assert [p.name for p in tmp_path.iterdir() if p.suffix != ".yaml"] == ["plan.xlsx"]


def _titled(wb, title):
    wb.properties.title = title
    return wb
