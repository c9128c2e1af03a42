"""Registering an agency and its application (seed 001 准入申请)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.log import record
from portal import clock
from portal.agencies import lifecycle
from portal.agencies.checklist import ensure_checklist
from portal.agencies.checks import normalise_uscc, uscc_problem
from portal.agencies.models import DRAFT, REJECTED, SUBMITTED, TERMINATED, Agency, FiClient
from portal.agencies.verdicts import items_for_fields, mark_stale
from portal.errors import Conflict, InvalidInput, NotFound, RuleBroken
from portal.security.access import is_agency, require

# Fields of the application an applicant may set (and the audit entry lists).
APPLICATION_FIELDS = ("name", "uscc", "region", "registered_on", "registered_address", "premises",
                      "licence_scope", "licence_number", "licence_expires_on", "is_law_firm",
                      "collection_system")


def get_agency(session: Session, actor: Any, agency_id: uuid.UUID | str, action: str = "agency.view") -> Agency:
    """The agency if ``actor`` may ``action`` it; another agency's is simply not found."""
    try:
        key = agency_id if isinstance(agency_id, uuid.UUID) else uuid.UUID(str(agency_id))
    except ValueError:
        raise NotFound("agency.not_found", _l("No such agency.")) from None
    agency = session.get(Agency, key)
    if agency is None or (is_agency(actor) and actor.agency_id != agency.id):
        raise NotFound("agency.not_found", _l("No such agency."))
    require(actor, action, agency)
    return agency


def _check_uscc_free(session: Session, uscc: str, agency_id: uuid.UUID | None) -> str:
    code = normalise_uscc(uscc)
    problem = uscc_problem(code)
    if problem:
        raise InvalidInput("agency.uscc_invalid", problem)
    entry = lifecycle.exit_entry_for(session, code)
    if entry is not None:
        raise RuleBroken("agency.exit_register",
                         _l("Refused: unified social credit code %(code)s is on the exit register "
                            "(entry %(no)s, %(reason)s); applications are refused until %(d)s.",
                            code=code, no=entry.number, reason=entry.reason, d=entry.refused_until.isoformat()),
                         entry=entry.number)
    # A terminated agency (not for cause, or after its refusal period) and a rejected one may
    # apply again: the new application is a new agency row, linked to the rejected one.
    stmt = select(Agency.name).where(Agency.uscc == code, Agency.status.not_in((TERMINATED, REJECTED)))
    if agency_id is not None:
        stmt = stmt.where(Agency.id != agency_id)
    other = session.scalars(stmt).first()
    if other is not None:
        raise Conflict("agency.uscc_taken",
                       _l("Agency “%(name)s” is already registered with code %(code)s.", name=other, code=code))
    return code


def _rejected_before(session: Session, uscc: str | None, agency_id: uuid.UUID | None) -> uuid.UUID | None:
    """The latest rejected application with this USCC (what a reapplication points back to)."""
    if not uscc:
        return None
    stmt = select(Agency.id).where(Agency.uscc == uscc, Agency.status == REJECTED)
    if agency_id is not None:
        stmt = stmt.where(Agency.id != agency_id)
    return session.scalars(stmt.order_by(Agency.updated_at.desc(), Agency.created_at.desc()).limit(1)).first()


def register_agency(session: Session, actor: Any, *, name: str, uscc: str | None = None,
                    region: str | None = None) -> Agency:
    """A vendor manager registers an agency as a draft for it (or the bank) to complete."""
    require(actor, "agency.register")
    if not name.strip():
        raise InvalidInput("agency.name_missing", _l("The legal name is required."))
    ensure_checklist(session)
    now = clock.now()
    agency = Agency(id=uuid.uuid4(), name=name.strip(), status=DRAFT, region=(region or "").strip() or None,
                    contacts=[], created_at=now, updated_at=now)
    if uscc:
        agency.uscc = _check_uscc_free(session, uscc, None)
        agency.previous_application_id = _rejected_before(session, agency.uscc, None)
    session.add(agency)
    session.flush()
    record(session, actor, "agency.registered", "agency", agency.id,
           after={"name": agency.name, "uscc": agency.uscc, "region": agency.region,
                  "previous_application": str(agency.previous_application_id)
                  if agency.previous_application_id else None})
    return agency


def _clean_date(value: Any, label: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput("agency.date", _l("%(field)s is not a date (YYYY-MM-DD).", field=label)) from None


def save_application(session: Session, actor: Any, agency_id: uuid.UUID | str, *,
                     fields: dict[str, Any], clients: list[dict[str, Any]],
                     contacts: list[dict[str, str]]) -> Agency:
    """Fill in or correct the application; only while it is a draft (a submitted one is
    returned to draft by the reviewer when information is missing)."""
    agency = get_agency(session, actor, agency_id, "agency.apply")
    if agency.status != DRAFT:
        raise Conflict("agency.not_draft",
                       _l("The application is %(state)s; it can be changed only as a draft.",
                          state=lifecycle.STATE_LABELS[agency.status]))
    unknown = set(fields) - set(APPLICATION_FIELDS)
    if unknown:
        raise InvalidInput("agency.fields", f"unknown application fields: {sorted(unknown)}")
    before = {k: getattr(agency, k) for k in fields} | {"clients": [c.name for c in agency.clients]}
    clients_before = sorted((c.name, c.since, c.business) for c in agency.clients)
    for key, value in fields.items():
        if key in ("registered_on", "licence_expires_on"):
            value = _clean_date(value, key)
        elif key == "uscc":
            value = _check_uscc_free(session, value, agency.id) if value else None
        elif key == "is_law_firm":
            value = bool(value)
        elif isinstance(value, str):
            value = value.strip() or None
        if key == "name" and not value:
            raise InvalidInput("agency.name_missing", _l("The legal name is required."))
        setattr(agency, key, value)
    if agency.registered_on and agency.registered_on > clock.today():
        raise InvalidInput("agency.registered_future", _l("The registration date is in the future."))
    new_clients = []
    for row in clients:
        cname = (row.get("name") or "").strip()
        if not cname:
            continue
        since = _clean_date(row.get("since"), _l("Client since"))
        if since is None:
            raise InvalidInput("agency.client_since", _l("Say since when %(name)s is a client.", name=cname))
        new_clients.append(FiClient(id=uuid.uuid4(), name=cname, since=since,
                                    business=(row.get("business") or "").strip() or None))
    agency.clients = new_clients
    agency.contacts = [{k: (c.get(k) or "").strip() for k in ("name", "role", "phone", "email")}
                       for c in contacts if (c.get("name") or "").strip()]
    if "uscc" in fields and agency.uscc != before["uscc"]:
        agency.previous_application_id = _rejected_before(session, agency.uscc, agency.id)
    agency.updated_at = clock.now()
    session.flush()
    after = {k: getattr(agency, k) for k in fields} | {"clients": [c.name for c in agency.clients]}
    record(session, actor, "agency.application_saved", "agency", agency.id, before=before, after=after)
    # What changed after a reviewer judged it is judged again (verdicts exist only once a
    # review started: this is the application returned for information).
    changed = [k for k in fields if before[k] != after[k]]
    if clients_before != sorted((c.name, c.since, c.business) for c in agency.clients):
        changed.append("clients")
    mark_stale(session, actor, agency.id, items_for_fields(changed), "application changed after review")
    return agency


def submit_application(session: Session, actor: Any, agency_id: uuid.UUID | str) -> Agency:
    agency = get_agency(session, actor, agency_id, "agency.apply")
    ensure_checklist(session)
    lifecycle.transition(session, actor, agency, SUBMITTED)
    agency.submitted_at = clock.now()
    return agency
