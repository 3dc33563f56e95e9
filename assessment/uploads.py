"""Bounds on files that come in (responses, edited plans), checked before any parser reads them.

An XLSX file is a zip archive of XML: a 0.5 MB upload can expand to gigabytes, and openpyxl
builds objects for every cell, string and style it reads. A CSV can hold a million columns in
one header line. So every file is measured first, with cheap streaming reads, against stated
limits, and refused with a message that names the file, the limit and the amount found.

Limits (MB = 1,000,000 bytes), for a workbook uploaded in the app (`UPLOAD`) / a workbook
given on the command line (`WORKBOOK`):

- the file as stored (compressed): 5 MB / 20 MB;
- the workbook uncompressed, all its parts together: 50 MB / 200 MB;
- one worksheet, or the shared strings, uncompressed: 40 MB / 160 MB;
- any other XML part (styles, workbook, drawings…), which openpyxl reads whole: 10 MB;
- parts in the archive: 200; sheets: 20;
- per worksheet: 200,000 rows, the header included, and 50 columns (the highest row number,
  the number of rows and the dimension the file states, whichever is largest; for columns the
  most cells in a row, the highest column named and the dimension);
- distinct strings (the shared strings table): 1,000,000;
- no DTD or entity declaration (no workbook needs one).

The sizes written in the archive's headers are checked first, then every part is decompressed
in 1 MB chunks with a hard cap, so a header that lies about a size is caught too (and a part
whose data does not match its header is refused as damaged).

A CSV (`CSV` on the command line; `UPLOAD` in the app): the file at most 200 MB / 5 MB; the header
line read alone and at most 64 KB long, with at most 50 columns; at most 2,000,000 / 200,000
rows, the header included (counted as line breaks, in chunks: a line break inside a quoted
comment counts too, so the count never falls short).
"""

from __future__ import annotations

import csv
import html
import io
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .yamlsafe import DataFileError, Problem

MB = 1_000_000
KB = 1_000
CHUNK = 1 << 20


@dataclass(frozen=True)
class Limits:
    """What a file may hold; see the module docstring for the reasons."""

    file_bytes: int           # the file as stored (compressed, for a workbook)
    expanded_bytes: int       # all parts of a workbook, uncompressed
    sheet_bytes: int          # one worksheet, the shared strings or a binary part, uncompressed
    part_bytes: int           # any other XML part (openpyxl parses those whole)
    members: int              # parts in the zip archive
    sheets: int
    rows: int                 # per worksheet; for a CSV, data rows
    columns: int              # per worksheet; for a CSV, columns of the header
    shared_strings: int
    header_bytes: int = 64 * KB   # a CSV's header line


UPLOAD = Limits(file_bytes=5 * MB, expanded_bytes=50 * MB, sheet_bytes=40 * MB,
                part_bytes=10 * MB, members=200, sheets=20, rows=200_000, columns=50,
                shared_strings=1_000_000)
WORKBOOK = replace(UPLOAD, file_bytes=20 * MB, expanded_bytes=200 * MB, sheet_bytes=160 * MB)
CSV = replace(WORKBOOK, file_bytes=200 * MB, rows=2_000_000)


class UploadError(DataFileError):
    """A file refused before any parser read it. `limit` names the limit passed, `value` is what
    the file holds (or at least holds) and `allowed` the limit itself."""

    def __init__(self, source: str, message: str, limit: str = "", value: int | None = None,
                 allowed: int | None = None):
        self.source, self.message = source, message
        self.limit, self.value, self.allowed = limit, value, allowed
        super().__init__([Problem(source, 0, message)])

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


@dataclass(frozen=True)
class SheetFacts:
    part: str
    rows: int
    columns: int
    dimension: str = ""


@dataclass(frozen=True)
class WorkbookFacts:
    """What check_xlsx measured."""

    file_bytes: int
    expanded_bytes: int
    members: int
    sheets: int
    shared_strings: int
    worksheets: list[SheetFacts] = field(default_factory=list)


@dataclass(frozen=True)
class CsvFacts:
    file_bytes: int
    rows: int
    columns: int


def size_text(n: float) -> str:
    """Bytes in words: 950 bytes, 64 KB, 4.2 GB (decimal units)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= scale:
            figure = f"{n / scale:.1f}".removesuffix(".0")
            return f"{figure} {unit}"
    return f"{int(n):,} bytes"


def _shown(data, name: str | None) -> str:
    if name:
        return str(name)
    return "the uploaded file" if isinstance(data, (bytes, bytearray, memoryview)) else str(data)


def _file_size(data, refuse) -> int:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return len(data)
    try:
        path = Path(data)
        if not path.is_file():
            refuse("no such file", "file")
        return path.stat().st_size
    except OSError as e:
        refuse(f"cannot read the file: {e.strerror or e}", "file")
    return 0  # not reached


def _refuser(shown: str):
    def refuse(message: str, limit: str = "", value: int | None = None,
               allowed: int | None = None):
        raise UploadError(shown, message, limit, value, allowed)
    return refuse


# ---------------------------------------------------------------------------------- XLSX

SHEET_PART = re.compile(r"(^|/)worksheets/[^/]+\.xml$", re.IGNORECASE)
STRINGS_PART = re.compile(r"(^|/)sharedStrings\.xml$", re.IGNORECASE)
WORKBOOK_PART = re.compile(r"(^|/)workbook\.xml$", re.IGNORECASE)
XML_PART = re.compile(r"\.(xml|rels|vml)$", re.IGNORECASE)
ROOT_PREFIX = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?(worksheet|sst|workbook)\b")
DIMENSION = re.compile(rb"<(?:[\w.-]+:)?dimension\b[^>]*?\sref\s*=\s*[\"']([^\"']*)")
REFERENCE = re.compile(r"^\$?([A-Za-z]{0,3})\$?(\d*)$")
CARRY = 512
TAG_END = np.zeros(256, dtype=bool)
TAG_END[list(b" \t\r\n>/")] = True
LETTER = np.zeros(256, dtype=np.int64)      # A-Z and a-z to 1-26, anything else to 0
LETTER[list(range(65, 91))] = LETTER[list(range(97, 123))] = np.arange(1, 27)


def _number(text: bytes) -> int:
    """A row number as openpyxl reads it (int() of the attribute); 0 when it is not one."""
    try:
        return int(text)
    except ValueError:
        return 0


def column_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def _column_letters(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


class _Scanner:
    """Streams one XML part: sees every complete tag once, whatever the chunk boundaries."""

    def __init__(self, part: str, refuse, limits: Limits):
        self.part, self.refuse, self.limits = part, refuse, limits
        self.carry = b""
        self.prefix: bytes | None = None
        self.head = b""

    def feed(self, chunk: bytes) -> None:
        buf = self.carry + chunk
        cut = max(buf.rfind(b"<"), len(buf) - CARRY, 0)
        self.carry = buf[cut:]
        self._scan(buf[:cut])

    def close(self) -> None:
        self._scan(self.carry)
        self.carry = b""
        if self.prefix is None:
            self._scan(b"")  # a part too small to show its root: scan what there is

    def _scan(self, data: bytes) -> None:
        if self.prefix is None:
            # The root element names the namespace prefix (most files have none: <worksheet>).
            self.head += data
            found = ROOT_PREFIX.search(self.head)
            if not found and len(self.head) < 64 * KB and data:
                return  # keep reading until the root element shows
            name = found.group(1) if found else None
            self.prefix = name + b":" if name else b""
            data, self.head = self.head, b""
            self._start()
        if not data:
            return
        if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
            self.refuse(f"its part {self.part} declares a DTD or entities, which no workbook "
                        f"needs", "declaration")
        self.scan(data)

    def _start(self) -> None:
        pass

    def scan(self, data: bytes) -> None:
        pass


class _SheetScanner(_Scanner):
    """Rows and columns of one worksheet, counted the way openpyxl will read them: every row
    element, the highest row number, the cells of each row, the highest column named."""

    def __init__(self, part, refuse, limits, sheet_name):
        super().__init__(part, refuse, limits)
        self.sheet_name = sheet_name
        self.rows = 0                 # row elements seen
        self.top_row = 0              # highest row number written
        self.cells = 0                # cells of the row still open at the end of a chunk
        self.widest = 0               # most cells in one row
        self.far_column = 0           # highest column named in a cell reference
        self.dimension = ""
        self.past_head = False

    def _start(self) -> None:
        p = re.escape(self.prefix)
        self.row_number = re.compile(b"<" + p + rb"row\b[^>]*?\sr\s*=\s*[\"']([^\"']*)")

    def scan(self, data: bytes) -> None:
        if not self.past_head:
            # The dimension is stated before the cells (<sheetData>); look for it there only.
            end = data.find(b"sheetData")
            self.past_head = end >= 0
            found = DIMENSION.search(data, 0, end if end >= 0 else len(data))
            if found and not self.dimension:
                self.dimension = found.group(1).decode("ascii", "replace")
                self._check_dimension()
        numbers = [_number(n) for n in self.row_number.findall(data)]
        if numbers:
            self.top_row = max(self.top_row, *numbers)
        self._count(data)
        self._check()

    def _count(self, data: bytes) -> None:
        """Row and cell tags found with numpy over the whole chunk (no loop per row)."""
        arr = np.frombuffer(data + b" " * 16, dtype=np.uint8)
        q = np.flatnonzero(arr[: len(data)] == 60) + 1          # just after each '<'
        for k, ch in enumerate(self.prefix):
            q = q[arr[q + k] == ch]
        q += len(self.prefix)
        first = arr[q]
        q = q[(first == 99) | (first == 114)]                    # 'c' or 'r'
        first, second = arr[q], arr[q + 1]
        cell = (first == 99) & TAG_END[second]
        row = (first == 114) & (second == 111) & (arr[q + 2] == 119) & TAG_END[arr[q + 3]]
        self.rows += int(row.sum())
        row_of = np.cumsum(row)
        counts = np.bincount(row_of[cell], minlength=int(row_of[-1]) + 1 if len(q) else 1)
        if len(counts) == 1:
            self.cells += int(counts[0])
            self.widest = max(self.widest, self.cells)
        else:
            self.widest = max(self.widest, self.cells + int(counts[0]), int(counts[1:].max()))
            self.cells = int(counts[-1])
        # Column letters of references written right after the tag: <c r="AB12" ...>
        at = q[cell] + 1
        at = at[(arr[at] == 32) & (arr[at + 1] == 114) & (arr[at + 2] == 61) & (arr[at + 3] == 34)]
        at += 4
        if len(at):
            letters = [LETTER[arr[at + k]] for k in range(4)]
            width = np.where(letters[0] == 0, 0, np.where(letters[1] == 0, 1, np.where(
                letters[2] == 0, 2, np.where(letters[3] == 0, 3, 4))))
            index = np.select([width == 1, width == 2, width == 3],
                              [letters[0], letters[0] * 26 + letters[1],
                               (letters[0] * 26 + letters[1]) * 26 + letters[2]],
                              default=np.where(width == 0, 0, 1 << 30))
            self.far_column = max(self.far_column, int(index.max()))

    def _check_dimension(self) -> None:
        last = self.dimension.split(":")[-1]
        found = REFERENCE.match(last.strip())
        if not found:
            return
        letters, digits = found.groups()
        rows = int(digits) if digits else 0
        columns = column_index(letters) if letters else 0
        if rows > self.limits.rows:
            self.refuse(f"sheet {self.sheet_name!r} says it spans {rows:,} rows "
                        f"({self.dimension}); the limit is {self.limits.rows:,}",
                        "rows", rows, self.limits.rows)
        if columns > self.limits.columns:
            self.refuse(f"sheet {self.sheet_name!r} says it spans {columns:,} columns "
                        f"({self.dimension}); the limit is {self.limits.columns}",
                        "columns", columns, self.limits.columns)

    def _check(self) -> None:
        rows = max(self.rows, self.top_row)
        if rows > self.limits.rows:
            self.refuse(f"sheet {self.sheet_name!r} has more than {self.limits.rows:,} rows "
                        f"(row {rows:,} reached); the limit is {self.limits.rows:,}",
                        "rows", rows, self.limits.rows)
        if self.widest > self.limits.columns:
            self.refuse(f"sheet {self.sheet_name!r} has a row of at least {self.widest:,} "
                        f"cells; the limit is {self.limits.columns} columns",
                        "columns", self.widest, self.limits.columns)
        if self.far_column > self.limits.columns:
            self.refuse(f"sheet {self.sheet_name!r} has cells in column "
                        f"{_column_letters(self.far_column)} (column {self.far_column:,}); "
                        f"the limit is {self.limits.columns} columns",
                        "columns", self.far_column, self.limits.columns)

    def facts(self) -> SheetFacts:
        return SheetFacts(self.part, max(self.rows, self.top_row),
                          max(self.widest, self.far_column), self.dimension)


class _CountScanner(_Scanner):
    """Counts one kind of element (sheets of the workbook, strings of the shared table)."""

    def __init__(self, part, refuse, limits, element: bytes, limit: int, what: str):
        super().__init__(part, refuse, limits)
        self.element, self.limit, self.what = element, limit, what
        self.count = 0

    def _start(self) -> None:
        self.tag = re.compile(b"<" + re.escape(self.prefix) + self.element + rb"[\s>/]")

    def scan(self, data: bytes) -> None:
        self.count += len(self.tag.findall(data))
        if self.count > self.limit:
            self.refuse(f"the workbook has more than {self.limit:,} {self.what} "
                        f"({self.count:,} found so far); the limit is {self.limit:,}",
                        self.what, self.count, self.limit)


def check_xlsx(data: bytes | Path | str, name: str | None = None,
               limits: Limits = WORKBOOK) -> WorkbookFacts:
    """Measure a workbook without parsing it; raise UploadError on the first limit passed."""
    shown = _shown(data, name)
    refuse = _refuser(shown)
    size = _file_size(data, refuse)
    if size > limits.file_bytes:
        refuse(f"the file is {size_text(size)}; the limit is {size_text(limits.file_bytes)}",
               "file_bytes", size, limits.file_bytes)
    source = io.BytesIO(bytes(data)) if isinstance(data, (bytes, bytearray, memoryview)) \
        else Path(data)
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        refuse("this is not an Excel workbook (not a zip archive)", "format")
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        if len(infos) > limits.members:
            refuse(f"the workbook holds {len(infos):,} parts; the limit is {limits.members}",
                   "members", len(infos), limits.members)
        declared = sum(i.file_size for i in infos)
        if declared > limits.expanded_bytes:
            refuse(f"the workbook expands to {size_text(declared)}; the limit is "
                   f"{size_text(limits.expanded_bytes)}", "expanded_bytes", declared,
                   limits.expanded_bytes)
        for info in infos:
            cap = _cap(info.filename, limits)
            if info.file_size > cap:
                refuse(f"its part {info.filename} expands to {size_text(info.file_size)}; the "
                       f"limit is {size_text(cap)}", "member_bytes", info.file_size, cap)
        if not any(WORKBOOK_PART.search(i.filename) for i in infos):
            refuse("this is not an Excel workbook (it has no workbook part)", "format")
        # Workbook first: the sheet count is the cheapest refusal.
        infos.sort(key=lambda i: (not WORKBOOK_PART.search(i.filename),
                                  not STRINGS_PART.search(i.filename)))
        titles = _sheet_titles(archive, infos)
        total, sheets, strings, worksheets = 0, 0, 0, []
        for info in infos:
            part = info.filename
            cap = _cap(part, limits)
            if WORKBOOK_PART.search(part):
                scanner = _CountScanner(part, refuse, limits, b"sheet", limits.sheets, "sheets")
            elif STRINGS_PART.search(part):
                scanner = _CountScanner(part, refuse, limits, b"si", limits.shared_strings,
                                        "distinct strings")
            elif SHEET_PART.search(part):
                scanner = _SheetScanner(part, refuse, limits,
                                        titles.get(part, part.rsplit("/", 1)[-1]))
            elif XML_PART.search(part):
                scanner = _Scanner(part, refuse, limits)
            else:
                scanner = None  # images and other binary parts: sizes only
            got = 0
            try:
                with archive.open(info) as stream:
                    while chunk := stream.read(CHUNK):
                        got += len(chunk)
                        total += len(chunk)
                        if got > cap:
                            refuse(f"its part {part} expands to more than {size_text(cap)} "
                                   f"(its header says {size_text(info.file_size)}); the limit "
                                   f"is {size_text(cap)}", "member_bytes", got, cap)
                        if total > limits.expanded_bytes:
                            refuse(f"the workbook expands to more than "
                                   f"{size_text(limits.expanded_bytes)} (its headers say "
                                   f"{size_text(declared)}); the limit is "
                                   f"{size_text(limits.expanded_bytes)}", "expanded_bytes",
                                   total, limits.expanded_bytes)
                        if scanner is not None:
                            scanner.feed(chunk)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as e:
                refuse(f"the workbook is damaged: its part {part} does not match its header "
                       f"({e})", "damaged")
            except (RuntimeError, NotImplementedError) as e:  # encrypted, unknown compression
                refuse(f"cannot read its part {part} ({e})", "format")
            if scanner is not None:
                scanner.close()
            if isinstance(scanner, _SheetScanner):
                worksheets.append(scanner.facts())
            elif isinstance(scanner, _CountScanner):
                if scanner.element == b"sheet":
                    sheets = scanner.count
                else:
                    strings = scanner.count
    return WorkbookFacts(size, total, len(infos), sheets, strings, worksheets)


def _sheet_titles(archive: zipfile.ZipFile, infos) -> dict[str, str]:
    """Worksheet part -> the sheet's title, for messages; read from the workbook part and its
    relationships when both are small (names only; nothing here is trusted for the limits)."""
    names = {i.filename: i for i in infos}
    book = next((n for n in names if WORKBOOK_PART.search(n)), None)
    rels = posixpath.join(posixpath.dirname(book or ""), "_rels", "workbook.xml.rels")
    if book is None or rels not in names or names[book].file_size > MB or \
            names[rels].file_size > MB:
        return {}
    try:
        book_xml, rels_xml = archive.read(book), archive.read(rels)
    except Exception:  # noqa: BLE001 - names for messages only; the checks say what is wrong
        return {}
    targets = {}
    for attrs in re.findall(rb"<(?:[\w.-]+:)?Relationship\b([^>]*)>", rels_xml):
        rid = re.search(rb"\bId\s*=\s*[\"']([^\"']*)", attrs)
        target = re.search(rb"\bTarget\s*=\s*[\"']([^\"']*)", attrs)
        if rid and target:
            path = html.unescape(target.group(1).decode("utf-8", "replace"))
            path = path.lstrip("/") if path.startswith("/") else posixpath.normpath(
                posixpath.join(posixpath.dirname(book), path))
            targets[rid.group(1)] = path
    titles = {}
    for attrs in re.findall(rb"<(?:[\w.-]+:)?sheet\b([^>]*)>", book_xml):
        title = re.search(rb"\bname\s*=\s*[\"']([^\"']*)", attrs)
        rid = re.search(rb"\b[\w.-]+:id\s*=\s*[\"']([^\"']*)", attrs)
        if title and rid and rid.group(1) in targets:
            titles[targets[rid.group(1)]] = html.unescape(title.group(1).decode("utf-8",
                                                                               "replace"))
    return titles


def _cap(part: str, limits: Limits) -> int:
    if SHEET_PART.search(part) or STRINGS_PART.search(part) or not XML_PART.search(part):
        return limits.sheet_bytes
    return limits.part_bytes


# ----------------------------------------------------------------------------------- CSV

def check_csv(data: bytes | Path | str, name: str | None = None,
              limits: Limits = CSV) -> CsvFacts:
    """Measure a CSV without parsing it: size, header columns, rows; raise UploadError."""
    shown = _shown(data, name)
    refuse = _refuser(shown)
    size = _file_size(data, refuse)
    if size > limits.file_bytes:
        refuse(f"the file is {size_text(size)}; the limit is {size_text(limits.file_bytes)}",
               "file_bytes", size, limits.file_bytes)
    if isinstance(data, (bytes, bytearray, memoryview)):
        stream = io.BytesIO(bytes(data))
    else:
        try:
            stream = Path(data).open("rb")
        except OSError as e:
            refuse(f"cannot read the file: {e.strerror or e}", "file")
    with stream:
        first = stream.read(limits.header_bytes + 1)
        ends = [i for i in (first.find(b"\n"), first.find(b"\r")) if i >= 0]
        line = first[: min(ends)] if ends else first
        columns = _count_columns(line[: limits.header_bytes])
        if columns > limits.columns:
            more = "at least " if not ends and len(first) > limits.header_bytes else ""
            refuse(f"the header has {more}{columns:,} columns; the limit is {limits.columns}",
                   "columns", columns, limits.columns)
        if not ends and len(first) > limits.header_bytes:
            refuse(f"the header line is longer than {size_text(limits.header_bytes)}; the "
                   f"limit is {size_text(limits.header_bytes)}", "header_bytes",
                   len(first), limits.header_bytes)
        stream.seek(0)
        breaks, last, previous = 0, b"", b""
        while chunk := stream.read(CHUNK):
            # \n, \r\n and a lone \r each end a line, as the parsers read them. Most files
            # have no \r at all: finding none is a quick scan, so \r and \r\n are counted only
            # in a chunk that holds one.
            breaks += chunk.count(b"\n")
            if b"\r" in chunk:
                breaks += chunk.count(b"\r") - chunk.count(b"\r\n")
            if previous == b"\r" and chunk[:1] == b"\n":
                breaks -= 1
            previous = chunk[-1:]
            last = chunk[-1:]
    rows = breaks + (1 if last not in (b"", b"\n", b"\r") else 0)  # the header counts, as in a sheet
    if rows > limits.rows:
        refuse(f"the file has {rows:,} rows; the limit is {limits.rows:,}", "rows", rows,
               limits.rows)
    return CsvFacts(size, rows, columns)


def _count_columns(line: bytes) -> int:
    text = line.decode("utf-8-sig", errors="replace")
    if not text:
        return 0
    try:
        return len(next(csv.reader([text]), []))
    except csv.Error:
        return text.count(",") + 1
