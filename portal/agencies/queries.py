"""Reads for the agency pages (no changes here)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.agencies import checks
from portal.agencies.checklist import active_items
from portal.agencies.models import (
    Agency,
    AgencyDocument,
    Approval,
    ChecklistItem,
    ChecklistVerdict,
    Contract,
    DueDiligence,
    ExitEntry,
    Inspection,
)
from portal.agencies.verdicts import current_verdicts
from portal.identity.models import User
from portal.security.access import require


def list_agencies(session: Session, actor: Any, status: str | None = None) -> list[Agency]:
    require(actor, "agency.list")
    stmt = select(Agency).order_by(Agency.status, Agency.name)
    if status:
        stmt = stmt.where(Agency.status == status)
    return list(session.scalars(stmt))


def counts_by_status(session: Session) -> dict[str, int]:
    return dict(session.execute(select(Agency.status, func.count()).group_by(Agency.status)).all())  # type: ignore[arg-type]


@dataclass
class ReviewRow:
    item: ChecklistItem
    verdict: ChecklistVerdict | None
    reviewer: str | None
    automatic: checks.CheckResult | None
    documents: list[AgencyDocument]


def review_rows(session: Session, agency: Agency) -> list[ReviewRow]:
    verdicts = current_verdicts(session, agency.id)
    names = user_names(session, {v.reviewer_id for v in verdicts.values()})
    docs: dict[str, list[AgencyDocument]] = {}
    for d in session.scalars(select(AgencyDocument).where(AgencyDocument.agency_id == agency.id,
                                                         AgencyDocument.is_current.is_(True),
                                                         AgencyDocument.item_code.is_not(None))):
        docs.setdefault(d.item_code or "", []).append(d)
    rows = []
    for item in active_items(session):
        v = verdicts.get(item.code)
        rows.append(ReviewRow(item, v, names.get(v.reviewer_id) if v else None,
                              checks.run_automatic(session, agency, item.automatic), docs.get(item.code, [])))
    return rows


def user_names(session: Session, ids: set[Any]) -> dict[Any, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())  # type: ignore[arg-type]


def uploaded_by_agency(session: Session, ids: set[Any]) -> dict[Any, bool]:
    """user id -> whether that user is an agency's (the side a document came from)."""
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {uid: agency_id is not None
            for uid, agency_id in session.execute(select(User.id, User.agency_id).where(User.id.in_(ids)))}


def previous_application(session: Session, actor: Any, agency: Agency) -> Agency | None:
    """The rejected application this one reapplies after (an agency user sees its own
    company's earlier application only by name: it is another agency row)."""
    if agency.previous_application_id is None:
        return None
    return session.get(Agency, agency.previous_application_id)


def due_diligence_of(session: Session, agency_id: uuid.UUID) -> list[DueDiligence]:
    return list(session.scalars(select(DueDiligence).where(DueDiligence.agency_id == agency_id)
                                .order_by(DueDiligence.done_on.desc(), DueDiligence.recorded_at.desc())))


def approvals_of(session: Session, agency_id: uuid.UUID) -> list[Approval]:
    return list(session.scalars(select(Approval).where(Approval.agency_id == agency_id)
                                .order_by(Approval.proposed_at.desc())))


def inspections_of(session: Session, agency_id: uuid.UUID) -> list[Inspection]:
    return list(session.scalars(select(Inspection).where(Inspection.agency_id == agency_id)
                                .order_by(Inspection.inspected_on.desc())))


def contracts_of(session: Session, agency_id: uuid.UUID) -> list[Contract]:
    return list(session.scalars(select(Contract).where(Contract.agency_id == agency_id)
                                .order_by(Contract.starts_on.desc())))


def exit_entries(session: Session, agency_id: uuid.UUID) -> list[ExitEntry]:
    return list(session.scalars(select(ExitEntry).where(ExitEntry.agency_id == agency_id)))


def waiting_for(session: Session, actor: Any) -> dict[str, int]:
    """Work waiting for a role (home panels)."""
    from portal.agencies.models import SUBMITTED, UNDER_REVIEW

    role = getattr(actor, "role", None)
    if role == "vendor_manager":
        return {"submitted": session.scalar(select(func.count()).select_from(Agency)
                                            .where(Agency.status == SUBMITTED)) or 0}
    if role == "approver":
        return {"proposals": session.scalar(
            select(func.count()).select_from(Approval).join(Agency, Agency.id == Approval.agency_id)
            .where(Approval.decision.is_(None), Agency.status == UNDER_REVIEW)) or 0}
    return {}


# -- contracts: which one is in force is a matter of dates ------------------------------
def contract_in_force(session: Session, agency_id: uuid.UUID, on_date: date) -> Contract | None:
    """The signed contract in force on ``on_date`` (starts_on <= on_date <= ends_on). Where a
    renewal overlaps its predecessor, the one that started last governs. A renewal signed
    ahead of time is recorded beside the current contract and takes over on its start date;
    a contract ended by termination has status ``ended`` and is never in force."""
    return session.scalars(
        select(Contract).where(Contract.agency_id == agency_id, Contract.status == "signed",
                               Contract.starts_on <= on_date, Contract.ends_on >= on_date)
        .order_by(Contract.starts_on.desc(), Contract.ends_on.desc(), Contract.created_at.desc()).limit(1)
    ).first()


def latest_signed_contract(session: Session, agency_id: uuid.UUID) -> Contract | None:
    """The signed contract that started (or starts) last, in force or not yet."""
    return session.scalars(
        select(Contract).where(Contract.agency_id == agency_id, Contract.status == "signed")
        .order_by(Contract.starts_on.desc(), Contract.ends_on.desc(), Contract.created_at.desc()).limit(1)
    ).first()


def contract_to_watch(contracts: Iterable[Contract], today: date) -> Contract | None:
    """Of one agency's signed contracts, the one whose end is the end of its cover: from
    the contract in force today, follow renewals that start no later than the day after
    their predecessor ends. If none is in force, the one that ended last (so the watch
    keeps counting its grace and hold). None if no contract has started yet."""
    signed = sorted((c for c in contracts if c.status == "signed"), key=lambda c: (c.starts_on, c.ends_on))
    in_force = [c for c in signed if c.starts_on <= today <= c.ends_on]
    if not in_force:
        started = [c for c in signed if c.starts_on <= today]
        return max(started, key=lambda c: c.ends_on) if started else None
    current = in_force[-1]
    while True:
        successor = max((c for c in signed if current.ends_on < c.ends_on
                         and c.starts_on <= current.ends_on + timedelta(days=1)),
                        key=lambda c: c.ends_on, default=None)
        if successor is None:
            return current
        current = successor


__all__ = ["contract_in_force", "contract_to_watch", "latest_signed_contract", "list_agencies", "review_rows"]
