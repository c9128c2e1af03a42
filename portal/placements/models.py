from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, Uuid, text
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
