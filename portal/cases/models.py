from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, new_id
from portal.security.crypto import EncryptedField

PII_COLUMNS = ("debtor_name", "national_id", "phone", "address")


class Case(Base):
    """One overdue account. Debtor PII is stored only as ciphertext bound to this row
    (``*_ct``); national ID and phone also carry a blind index for exact search."""

    __tablename__ = "cases"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    account_no: Mapped[str] = mapped_column(String(64), unique=True)
    product: Mapped[str] = mapped_column(String(30))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    principal_cents: Mapped[int]
    interest_cents: Mapped[int] = mapped_column(default=0)
    fees_cents: Mapped[int] = mapped_column(default=0)
    overdue_since: Mapped[date]
    dpd: Mapped[int] = mapped_column(index=True)
    bucket: Mapped[str] = mapped_column(String(20), index=True)
    region: Mapped[str] = mapped_column(String(50), index=True)
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    debtor_timezone: Mapped[str] = mapped_column(String(50), default="Asia/Shanghai")
    debtor_name_ct: Mapped[bytes] = mapped_column("debtor_name", LargeBinary)
    national_id_ct: Mapped[bytes] = mapped_column("national_id", LargeBinary)
    national_id_bidx: Mapped[bytes] = mapped_column(LargeBinary(16), index=True)
    phone_ct: Mapped[bytes] = mapped_column("phone", LargeBinary)
    phone_bidx: Mapped[bytes] = mapped_column(LargeBinary(16), index=True)
    address_ct: Mapped[bytes | None] = mapped_column("address", LargeBinary)
    # Keyed digest (HMAC under the blind-index key) of the imported record, PII included:
    # lets a re-import tell "unchanged" from "changed" without decrypting, and reveals
    # nothing about the values.
    import_digest: Mapped[bytes | None] = mapped_column(LargeBinary(16))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    debtor_name = EncryptedField("debtor_name")
    national_id = EncryptedField("national_id", index="national_id")
    phone = EncryptedField("phone", index="phone")
    address = EncryptedField("address")

    @property
    def total_cents(self) -> int:
        return self.principal_cents + self.interest_cents + self.fees_cents


class LedgerPayment(Base):
    """A payment the bank received for an account (its ledger, imported). Money never
    passes through an agency; this is the truth agency reports are reconciled against."""

    __tablename__ = "ledger_payments"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    reference: Mapped[str] = mapped_column(String(64), unique=True)  # the bank's transaction id
    account_no: Mapped[str] = mapped_column(String(64), index=True)
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"), index=True)
    paid_on: Mapped[date] = mapped_column(index=True)
    amount_cents: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20), default="payment")  # payment|settlement|payoff
    imported_at: Mapped[datetime]


class ImportRun(Base):
    """One import of a case or ledger file: who, what file (by digest), the counts, and the
    error report when it was refused. Rows never carry PII in clear."""

    __tablename__ = "import_runs"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(20))  # cases|ledger
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))  # done|refused
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    errors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    message: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime]
