"""Case operations. Bulk writes are set-based: rows are prepared (encrypted, indexed) in
Python, then written with one executemany per batch, never an ORM object per row."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import Any

from sqlalchemy import Date, Integer, cast, func, literal, or_, select, update
from sqlalchemy.orm import Session

from audit.log import record
from portal import clock
from portal.bulk import row_writer
from portal.cases.buckets import Ladders, dpd_on
from portal.cases.models import Case
from portal.security import crypto
from portal.security.access import require
from portal.security.scoping import get_case

TABLE = Case.__table__
CHUNK = 5000


def encrypt_pii(cipher: crypto.FieldCipher, row_id: uuid.UUID, pii: dict[str, str | None],
                encrypt: Callable[[str, bytes], bytes] | None = None) -> dict[str, Any]:
    """The stored columns for a case's PII: ciphertexts bound to the row, blind indexes.
    ``encrypt`` (``cipher.encryptor()``) lets a batch skip the per-value keyring check."""
    rid = str(row_id)
    seal = encrypt or cipher.encrypt
    get = pii.get
    name, national_id, phone, address = get("debtor_name"), pii["national_id"], pii["phone"], get("address")
    return {
        "debtor_name": None if name is None else seal(name, f"cases.debtor_name.{rid}".encode()),
        "national_id": None if national_id is None else seal(national_id, f"cases.national_id.{rid}".encode()),
        "phone": None if phone is None else seal(phone, f"cases.phone.{rid}".encode()),
        "address": None if address is None else seal(address, f"cases.address.{rid}".encode()),
        "national_id_bidx": cipher.blind_index("national_id", national_id or ""),
        "phone_bidx": cipher.blind_index("phone", phone or ""),
    }


def prepare_case_rows(session: Session, records: Iterable[dict[str, Any]], today: date | None = None) -> Iterator[dict[str, Any]]:
    """Turn plain case records (PII in clear) into insertable rows."""
    cipher = crypto.cipher()
    ladders = Ladders(session)
    today = today or clock.today()
    now = clock.now()
    encrypt = None
    for n, rec in enumerate(records):
        if n % 1000 == 0:  # a key rotated in mid-load is picked up within a thousand rows
            encrypt = cipher.encryptor()
        row_id = rec.get("id") or uuid.uuid4()
        dpd = dpd_on(rec["overdue_since"], today)
        row = {
            "id": row_id,
            "account_no": rec["account_no"],
            "product": rec["product"],
            "currency": rec.get("currency", "CNY"),
            "principal_cents": rec["principal_cents"],
            "interest_cents": rec.get("interest_cents", 0),
            "fees_cents": rec.get("fees_cents", 0),
            "overdue_since": rec["overdue_since"],
            "dpd": dpd,
            "bucket": ladders.bucket(rec["product"], dpd),
            "region": rec["region"],
            "flags": sorted(set(rec.get("flags") or [])),
            "status": "open",
            "debtor_timezone": rec.get("debtor_timezone", "Asia/Shanghai"),
            "created_at": now,
            "updated_at": now,
        }
        row.update(encrypt_pii(cipher, row_id, rec, encrypt))
        yield row


def insert_cases(session: Session, actor: Any, records: Iterable[dict[str, Any]], *, batch: int = 5000,
                 reason: str | None = None) -> int:
    """Insert new cases in batches; one audit entry for the whole load (counts, no PII)."""
    require(actor, "case.import")
    count = 0
    buffer: list[dict[str, Any]] = []
    write = row_writer(session.connection(), TABLE)
    for row in prepare_case_rows(session, records):
        buffer.append(row)
        if len(buffer) >= batch:
            write(buffer)
            count += len(buffer)
            buffer.clear()
    if buffer:
        write(buffer)
        count += len(buffer)
    record(session, actor, "cases.inserted", "case_batch", None, after={"count": count}, reason=reason)
    return count


# -- days past due move on every day ---------------------------------------------------------
def dpd_expression(session: Session, today: date) -> Any:
    """Days from ``overdue_since`` to ``today`` (never below zero) as SQL."""
    if session.get_bind().dialect.name == "sqlite":
        days = cast(func.julianday(literal(today.isoformat())) - func.julianday(Case.overdue_since), Integer)
        return func.max(0, days)
    return func.greatest(0, cast(literal(today), Date) - Case.overdue_since)


def refresh_dpd(session: Session, actor: Any, today: date | None = None, *, chunk: int = CHUNK) -> dict[str, Any]:
    """Bring every open case's DPD and bucket to ``today``: set-based UPDATEs over chunks of
    case ids (keyset on the id, so each chunk is an index range), the bucket as one SQL
    CASE per product ladder of the policy rows. Idempotent: a second run the same day
    writes nothing. One audit entry with the counts."""
    require(actor, "case.import")
    today = today or clock.today()
    dpd = dpd_expression(session, today)
    bucket = Ladders(session).sql_bucket(Case.product, dpd)
    open_cases = updated = 0
    last: Any = None
    while True:
        stmt = select(Case.id).where(Case.status == "open").order_by(Case.id).limit(chunk)
        if last is not None:
            stmt = stmt.where(Case.id > last)
        ids = list(session.scalars(stmt))
        if not ids:
            break
        open_cases += len(ids)
        last = ids[-1]
        updated += session.execute(
            update(Case).where(Case.id.in_(ids), or_(Case.dpd != dpd, Case.bucket != bucket))
            .values(dpd=dpd, bucket=bucket).execution_options(synchronize_session=False)
        ).rowcount or 0  # type: ignore[attr-defined]
    counts = {"on": today.isoformat(), "open_cases": open_cases, "updated": updated}
    record(session, actor, "cases.dpd_refreshed", "case_batch", None, after=counts)
    session.expire_all()
    return counts


def open_case(session: Session, actor: Any, case_id: Any, *, channel: str = "portal") -> Case:
    """A debtor's file, opened by ``actor`` through the scoped path, and the opening put on
    the record: who saw whose data, when, through which door (never the data itself)."""
    case = get_case(session, actor, case_id)
    record(session, actor, "case.opened", "case", case.id, after={"channel": channel})
    return case
