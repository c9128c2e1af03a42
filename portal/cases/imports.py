"""Importing cases and the bank's ledger from CSV or XLSX (docs/formats/cases.md,
docs/formats/ledger.md).

* All or nothing: the whole file is read and checked inside one transaction; rows are
  written in batches as they pass, and the first error stops the writing (reading goes on
  to list every bad row). A refused file raises ``ImportRejected`` and the door rolls the
  transaction back, so nothing of it is stored.
* Idempotent on the bank's key (account number for cases, transaction reference for the
  ledger): a re-import inserts new rows, updates changed ones, leaves the rest alone.
* Set-based: per batch, one SELECT of the existing keys, one executemany INSERT, one
  executemany UPDATE. No ORM object per row.
* One audit entry per import, with counts and the file's digest; never a value.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from operator import mul
from pathlib import Path
from typing import Any, cast
from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from audit.log import record
from portal import clock
from portal.bulk import row_writer
from portal.cases.buckets import Ladders
from portal.cases.models import Case, ImportRun, LedgerPayment
from portal.cases.sources import FileProblem, XlsxLimits, read_rows
from portal.cases.summaries import audit_cap, listing
from portal.errors import InvalidInput
from portal.policies.operations import value as policy
from portal.security import crypto
from portal.security.access import require

BATCH = 5000
PII = frozenset({"debtor_name", "national_id", "phone", "address"})
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PRODUCTS = ("personal_loan", "credit_card", "small_business_loan", "lease")
FLAGS = ("lost_contact", "poor_willingness", "high_risk", "complaint", "litigation", "deceased",
         "do_not_contact")
LEDGER_KINDS = ("payment", "settlement", "payoff")
ProgressFn = Callable[[int, str], None]


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    aliases: tuple[str, ...] = ()


CASE_COLUMNS = (
    Column("account_no", True, ("账号", "账户号", "合同号")),
    Column("product", True, ("产品",)),
    Column("principal", True, ("本金",)),
    Column("interest", False, ("利息",)),
    Column("fees", False, ("费用",)),
    Column("currency", False, ("币种",)),
    Column("overdue_since", True, ("逾期起始日", "逾期日期")),
    Column("region", True, ("地区", "区域")),
    Column("flags", False, ("标记",)),
    Column("debtor_name", True, ("姓名", "客户姓名")),
    Column("national_id", True, ("身份证号", "证件号码")),
    Column("phone", True, ("手机号", "电话")),
    Column("address", False, ("地址",)),
    Column("debtor_timezone", False, ("时区",)),
)
LEDGER_COLUMNS = (
    Column("reference", True, ("流水号", "交易流水号")),
    Column("account_no", True, ("账号", "账户号", "合同号")),
    Column("paid_on", True, ("还款日期", "入账日期")),
    Column("amount", True, ("金额", "还款金额")),
    Column("kind", False, ("类型",)),
)


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    value: str
    reason: str

    def as_list(self) -> list[Any]:
        return [self.row, self.column, self.value, self.reason]


@dataclass
class ImportResult:
    kind: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    changed_fields: Counter[str] = field(default_factory=Counter)
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    sha256: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, Any]:
        return {"rows": self.rows, "inserted": self.inserted, "updated": self.updated,
                "unchanged": self.unchanged, "errors": self.error_count,
                "changed_fields": dict(self.changed_fields), **self.extra}


class ImportRejected(InvalidInput):
    """The file was refused; ``result.errors`` is the report (row, column, value, reason)."""

    def __init__(self, result: ImportResult) -> None:
        super().__init__("import.rejected", _l(
            "The file was refused: %(count)s problem(s) found. Nothing was imported; download the error report.",
            count=result.error_count), errors=result.error_count)
        self.result = result


# -- cell checks ----------------------------------------------------------------------------
class CellError(Exception):
    def __init__(self, reason: Any) -> None:
        super().__init__(str(reason))
        self.reason = reason


def mask(column: str, value: str) -> str:
    """What the error report shows of a value: debtor PII only masked (the report is a
    download and is kept with the import run)."""
    value = value if len(value) <= 80 else value[:77] + "..."
    if column in PII and value:
        return (value[:1] + "***" + value[-2:]) if len(value) > 4 else "***"
    return value


def text(value: str, *, max_len: int, formula_ok: bool = False) -> str:
    value = value.strip()
    if not formula_ok and value.startswith(FORMULA_START):
        raise CellError(_l("Starts with %(char)s, which a spreadsheet would run as a formula; remove that character.",
                           char=repr(value[0])))
    if len(value) > max_len:
        raise CellError(_l("Longer than %(max)s characters.", max=max_len))
    return value


# Digits with at most two decimals; a comma only as a thousands separator ("1,234.56"). A
# decimal comma ("1234,56") is refused, never read as 123456: deleting every comma would
# make such an amount a hundred times too large.
AMOUNT_RE = re.compile(r"^(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d{1,2})?$")
MAX_AMOUNT_DIGITS = 30  # far beyond any ceiling; keeps int() of a pasted blob cheap


def max_amount_cents(session: Session) -> int:
    """The ceiling on every amount the portal accepts (imports, reports, batch filters)."""
    return int(policy(session, "imports.max_amount_cents"))


def cents(value: str, *, max_cents: int, positive: bool = False) -> int:
    """Yuan as text -> integer cents, exactly. ``max_cents`` is ``max_amount_cents()``."""
    raw = value.strip().replace("¥", "").replace("￥", "").strip()
    negative = raw.startswith("-")
    body = raw[1:] if negative else raw
    if not AMOUNT_RE.match(body) or len(body) > MAX_AMOUNT_DIGITS:
        if raw.startswith(FORMULA_START[:1] + FORMULA_START[3:]):
            raise CellError(_l("Looks like a spreadsheet formula, not an amount."))
        raise CellError(_l("Not an amount: use digits with at most two decimals, and commas only between "
                           "thousands, e.g. 1234.56 or 1,234.56."))
    if negative:
        raise CellError(_l("An amount must not be negative."))
    # Exact integer arithmetic on the validated text (no float, no Decimal per cell).
    whole, _dot, fraction = body.replace(",", "").partition(".")
    amount = int(whole) * 100 + int((fraction + "00")[:2])
    if positive and amount == 0:
        raise CellError(_l("An amount must be more than zero."))
    if amount > max_cents:
        raise CellError(_l("The amount is above the largest accepted (%(max)s yuan).", max=f"{max_cents / 100:,.2f}"))
    return amount


DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d")


def a_date(value: str, today: date) -> date:
    raw = value.strip()
    if len(raw) == 10 and raw[4] == "-":
        try:
            parsed = date.fromisoformat(raw)  # the documented form, parsed in C
        except ValueError:
            parsed = None
        if parsed is not None:
            if parsed > today:
                raise CellError(_l("The date is in the future."))
            return parsed
    if "T" in raw:
        raw = raw.split("T", 1)[0]
    for fmt in DATE_FORMATS:
        try:
            parsed = datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
        if parsed > today:
            raise CellError(_l("The date is in the future."))
        return parsed
    raise CellError(_l("Not a date: use YYYY-MM-DD, e.g. 2026-03-31."))


ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
ID_RE = re.compile(r"^\d{17}[\dX]$")


def national_id_check(first17: str) -> str:
    return ID_CHECK[sum(map(mul, map(int, first17), ID_WEIGHTS)) % 11]


def national_id(value: str) -> str:
    raw = value.strip().upper().replace(" ", "")  # as crypto.normalise("national_id")
    if raw.startswith(FORMULA_START):
        raise CellError(_l("Starts with %(char)s, which a spreadsheet would run as a formula; remove that character.",
                           char=repr(raw[0])))
    if not ID_RE.match(raw):
        raise CellError(_l("A resident ID number has 17 digits and a final digit or X."))
    if national_id_check(raw[:17]) != raw[17]:
        raise CellError(_l("The ID number's check digit is wrong (GB 11643)."))
    return raw


PHONE_RE = re.compile(r"^\+?[\d\s()-]{7,20}$")
NON_DIGITS = re.compile(r"\D")


def phone(value: str) -> str:
    raw = value.strip()
    # "+86 138..." is a phone number, not a formula: allowed only in this exact shape.
    if raw.startswith(("=", "@", "\t", "\r")) or (raw.startswith("-")) or not PHONE_RE.match(raw):
        raise CellError(_l("Not a phone number: digits, optionally +country code, spaces or dashes."))
    digits = NON_DIGITS.sub("", raw)
    if not 7 <= len(digits) <= 15:
        raise CellError(_l("A phone number has 7 to 15 digits."))
    return raw


def choice(value: str, allowed: tuple[str, ...]) -> str:
    raw = value.strip().lower()
    if raw not in allowed:
        if raw.startswith(FORMULA_START):
            text(raw, max_len=40)  # raises the formula message
        raise CellError(_l("Must be one of: %(allowed)s.", allowed=", ".join(allowed)))
    return raw


FLAG_SPLIT = re.compile(r"[|;,、]")


def flags(value: str) -> list[str]:
    raw = text(value, max_len=400)
    out = sorted({f.strip().lower() for f in FLAG_SPLIT.split(raw) if f.strip()})
    unknown = [f for f in out if f not in FLAGS]
    if unknown:
        raise CellError(_l("Unknown flag %(flag)s; known flags: %(known)s.", flag=unknown[0], known=", ".join(FLAGS)))
    return out


_ZONES: set[str] = set()


def timezone(value: str) -> str:
    if not _ZONES:
        _ZONES.update(available_timezones())
    raw = text(value, max_len=50)
    if raw not in _ZONES:
        raise CellError(_l("Not an IANA time zone, e.g. Asia/Shanghai."))
    return raw


# -- the header -------------------------------------------------------------------------------
def column_label(index: int) -> str:
    """How the error report names a header cell it does not know: by its position only. The
    cell's text is never echoed: in a file without a header row it is a debtor's data."""
    return str(_l("column %(n)s", n=index + 1))


def map_header(cells: list[str], columns: tuple[Column, ...]) -> tuple[dict[str, int], list[RowError]]:
    lookup: dict[str, str] = {}
    for col in columns:
        lookup[col.name] = col.name
        for alias in col.aliases:
            lookup[alias] = col.name
    names = [lookup.get(cell.strip().lstrip("\ufeff").lower()) or lookup.get(cell.strip()) for cell in cells]
    filled = [name for name, cell in zip(names, cells, strict=True) if cell.strip()]
    known = sum(1 for name in filled if name is not None)
    if filled and known * 2 <= len(filled):
        # Most of row 1 is not a column name: the file has no header row (or another format).
        # One error, and nothing of the row's cells (they may be a debtor's name and ID).
        return {}, [RowError(1, "", "", str(_l(
            "The first row is not a header row: most of its cells are not column names. Add the header row of the "
            "documented format (docs/formats).")))]
    positions: dict[str, int] = {}
    errors: list[RowError] = []
    for i, (cell, name) in enumerate(zip(cells, names, strict=True)):
        if name is None:
            if cell.strip():
                errors.append(RowError(1, column_label(i), "", str(_l("Unknown column; see the documented format."))))
            continue
        if name in positions:
            errors.append(RowError(1, name, "", str(_l("This column appears twice."))))
        positions[name] = i
    for col in columns:
        if col.required and col.name not in positions:
            errors.append(RowError(1, col.name, "", str(_l("Required column is missing."))))
    return positions, errors


# -- the driver ---------------------------------------------------------------------------------
RowParser = Callable[[Callable[[str], str]], dict[str, Any]]


class _Errors:
    def __init__(self, result: ImportResult, limit: int) -> None:
        self.result = result
        self.limit = limit

    def add(self, error: RowError) -> None:
        self.result.error_count += 1
        if len(self.result.errors) < self.limit:
            self.result.errors.append(error)


def _records(path: Path, filename: str, columns: tuple[Column, ...], parse: Callable[..., dict[str, Any] | None],
             session: Session, result: ImportResult, errors: _Errors) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (row, record) for rows that pass; every problem goes to ``errors``."""
    max_chars = int(policy(session, "imports.max_field_chars"))
    limits = XlsxLimits(int(policy(session, "imports.max_xlsx_uncompressed_bytes")),
                        float(policy(session, "imports.max_xlsx_ratio")))
    rows = read_rows(path, filename, max_chars, limits)
    positions: dict[str, int] | None = None
    try:
        for row_no, cells in rows:
            if positions is None:
                positions, header_errors = map_header(cells, columns)
                for e in header_errors:
                    errors.add(e)
                if header_errors:
                    return
                continue
            result.rows += 1
            record_ = parse(row_no, cells, positions, errors)
            if record_ is not None:
                yield row_no, record_
    except FileProblem as problem:
        errors.add(RowError(problem.row, "", "", str(problem.reason)))
        return
    if positions is None:
        errors.add(RowError(1, "", "", str(_l("The file has no header row: it is empty."))))
    elif result.rows == 0:
        errors.add(RowError(2, "", "", str(_l("The file has a header but no rows."))))


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# -- cases ------------------------------------------------------------------------------------
CASE_COMPARED = ("product", "currency", "principal_cents", "interest_cents", "fees_cents", "overdue_since",
                 "region", "flags", "debtor_timezone", "national_id_bidx", "phone_bidx")


def _case_parser(today: date, max_cents: int) -> Callable[..., dict[str, Any] | None]:
    # (column, check, required, default) built once per import, not per row: the loop below
    # runs a million times on a large file.
    specs: tuple[tuple[str, Callable[[str], Any], bool, Any], ...] = (
        ("account_no", partial(text, max_len=64), True, None),
        ("product", partial(choice, allowed=PRODUCTS), True, None),
        ("principal", partial(cents, max_cents=max_cents, positive=True), True, None),
        ("interest", partial(cents, max_cents=max_cents), False, 0),
        ("fees", partial(cents, max_cents=max_cents), False, 0),
        ("currency", _currency, False, "CNY"),
        ("overdue_since", partial(a_date, today=today), True, None),
        ("region", partial(text, max_len=50), True, None),
        ("flags", flags, False, []),
        ("debtor_name", partial(text, max_len=200), True, None),
        ("national_id", national_id, True, None),
        ("phone", phone, True, None),
        ("address", partial(text, max_len=500), False, None),
        ("debtor_timezone", timezone, False, "Asia/Shanghai"),
    )
    return _spec_parser(specs)


def _spec_parser(specs: tuple[tuple[str, Callable[[str], Any], bool, Any], ...]) -> Callable[..., dict[str, Any] | None]:
    plan: list[tuple[str, int, Callable[[str], Any], bool, Any]] = []
    planned_for: dict[str, int] | None = None

    def parse(row_no: int, cells: list[str], positions: dict[str, int], errors: _Errors) -> dict[str, Any] | None:
        nonlocal planned_for
        if planned_for is not positions:  # the header's column positions, resolved once
            plan[:] = [(name, positions.get(name, -1), check, required, default)
                       for name, check, required, default in specs]
            planned_for = positions
        n = len(cells)
        rec: dict[str, Any] = {}
        ok = True
        for name, i, check, required, default in plan:
            raw = cells[i] if 0 <= i < n else ""
            if not raw or raw.isspace():
                if required:
                    errors.add(RowError(row_no, name, "", str(_l("A value is required."))))
                    ok = False
                rec[name] = default
                continue
            try:
                rec[name] = check(raw)
            except CellError as exc:
                errors.add(RowError(row_no, name, mask(name, raw), str(exc.reason)))
                ok = False
        return rec if ok else None

    return parse


CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


def _currency(value: str) -> str:
    raw = value.strip().upper()
    if not CURRENCY_RE.match(raw):
        raise CellError(_l("A currency is three letters (ISO 4217), e.g. CNY."))
    return raw


def import_cases(session: Session, actor: Any, path: Path, filename: str, *,
                 progress: ProgressFn | None = None, batch: int = BATCH) -> ImportResult:
    """Import a case file; raises ImportRejected (nothing stored) or returns the counts."""
    require(actor, "case.import")
    result = ImportResult("cases", sha256=file_digest(path))
    errors = _Errors(result, int(policy(session, "imports.max_errors_listed")))
    today = clock.today()
    now = clock.now()
    cipher = crypto.cipher()
    ladders = Ladders(session)
    connection = session.connection()
    table = cast(Table, Case.__table__)
    write = row_writer(connection, table)
    blind_index = cipher.blind_index
    first_load = connection.execute(select(table.c.id).limit(1)).first() is None
    buckets: dict[tuple[str, int], str] = {}  # (product, dpd) -> bucket: the ladder walk once each
    seen: dict[str, int] = {}
    changed_accounts: list[str] = []
    refresh_stmt = (update(table).where(table.c.id == bindparam("b_id"))
                    .values(dpd=bindparam("dpd"), bucket=bindparam("bucket")))
    buffer: list[tuple[int, dict[str, Any]]] = []
    update_stmt = (update(table).where(table.c.id == bindparam("b_id"))
                   .values({c: bindparam(c) for c in (
                       "product", "currency", "principal_cents", "interest_cents", "fees_cents", "overdue_since",
                       "dpd", "bucket", "region", "flags", "debtor_timezone", "debtor_name", "national_id",
                       "national_id_bidx", "phone", "phone_bidx", "address", "import_digest", "updated_at")}))

    def flush() -> None:
        # One encryptor per batch: the keyring is checked once (a key rotated in mid-import
        # is picked up at the next batch) and nonces come from the OS in blocks.
        encrypt = cipher.encryptor()
        accounts = [rec["account_no"] for _row, rec in buffer]
        # Into an empty table (a first load) nothing can already exist: duplicates inside
        # the file are caught by `seen`, and a concurrent load of the same account fails the
        # unique index, so the whole import is refused rather than half-applied.
        existing = {} if first_load else {r.account_no: r for r in connection.execute(
            select(table.c.id, table.c.account_no, table.c.import_digest, table.c.dpd, table.c.bucket,
                   table.c.status, *[table.c[c] for c in CASE_COMPARED])
            .where(table.c.account_no.in_(accounts)))}
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        refreshes: list[dict[str, Any]] = []
        for _row, rec in buffer:
            digest = blind_index("case_import", _canonical(rec))
            old = existing.get(rec["account_no"])
            product = rec["product"]
            dpd = max(0, (today - rec["overdue_since"]).days)
            bucket = buckets.get((product, dpd))
            if bucket is None:
                bucket = buckets[(product, dpd)] = ladders.bucket(product, dpd)
            if old is not None and old.import_digest == digest:
                result.unchanged += 1
                # The record is the same, but days past due move on every day: today's
                # DPD and bucket are written even when nothing else changed.
                if old.status == "open" and (old.dpd != dpd or old.bucket != bucket):
                    refreshes.append({"b_id": old.id, "dpd": dpd, "bucket": bucket})
                continue
            row_id = old.id if old is not None else uuid.uuid4()
            # Associated data binds each ciphertext to its row and column (crypto.aad_for).
            rid = str(row_id).encode()
            row = {
                "product": product, "currency": rec["currency"], "principal_cents": rec["principal"],
                "interest_cents": rec["interest"], "fees_cents": rec["fees"],
                "overdue_since": rec["overdue_since"], "dpd": dpd, "bucket": bucket,
                "region": rec["region"], "flags": rec["flags"], "debtor_timezone": rec["debtor_timezone"],
                "debtor_name": encrypt(rec["debtor_name"], b"cases.debtor_name." + rid),
                "national_id": encrypt(rec["national_id"], b"cases.national_id." + rid),
                "national_id_bidx": blind_index("national_id", rec["national_id"]),
                "phone": encrypt(rec["phone"], b"cases.phone." + rid),
                "phone_bidx": blind_index("phone", rec["phone"]),
                "address": None if rec["address"] is None else encrypt(rec["address"], b"cases.address." + rid),
                "import_digest": digest, "updated_at": now,
            }
            if old is None:
                row.update(id=row_id, account_no=rec["account_no"], status="open", created_at=now)
                inserts.append(row)
            else:
                row["b_id"] = row_id
                updates.append(row)
                changed = [c for c in CASE_COMPARED if getattr(old, c) != row[c]]
                result.changed_fields.update(changed or ["debtor_name_or_address"])
                changed_accounts.append(rec["account_no"])
        if inserts:
            write(inserts)
        if updates:
            connection.execute(update_stmt, updates)
        if refreshes:
            connection.execute(refresh_stmt, refreshes)
            result.extra["dpd_refreshed"] = result.extra.get("dpd_refreshed", 0) + len(refreshes)
        result.inserted += len(inserts)
        result.updated += len(updates)
        buffer.clear()

    parser = _case_parser(today, max_amount_cents(session))
    for row_no, rec in _records(path, filename, CASE_COLUMNS, parser, session, result, errors):
        first = seen.get(rec["account_no"])
        if first is not None:
            errors.add(RowError(row_no, "account_no", rec["account_no"],
                                str(_l("Account number already on row %(row)s of this file.", row=first))))
            continue
        seen[rec["account_no"]] = row_no
        if result.error_count:
            continue  # keep checking, stop writing: the transaction will be rolled back
        buffer.append((row_no, rec))
        if len(buffer) >= batch:
            flush()
            if progress:
                progress(result.rows, "")
    if result.error_count:
        raise ImportRejected(result)
    if buffer:
        flush()
    if progress:
        progress(result.rows, "")
    # Which accounts a re-import changed (account numbers only, never a value), so an
    # auditor can tell what an import touched.
    _finish(session, actor, result, filename,
            audit_extra={"changed_accounts": listing(changed_accounts, audit_cap(session))})
    return result


_CANONICAL_KEYS = tuple(c.name for c in CASE_COLUMNS)
assert len(_CANONICAL_KEYS) == 14, "_canonical below lists every column: update it too"


def _canonical(rec: dict[str, Any]) -> str:
    """The record as one string, for its import digest (same text as joining every field of
    _CANONICAL_KEYS with \x1f, flags with |), written out: it runs once per row."""
    return (f"{rec['account_no']}\x1f{rec['product']}\x1f{rec['principal']}\x1f{rec['interest']}\x1f"
            f"{rec['fees']}\x1f{rec['currency']}\x1f{rec['overdue_since']}\x1f{rec['region']}\x1f"
            f"{'|'.join(rec['flags'])}\x1f{rec['debtor_name']}\x1f{rec['national_id']}\x1f{rec['phone']}\x1f"
            f"{rec['address']}\x1f{rec['debtor_timezone']}")


def _finish(session: Session, actor: Any, result: ImportResult, filename: str,
            audit_extra: dict[str, Any] | None = None) -> ImportRun:
    run = ImportRun(id=uuid.uuid4(), kind=result.kind, filename=filename[:255], sha256=result.sha256, status="done",
                    counts=result.counts(), errors=[], created_by=getattr(actor, "id", None), created_at=clock.now())
    session.add(run)
    session.flush()
    record(session, actor, f"{result.kind}.imported", "import_run", run.id,
           after={"file_sha256": result.sha256, **result.counts(), **(audit_extra or {})})
    result.extra["import_id"] = str(run.id)
    return run


def record_refusal(session: Session, actor: Any, result: ImportResult, filename: str) -> ImportRun:
    """Keep the error report of a refused file (called in a fresh transaction, after the
    import's own was rolled back). Values in it are masked where they are debtor PII."""
    run = ImportRun(id=uuid.uuid4(), kind=result.kind, filename=filename[:255], sha256=result.sha256,
                    status="refused", counts=result.counts(), errors=[e.as_list() for e in result.errors],
                    created_by=getattr(actor, "id", None), created_at=clock.now())
    session.add(run)
    session.flush()
    record(session, actor, f"{result.kind}.import_refused", "import_run", run.id,
           after={"file_sha256": result.sha256, "rows": result.rows, "errors": result.error_count})
    return run


# -- ledger -----------------------------------------------------------------------------------
def _ledger_parser(today: date, max_cents: int) -> Callable[..., dict[str, Any] | None]:
    return _spec_parser((
        ("reference", lambda v: text(v, max_len=64), True, None),
        ("account_no", lambda v: text(v, max_len=64), True, None),
        ("paid_on", lambda v: a_date(v, today), True, None),
        ("amount", lambda v: cents(v, max_cents=max_cents, positive=True), True, None),
        ("kind", lambda v: choice(v, LEDGER_KINDS), False, "payment"),
    ))


def import_ledger(session: Session, actor: Any, path: Path, filename: str, *,
                  progress: ProgressFn | None = None, batch: int = BATCH) -> ImportResult:
    """Import the bank's ledger of payments received. Payoffs and settlements close the
    case and recall its active placement (trigger ``repaid`` / ``settled``)."""
    from portal.placements.recall import recall_cases
    from portal.placements.reconciliation import match_payments

    require(actor, "ledger.import")
    result = ImportResult("ledger", sha256=file_digest(path))
    errors = _Errors(result, int(policy(session, "imports.max_errors_listed")))
    now = clock.now()
    connection = session.connection()
    table = cast(Table, LedgerPayment.__table__)
    cases = cast(Table, Case.__table__)
    seen: dict[str, int] = {}
    buffer: list[tuple[int, dict[str, Any]]] = []
    closing: dict[str, list[uuid.UUID]] = {"payoff": [], "settlement": []}
    touched: set[uuid.UUID] = set()  # cases with a new or changed payment: reconciled at the end
    update_stmt = update(table).where(table.c.id == bindparam("b_id")).values(
        account_no=bindparam("account_no"), case_id=bindparam("case_id"), paid_on=bindparam("paid_on"),
        amount_cents=bindparam("amount_cents"), kind=bindparam("kind"))

    def flush() -> None:
        accounts = list({rec["account_no"] for _r, rec in buffer})
        case_ids = dict(connection.execute(select(cases.c.account_no, cases.c.id).where(cases.c.account_no.in_(accounts))).all())
        existing = {r.reference: r for r in connection.execute(
            select(table).where(table.c.reference.in_([rec["reference"] for _r, rec in buffer])))}
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for row_no, rec in buffer:
            case_id = case_ids.get(rec["account_no"])
            if case_id is None:
                errors.add(RowError(row_no, "account_no", rec["account_no"], str(_l("No case has this account number."))))
                continue
            row = {"account_no": rec["account_no"], "case_id": case_id, "paid_on": rec["paid_on"],
                   "amount_cents": rec["amount"], "kind": rec["kind"]}
            old = existing.get(rec["reference"])
            # Only news closes a case: a payoff or settlement first seen now, or a row whose
            # kind changed to one. Re-importing a file recalls nothing a second time (the
            # case may have been re-placed since).
            if rec["kind"] in closing and (old is None or old.kind != rec["kind"]):
                closing[rec["kind"]].append(case_id)
            if old is None:
                inserts.append({**row, "id": uuid.uuid4(), "reference": rec["reference"], "imported_at": now})
                touched.add(case_id)
            elif any(getattr(old, k) != v for k, v in row.items()):
                updates.append({**row, "b_id": old.id})
                touched.add(case_id)
                result.changed_fields.update(k for k, v in row.items() if getattr(old, k) != v)
            else:
                result.unchanged += 1
        if result.error_count:
            buffer.clear()
            return
        if inserts:
            connection.execute(insert(table), inserts)
        if updates:
            connection.execute(update_stmt, updates)
        result.inserted += len(inserts)
        result.updated += len(updates)
        buffer.clear()

    parser = _ledger_parser(clock.today(), max_amount_cents(session))
    for row_no, rec in _records(path, filename, LEDGER_COLUMNS, parser, session, result, errors):
        first = seen.get(rec["reference"])
        if first is not None:
            errors.add(RowError(row_no, "reference", rec["reference"],
                                str(_l("Transaction reference already on row %(row)s of this file.", row=first))))
            continue
        seen[rec["reference"]] = row_no
        buffer.append((row_no, rec))
        if len(buffer) >= batch:
            flush()
            if progress:
                progress(result.rows, "")
    if buffer:
        flush()
    if result.error_count:
        raise ImportRejected(result)
    recalled = 0
    for kind, trigger in (("payoff", "repaid"), ("settlement", "settled")):
        ids = sorted(set(closing[kind]), key=str)
        if ids:
            recalled += recall_cases(session, actor, ids, trigger, str(_l("Ledger import: %(kind)s received", kind=kind)),
                                     check=False)
    result.extra["recalled"] = recalled
    result.extra["matched"] = match_payments(session, touched)
    _finish(session, actor, result, filename)
    return result
