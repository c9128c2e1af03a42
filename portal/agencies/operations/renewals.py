"""Keeping an approved agency's file current: a renewed business licence and a redone due
diligence. Without these the application's dates are frozen at approval, so the expiry
watch would hold every agency once its licence or due diligence lapsed, a contract
renewal (which needs a valid due diligence) would be refused after a year, and a
suspended agency could never be reactivated after renewing its licence."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.log import record
from portal import clock
from portal.agencies import lifecycle
from portal.agencies.models import (
    ACTIVE,
    APPROVED,
    CONTRACT_SIGNED,
    SUSPENDED,
    Agency,
    AgencyDocument,
    DueDiligence,
)
from portal.agencies.operations.application import get_agency
from portal.errors import Conflict, InvalidInput
from portal.policies.operations import value as policy

# After approval, while the bank works with the agency.
RENEWABLE_STATES = (APPROVED, CONTRACT_SIGNED, ACTIVE, SUSPENDED)
MAX_SUMMARY_CHARS = 4000


def _renewable(session: Session, actor: Any, agency_id: uuid.UUID | str) -> Agency:
    agency = get_agency(session, actor, agency_id, "agency.review")
    if agency.status not in RENEWABLE_STATES:
        raise Conflict("agency.not_renewable",
                       _l("The agency is %(state)s; its licence and due diligence are renewed here after "
                          "approval (before that, through the application and its review).",
                          state=lifecycle.STATE_LABELS[agency.status]))
    return agency


def _document(session: Session, agency: Agency, document_id: uuid.UUID | str | None, kind: str) -> AgencyDocument | None:
    if document_id in (None, ""):
        return None
    try:
        doc = session.get(AgencyDocument, document_id if isinstance(document_id, uuid.UUID)
                          else uuid.UUID(str(document_id)))
    except ValueError:
        doc = None
    if doc is None or doc.agency_id != agency.id or not doc.is_current or doc.kind != kind:
        raise InvalidInput("renewal.document", _l("The document must be a current document of this agency of the "
                                                  "right kind."))
    return doc


def renew_licence(session: Session, actor: Any, agency_id: uuid.UUID | str, number: str, expires_on: date,
                  document_id: uuid.UUID | str | None = None) -> Agency:
    """Record a renewed business licence: its number and new expiry (and the scan, if
    uploaded). The expiry watch starts afresh from the new date and releases a hold it set
    once nothing else is past its grace."""
    agency = _renewable(session, actor, agency_id)
    number = (number or "").strip()
    if not number or len(number) > 100:
        raise InvalidInput("licence.number", _l("Give the licence number (at most 100 characters)."))
    if expires_on <= clock.today():
        raise InvalidInput("licence.expiry", _l("A renewed licence must expire after today."))
    doc = _document(session, agency, document_id, "licence")
    before: dict[str, Any] = {"licence_number": agency.licence_number, "licence_expires_on": agency.licence_expires_on}
    after: dict[str, Any] = {"licence_number": number, "licence_expires_on": expires_on,
                             "document": str(doc.id) if doc else None}
    if doc is not None:
        # The renewed scan supersedes every earlier licence scan, whoever uploaded it: the
        # licence itself was renewed, not a file corrected.
        earlier = list(session.scalars(select(AgencyDocument).where(
            AgencyDocument.agency_id == agency.id, AgencyDocument.kind == "licence",
            AgencyDocument.is_current.is_(True), AgencyDocument.id != doc.id)))
        for old in earlier:
            old.is_current = False
        before["current_licence_documents"] = sorted(str(d.id) for d in earlier) + [str(doc.id)]
        after["current_licence_documents"] = [str(doc.id)]
    agency.licence_number = number
    agency.licence_expires_on = expires_on
    agency.updated_at = clock.now()
    session.flush()
    record(session, actor, "agency.licence_renewed", "agency", agency.id, before=before, after=after)
    return agency


def record_due_diligence(session: Session, actor: Any, agency_id: uuid.UUID | str, on_date: date, summary: str,
                         document_id: uuid.UUID | str | None = None) -> DueDiligence:
    """Record a due diligence redone (before a contract renewal, or as the policy period
    runs out). It must be no older than the policy period and not in the future."""
    agency = _renewable(session, actor, agency_id)
    summary = (summary or "").strip()
    if not summary:
        raise InvalidInput("due_diligence.summary", _l("Summarise what the due diligence found."))
    if len(summary) > MAX_SUMMARY_CHARS:
        raise InvalidInput("due_diligence.summary_long", _l("The summary is at most %(n)d characters.",
                                                             n=MAX_SUMMARY_CHARS))
    today = clock.today()
    valid_days = int(policy(session, "onboarding.due_diligence_valid_days"))
    if on_date > today:
        raise InvalidInput("due_diligence.future", _l("A due diligence cannot be recorded before it is done."))
    if on_date + timedelta(days=valid_days) < today:
        raise InvalidInput("due_diligence.old", _l("A due diligence of %(d)s is no longer valid (%(n)d days).",
                                                   d=on_date.isoformat(), n=valid_days))
    if agency.due_diligence_on is not None and on_date < agency.due_diligence_on:
        raise InvalidInput("due_diligence.older", _l("The due diligence of %(d)s on file is more recent.",
                                                     d=agency.due_diligence_on.isoformat()))
    doc = _document(session, agency, document_id, "due_diligence")
    row = DueDiligence(id=uuid.uuid4(), agency_id=agency.id, done_on=on_date, summary=summary,
                       document_id=doc.id if doc else None, recorded_by=actor.id, recorded_at=clock.now())
    before = {"due_diligence_on": agency.due_diligence_on}
    agency.due_diligence_on = on_date
    agency.updated_at = clock.now()
    session.add(row)
    session.flush()
    record(session, actor, "agency.due_diligence_recorded", "agency", agency.id, before=before,
           after={"due_diligence_on": on_date, "document": str(doc.id) if doc else None}, reason=summary)
    return row
