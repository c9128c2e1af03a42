"""Reads for the agency pages (no changes here)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.agencies import checks, lifecycle
from portal.agencies.checklist import active_items
from portal.agencies.models import (
    Agency,
    AgencyDocument,
    Approval,
    ChecklistItem,
    ChecklistVerdict,
    Contract,
    ExitEntry,
    Inspection,
)
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
    verdicts = {v.item_code: v for v in session.scalars(
        select(ChecklistVerdict).where(ChecklistVerdict.agency_id == agency.id))}
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


__all__ = ["lifecycle", "list_agencies", "review_rows"]
