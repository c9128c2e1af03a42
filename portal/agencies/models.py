from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, new_id


class Agency(Base):
    __tablename__ = "agencies"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str | None] = mapped_column(String(18), index=True)  # unified social credit code
    status: Mapped[str] = mapped_column(String(30), default="draft", index=True)
    region: Mapped[str | None] = mapped_column(String(50))
    # Suspended from *new* placements (expiry grace over, licence lapsed) while still
    # serving existing ones; distinct from the lifecycle's `suspended` state.
    placement_hold: Mapped[bool] = mapped_column(default=False)
    placement_hold_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    contracts: Mapped[list[Contract]] = relationship(back_populates="agency")


class Contract(Base):
    """Contract terms (seed 001 第六条). Numbers the placement rules read come from here."""

    __tablename__ = "contracts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"), index=True)
    reference: Mapped[str] = mapped_column(String(100))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    buckets: Mapped[list[str]] = mapped_column(JSON, default=list)
    max_active_cases: Mapped[int]
    max_active_amount_cents: Mapped[int]
    # bucket code -> commission in basis points of reconciled recoveries
    commission_bp: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    recording_retention_months: Mapped[int] = mapped_column(default=12)
    conduct_preset: Mapped[str] = mapped_column(String(50), default="cn-cba-2026")
    # mandate limits (seed 000 代理权限)
    max_waiver_bp: Mapped[int] = mapped_column(default=0)
    max_instalment_months: Mapped[int] = mapped_column(default=0)
    renewal_terms: Mapped[str | None] = mapped_column(Text)
    termination_terms: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="signed")  # signed|ended
    created_at: Mapped[datetime]

    agency: Mapped[Agency] = relationship(back_populates="contracts")
