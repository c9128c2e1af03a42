"""Reading import files row by row, without loading them: CSV (UTF-8 with or without BOM,
or GB18030, what Chinese Excel exports) and XLSX (openpyxl, read-only streaming).

Everything that is wrong with the *file* (encoding, a cell over the size limit, a NUL
byte, no header) becomes a ``FileProblem`` naming the row, so the error report can say
where; what is wrong with a *value* is the row parser's business (``imports.py``).
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from flask_babel import lazy_gettext as _l

SNIFF_BYTES = 64 * 1024
XLSX_MAGIC = b"PK\x03\x04"


class FileProblem(Exception):
    """The file cannot be read on from ``row`` (1 = the header line)."""

    def __init__(self, row: int, reason: Any) -> None:
        super().__init__(str(reason))
        self.row = row
        self.reason = reason


def detect_encoding(head: bytes) -> str:
    """UTF-8 (BOM or not) first; GB18030 when the bytes are not UTF-8. UTF-16 is refused
    with a clear message rather than guessed at (Excel's "Unicode text" export)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or (len(head) > 3 and head[1:4:2] == b"\x00\x00"):
        raise FileProblem(1, _l("The file is UTF-16 text. Save it as CSV UTF-8 (or GB18030) and upload it again."))
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("gb18030")().decode(head, final=False)
        return "gb18030"
    except UnicodeDecodeError:
        raise FileProblem(1, _l("The file is neither UTF-8 nor GB18030 text. Save it as CSV UTF-8 and upload it again.")) from None


def is_xlsx(head: bytes, filename: str) -> bool:
    return head.startswith(XLSX_MAGIC) or filename.lower().endswith((".xlsx", ".xlsm"))


@dataclass(frozen=True)
class XlsxLimits:
    """What an XLSX archive may expand to (policy rows imports.max_xlsx_*): a zip bomb is
    refused before openpyxl inflates a byte of it."""

    max_uncompressed_bytes: int
    max_ratio: float


def read_rows(path: Path, filename: str, max_field_chars: int,
              xlsx_limits: XlsxLimits | None = None) -> Iterator[tuple[int, list[str]]]:
    """Yield (row number, cells as text); row 1 is the header. Blank lines are skipped."""
    with open(path, "rb") as raw:
        head = raw.read(SNIFF_BYTES)
    if not head:
        raise FileProblem(1, _l("The file is empty (0 bytes)."))
    if is_xlsx(head, filename):
        if xlsx_limits is not None:
            check_archive(path, xlsx_limits)
        yield from _xlsx_rows(path, max_field_chars)
    else:
        yield from _csv_rows(path, detect_encoding(head), max_field_chars)


def check_archive(path: Path, limits: XlsxLimits) -> None:
    """Refuse a workbook whose members would inflate beyond the limits. The sizes are the
    archive's own declarations; zipfile never inflates a member past its declared size, so
    they bound what openpyxl can be made to read."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise FileProblem(1, _l("The XLSX workbook cannot be opened: it is not a valid zip archive.")) from None
    total = sum(m.file_size for m in members)
    packed = sum(m.compress_size for m in members)
    if total > limits.max_uncompressed_bytes:
        raise FileProblem(1, _l(
            "The XLSX workbook would expand to %(size)s MB, more than the %(limit)s MB accepted. Split it, or save it "
            "as CSV.", size=total // (1024 * 1024), limit=limits.max_uncompressed_bytes // (1024 * 1024)))
    worst = max((m.file_size / max(m.compress_size, 1) for m in members), default=0.0)
    if total / max(packed, 1) > limits.max_ratio or worst > limits.max_ratio:
        raise FileProblem(1, _l(
            "The XLSX workbook is compressed more than %(ratio)s to 1, which a real spreadsheet never is; it was not "
            "opened. Save it as CSV and upload that.", ratio=int(limits.max_ratio)))


def _csv_rows(path: Path, encoding: str, max_field_chars: int) -> Iterator[tuple[int, list[str]]]:
    # The csv module's limit is process-wide; every import sets it from the same policy.
    csv.field_size_limit(max_field_chars)
    # Fast path: decoding in C, in blocks. Bad bytes, a NUL or an endless line make it stop
    # and re-read the file line by line, which names the row they are on; the import is
    # refused either way, so rows read before the problem do not matter.
    try:
        with open(path, "rb", buffering=0) as binary:
            text = io.TextIOWrapper(io.BufferedReader(_CheckedRaw(binary, max_field_chars * 64), 1 << 16),
                                    encoding=encoding, newline="")
            yield from _parse(csv.reader(text), encoding, max_field_chars, locate=True)
    except _Locate:
        with open(path, "rb") as binary:
            for _row in _parse(csv.reader(_LineGuard(binary, encoding, max_field_chars)), encoding, max_field_chars):
                pass
        raise FileProblem(1, _l("The CSV cannot be read here: %(detail)s", detail="encoding")) from None


class _Locate(Exception):
    """The fast reader met a problem it cannot place on a row."""


def _parse(reader: Any, encoding: str, max_field_chars: int, locate: bool = False) -> Iterator[tuple[int, list[str]]]:
    row_no = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except (UnicodeDecodeError, _LineTooLong, _NulByte) as exc:
            if locate:
                raise _Locate() from None
            if isinstance(exc, UnicodeDecodeError):
                raise FileProblem(row_no + 1, _l(
                    "The file stops being valid %(encoding)s text at this row. Save it as CSV UTF-8 and upload it again.",
                    encoding=encoding.replace("-sig", "").upper())) from None
            if isinstance(exc, _LineTooLong):
                raise FileProblem(row_no + 1, _l(
                    "This line is longer than %(limit)s characters per cell allow; is it really a CSV file?",
                    limit=max_field_chars)) from None
            raise FileProblem(row_no + 1, _l("The line contains a NUL byte: this is not a text file.")) from None
        except csv.Error as exc:
            message = str(exc)
            if "field larger" in message:
                raise FileProblem(row_no + 1, _l("A cell is longer than %(limit)s characters.", limit=max_field_chars)) from None
            if "NUL" in message:
                raise FileProblem(row_no + 1, _l("The line contains a NUL byte: this is not a text file.")) from None
            raise FileProblem(row_no + 1, _l("The CSV cannot be read here: %(detail)s", detail=message)) from None
        row_no += 1
        if not cells or all(not c.strip() for c in cells):
            continue
        yield row_no, cells


class _CheckedRaw(io.RawIOBase):
    """The raw file under the fast reader: refuses NUL bytes and a line longer than
    ``limit`` bytes as the blocks go by, before any of it is decoded or kept."""

    def __init__(self, binary: Any, limit: int) -> None:
        self.binary = binary
        self.limit = limit
        self.since_newline = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self.binary.readinto(buffer)
        if n:
            chunk = bytes(memoryview(buffer)[:n])
            if b"\x00" in chunk:
                raise _NulByte()
            newline = chunk.rfind(b"\n")
            self.since_newline = self.since_newline + n if newline < 0 else n - newline - 1
            if self.since_newline > self.limit:
                raise _LineTooLong()
        return n


class _LineTooLong(Exception):
    pass


class _NulByte(Exception):
    pass


class _LineGuard:
    """Feeds the csv module one physical line at a time, decoded here, line by line: a
    decoding error then names the row that holds the bad bytes (a text wrapper decodes
    ahead in blocks and would blame a row before it). Refuses a line far beyond what any
    valid row needs before it is built in memory (a 2 GB file with no newline must not take
    2 GB). Splitting on b"\n" is safe in UTF-8 and GB18030: no multi-byte character of
    either contains that byte."""

    def __init__(self, binary: IO[bytes], encoding: str, max_field_chars: int) -> None:
        self.binary = binary
        self.encoding = "utf-8" if encoding == "utf-8-sig" else encoding
        self.strip_bom = encoding == "utf-8-sig"
        self.limit = max_field_chars * 64

    def __iter__(self) -> _LineGuard:
        return self

    def __next__(self) -> str:
        raw = self.binary.readline(self.limit + 1)
        if not raw:
            raise StopIteration
        if len(raw) > self.limit:
            raise _LineTooLong()
        if self.strip_bom:
            raw = raw.removeprefix(codecs.BOM_UTF8)
            self.strip_bom = False
        line = raw.decode(self.encoding)
        if "\x00" in line:  # Python's csv accepts NUL since 3.11; a text file has none
            raise _NulByte()
        return line


def _xlsx_rows(path: Path, max_field_chars: int) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:
        # data_only=False: a formula arrives as its text ("=HYPERLINK(...)") and is refused,
        # instead of as a cached value nobody checked.
        book = load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged archive
        raise FileProblem(1, _l("The XLSX workbook cannot be opened: %(detail)s", detail=type(exc).__name__)) from None
    try:
        sheet = book.worksheets[0]
        for row_no, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell_text(v) for v in values]
            if not cells or all(not c.strip() for c in cells):
                continue
            if any(len(c) > max_field_chars for c in cells):
                raise FileProblem(row_no, _l("A cell is longer than %(limit)s characters.", limit=max_field_chars))
            yield row_no, cells
    finally:
        book.close()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def write_csv(rows: list[list[Any]]) -> str:
    """CSV text safe to open in a spreadsheet: a cell that could be read as a formula is
    prefixed with an apostrophe (OWASP CSV injection guidance)."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([neutralise(v) for v in row])
    return out.getvalue()


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
