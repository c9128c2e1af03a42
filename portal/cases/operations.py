"""Case operations. Bulk writes are set-based: rows are prepared (encrypted, indexed) in
Python, then written with one executemany per batch, never an ORM object per row."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from audit.log import record
from portal import clock
from portal.cases.buckets import Ladders, dpd_on
from portal.cases.models import Case
from portal.security import crypto
from portal.security.access import require

TABLE = Case.__table__


def encrypt_pii(cipher: crypto.FieldCipher, row_id: uuid.UUID, pii: dict[str, str | None]) -> dict[str, Any]:
    """The stored columns for a case's PII: ciphertexts bound to the row, blind indexes."""
    rid = str(row_id)
    out: dict[str, Any] = {}
    for column in ("debtor_name", "national_id", "phone", "address"):
        value = pii.get(column)
        out[column] = None if value is None else cipher.encrypt(value, f"cases.{column}.{rid}".encode())
    out["national_id_bidx"] = cipher.blind_index("national_id", pii["national_id"] or "")
    out["phone_bidx"] = cipher.blind_index("phone", pii["phone"] or "")
    return out


def prepare_case_rows(session: Session, records: Iterable[dict[str, Any]], today: date | None = None) -> Iterator[dict[str, Any]]:
    """Turn plain case records (PII in clear) into insertable rows."""
    cipher = crypto.cipher()
    ladders = Ladders(session)
    today = today or clock.today()
    now = clock.now()
    for rec in records:
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
        row.update(encrypt_pii(cipher, row_id, rec))
        yield row


def insert_cases(session: Session, actor: Any, records: Iterable[dict[str, Any]], *, batch: int = 5000,
                 reason: str | None = None) -> int:
    """Insert new cases in batches; one audit entry for the whole load (counts, no PII)."""
    require(actor, "case.import")
    count = 0
    buffer: list[dict[str, Any]] = []
    connection = session.connection()
    for row in prepare_case_rows(session, records):
        buffer.append(row)
        if len(buffer) >= batch:
            connection.execute(insert(TABLE), buffer)
            count += len(buffer)
            buffer.clear()
    if buffer:
        connection.execute(insert(TABLE), buffer)
        count += len(buffer)
    record(session, actor, "cases.inserted", "case_batch", None, after={"count": count}, reason=reason)
    return count
