"""Tables of agency onboarding and vetting (DOMAIN.md §1): the agency register and its
application, the checklist (definitions are data, so a bank can add its own criteria),
verdicts, evidence documents (encrypted, versioned), on-site inspections, four-eyes
approvals, contracts, the exit register and expiry alerts.

Every table lives in this one module because ``portal.schema`` builds the schema from
each capability's ``models``; the rules that use them are in ``lifecycle``, ``checks``
and the ``*_ops`` modules.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, new_id
from portal.security.crypto import EncryptedField

# Lifecycle states (the machine is in ``lifecycle``).
DRAFT = "draft"
SUBMITTED = "submitted"
UNDER_REVIEW = "under_review"
APPROVED = "approved"
REJECTED = "rejected"
CONTRACT_SIGNED = "contract_signed"
ACTIVE = "active"
SUSPENDED = "suspended"
TERMINATED = "terminated"
STATES = (DRAFT, SUBMITTED, UNDER_REVIEW, APPROVED, REJECTED, CONTRACT_SIGNED, ACTIVE,
          SUSPENDED, TERMINATED)

# Checklist verdicts.
PASS, FAIL, NEEDS_INFO = "pass", "fail", "needs_info"
VERDICTS = (PASS, FAIL, NEEDS_INFO)


class Agency(Base):
    __tablename__ = "agencies"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))  # legal name as on the business licence
    uscc: Mapped[str | None] = mapped_column(String(18), index=True)  # unified social credit code
    status: Mapped[str] = mapped_column(String(30), default="draft", index=True)
    region: Mapped[str | None] = mapped_column(String(50))
    # Suspended from *new* placements (expiry grace over, licence lapsed) while still
    # serving existing ones; distinct from the lifecycle's `suspended` state.
    placement_hold: Mapped[bool] = mapped_column(default=False)
    placement_hold_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    # -- the application (seed 001 准入条件) -------------------------------------------
    registered_on: Mapped[date | None]
    registered_address: Mapped[str | None] = mapped_column(Text)
    premises: Mapped[str | None] = mapped_column(Text)  # fixed business premises, if not the address
    licence_scope: Mapped[str | None] = mapped_column(Text)  # 经营范围, verbatim
    licence_number: Mapped[str | None] = mapped_column(String(100))
    licence_expires_on: Mapped[date | None]
    is_law_firm: Mapped[bool] = mapped_column(default=False)
    collection_system: Mapped[str | None] = mapped_column(Text)
    # [{"name", "role", "phone", "email"}]: business contacts of the agency, not debtors.
    contacts: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    submitted_at: Mapped[datetime | None]
    # When due diligence was last completed (the approval); valid for a policy period.
    due_diligence_on: Mapped[date | None]
    # A new application by an agency whose earlier one (same USCC) was rejected points back to it.
    previous_application_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agencies.id"))
    # X25519 public key (raw 32 bytes, base64) for packets encrypted to the agency.
    public_key: Mapped[str | None] = mapped_column(String(64))
    public_key_registered_at: Mapped[datetime | None]

    contracts: Mapped[list[Contract]] = relationship(back_populates="agency")
    clients: Mapped[list[FiClient]] = relationship(
        back_populates="agency", cascade="all, delete-orphan", order_by="FiClient.since"
    )


class FiClient(Base):
    """An existing financial-institution client of the agency (≥ policy minimum)."""

    __tablename__ = "agency_fi_clients"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    since: Mapped[date]
    business: Mapped[str | None] = mapped_column(Text)  # what they outsource today

    agency: Mapped[Agency] = relationship(back_populates="clients")


class ChecklistItem(Base):
    """One vetting criterion. Seeded from DOMAIN.md §1; a bank adds its own as rows."""

    __tablename__ = "agency_checklist_items"

    code: Mapped[str] = mapped_column(String(50), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    title_zh: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    description_zh: Mapped[str | None] = mapped_column(Text)
    mandatory: Mapped[bool] = mapped_column(Boolean, default=True)
    # The automatic check that informs the reviewer (``checks.AUTOMATIC``), if any.
    automatic: Mapped[str | None] = mapped_column(String(50))
    position: Mapped[int] = mapped_column(Integer, default=100)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class ChecklistVerdict(Base):
    """One verdict of a reviewer on one item for one agency. Every verdict is a row (the
    history stays, so four eyes can name everyone who reviewed); ``is_current`` marks the
    latest per item, which a partial unique index keeps to one. A current verdict becomes
    *stale* when the application or its evidence for that item changes after it was given:
    it no longer counts as passed until a reviewer decides again."""

    __tablename__ = "agency_checklist_verdicts"
    __table_args__ = (
        Index("uq_agency_checklist_verdicts_current", "agency_id", "item_code", unique=True,
              sqlite_where=text("is_current"), postgresql_where=text("is_current")),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"), index=True)
    item_code: Mapped[str] = mapped_column(ForeignKey("agency_checklist_items.code"))
    verdict: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    reviewer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime]
    is_current: Mapped[bool] = mapped_column(default=True)
    stale_at: Mapped[datetime | None]
    stale_reason: Mapped[str | None] = mapped_column(Text)


class ReviewParticipant(Base):
    """Who took part in an agency's review and how (verdict, inspection, return, proposal):
    the people four eyes keeps from deciding it. Insert-only."""

    __tablename__ = "agency_review_participants"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    act: Mapped[str] = mapped_column(String(20))  # verdict | inspection | return | proposal
    at: Mapped[datetime]


class AgencyDocument(Base):
    """One version of an evidence document. Content is AES-GCM encrypted under the keyring
    (bound to this row); a replacement is a new row whose ``supersedes_id`` points back,
    so history is kept."""

    __tablename__ = "agency_documents"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    item_code: Mapped[str | None] = mapped_column(ForeignKey("agency_checklist_items.code"))
    inspection_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agency_inspections.id"))
    title: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(200))  # sanitised display name only
    content_type: Mapped[str] = mapped_column(String(50))  # sniffed, never the client's claim
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content_ct: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)  # not loaded by lists
    content = EncryptedField("content", binary=True)
    version: Mapped[int] = mapped_column(default=1)
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agency_documents.id"))
    is_current: Mapped[bool] = mapped_column(default=True)
    expires_on: Mapped[date | None]  # certificates and licences expire; the watch reads this
    uploaded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime]


class Inspection(Base):
    """On-site inspection (现场检查): date, inspectors, findings per checklist item."""

    __tablename__ = "agency_inspections"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"), index=True)
    inspected_on: Mapped[date]
    inspectors: Mapped[list[str]] = mapped_column(JSON, default=list)
    findings: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # item code -> finding
    summary: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime]


class Approval(Base):
    """Four eyes: a vendor manager proposes, a different approver decides."""

    __tablename__ = "agency_approvals"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"), index=True)
    proposal: Mapped[str] = mapped_column(String(20))  # approve | reject
    proposal_note: Mapped[str] = mapped_column(Text)
    proposed_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[datetime]
    decision: Mapped[str | None] = mapped_column(String(20))  # approved | rejected
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]


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
    # signed | ended (ended early by termination). Which signed contract is *in force* is a
    # matter of dates (``queries.contract_in_force``): a renewal leaves its predecessor
    # signed, and it simply stops being in force when the renewal starts or it ends.
    status: Mapped[str] = mapped_column(String(20), default="signed")
    created_at: Mapped[datetime]
    signed_document_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agency_documents.id"))
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))

    agency: Mapped[Agency] = relationship(back_populates="contracts")


class DueDiligence(Base):
    """A due diligence redone after approval (it is valid for a policy period and redone
    before renewal); the latest date is also kept on ``Agency.due_diligence_on``."""

    __tablename__ = "agency_due_diligence"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"), index=True)
    done_on: Mapped[date]
    summary: Mapped[str] = mapped_column(Text)
    document_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agency_documents.id"))
    recorded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime]


class ExitEntry(Base):
    """Exit register (退出): an agency terminated for cause; its USCC is refused until
    ``refused_until``."""

    __tablename__ = "agency_exit_register"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(String(30), unique=True)  # cited in refusals
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"), index=True)
    uscc: Mapped[str | None] = mapped_column(String(18), index=True)
    reason: Mapped[str] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    exited_on: Mapped[date]
    refused_until: Mapped[date]


class ExpiryAlert(Base):
    """One alert or reminder of the expiry watch. The unique key is what makes the job
    idempotent: the n-th reminder for a subject's expiry date exists at most once."""

    __tablename__ = "agency_expiry_alerts"
    __table_args__ = (
        UniqueConstraint("agency_id", "subject", "expires_on", "sequence", name="alert_once"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"), index=True)
    subject: Mapped[str] = mapped_column(String(80))  # licence | due_diligence | contract:<id> | document:<id>
    label: Mapped[str] = mapped_column(String(200))
    expires_on: Mapped[date]
    # 0 = first alert, 1.. = reminders, 1000.. = overdue notices (expiry.OVERDUE_BASE),
    # -1 = placement hold
    sequence: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))  # alert | reminder | overdue | hold
    raised_on: Mapped[date]
    created_at: Mapped[datetime]

    agency: Mapped[Agency] = relationship()
