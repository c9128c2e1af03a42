from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, new_id

ACTIVE = "active"


class Placement(Base):
    """A case placed with an agency for a term. At most one active placement per case,
    enforced by a partial unique index, so concurrent batches cannot double-place."""

    __tablename__ = "placements"
    __table_args__ = (
        Index(
            "uq_placements_one_active_per_case",
            "case_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        Index("ix_placements_agency_status", "agency_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"))
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"))
    batch_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    status: Mapped[str] = mapped_column(String(20), default=ACTIVE)  # active|recalled|ended
    bucket_at_placement: Mapped[str] = mapped_column(String(20))
    amount_cents: Mapped[int]
    placed_at: Mapped[datetime]
    term_ends_at: Mapped[datetime]
    recalled_at: Mapped[datetime | None]
    recall_trigger: Mapped[str | None] = mapped_column(String(30))
    recall_reason: Mapped[str | None] = mapped_column(Text)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class PlacementBatch(Base):
    """A batch a vendor manager builds from a filter and an approver releases (four eyes).
    The seed is recorded so that the allocation can be recomputed exactly."""

    __tablename__ = "placement_batches"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)  # draft|released|rejected
    criteria: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    strategy: Mapped[str] = mapped_column(String(30))
    seed: Mapped[int]
    challengers: Mapped[list[str]] = mapped_column(JSON, default=list)
    term_days: Mapped[int]
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime]
    decided_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    decided_at: Mapped[datetime | None]
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The list the approver reviews is frozen (placement_batch_cases) when the batch is
    # built or its preview recomputed: cases imported later never ride along unreviewed.
    # The digest names that list; the release form posts it back and a changed list is
    # refused. ``preview`` is the allocation computed then, shown without recomputing.
    candidates_count: Mapped[int | None]
    candidates_digest: Mapped[str | None] = mapped_column(String(64))
    preview: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    previewed_at: Mapped[datetime | None]


class PlacementBatchCase(Base):
    """One case of a batch's frozen candidate list."""

    __tablename__ = "placement_batch_cases"

    batch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("placement_batches.id"), primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), primary_key=True)


class PaymentReport(Base):
    """A payment an agency says the debtor made. Only the bank's ledger makes it real:
    reconciliation pairs it with a ledger payment (same account and amount, close date)."""

    __tablename__ = "payment_reports"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"), index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    placement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("placements.id"))
    paid_on: Mapped[date]
    amount_cents: Mapped[int]
    reference: Mapped[str | None] = mapped_column(String(100))
    reported_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    reported_at: Mapped[datetime]
    # The ledger payment this report was matched to, stored once (reconciliation.match):
    # unique, so one payment the bank received earns at most one agency's commission, and
    # a statement reads the same however often it is run.
    ledger_payment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("ledger_payments.id"), unique=True)
    matched_at: Mapped[datetime | None]
