"""The bank's review: checklist verdicts, on-site inspections, and four eyes — a vendor
manager completes the review and proposes, a different approver decides."""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit.log import record
from portal import clock
from portal.agencies import lifecycle
from portal.agencies.checklist import active_items
from portal.agencies.models import (
    APPROVED,
    DRAFT,
    FAIL,
    REJECTED,
    UNDER_REVIEW,
    VERDICTS,
    Agency,
    Approval,
    ChecklistItem,
    ChecklistVerdict,
    Inspection,
)
from portal.agencies.operations.application import get_agency
from portal.agencies.verdicts import current_verdicts, note_participation
from portal.errors import Conflict, InvalidInput, NotFound, RuleBroken
from portal.security.access import require


def _must_be_under_review(agency: Agency) -> None:
    if agency.status != UNDER_REVIEW:
        raise Conflict("agency.not_under_review",
                       _l("The agency is %(state)s; the review is open only while it is under review.",
                          state=lifecycle.STATE_LABELS[agency.status]))


def start_review(session: Session, actor: Any, agency_id: uuid.UUID | str) -> Agency:
    agency = get_agency(session, actor, agency_id, "agency.review")
    return lifecycle.transition(session, actor, agency, UNDER_REVIEW)


def set_verdict(session: Session, actor: Any, agency_id: uuid.UUID | str, item_code: str,
                verdict: str, note: str | None = None) -> ChecklistVerdict:
    agency = get_agency(session, actor, agency_id, "agency.review")
    _must_be_under_review(agency)
    item = session.get(ChecklistItem, item_code)
    if item is None or not item.active:
        raise NotFound("checklist.item", _l("No such checklist item."))
    if verdict not in VERDICTS:
        raise InvalidInput("checklist.verdict", _l("A verdict is pass, fail or needs information."))
    if verdict != "pass" and not (note or "").strip():
        raise InvalidInput("checklist.note", _l("Say why in the note: a fail or a request for "
                                                "information must tell the agency what is wrong."))
    if open_proposal := lifecycle.open_proposal(session, agency):
        raise Conflict("checklist.proposed",
                       _l("A proposal is waiting for an approver (since %(d)s); withdraw it by returning "
                          "the application before changing verdicts.", d=open_proposal.proposed_at.date().isoformat()))
    # Every verdict is a new row; the one it replaces stays as history (four eyes reads it).
    previous = current_verdicts(session, agency.id).get(item_code)
    before = None
    if previous is not None:
        before = {"verdict": previous.verdict, "note": previous.note, "reviewer": str(previous.reviewer_id),
                  "stale": previous.stale_at is not None}
        previous.is_current = False
        session.flush()  # the partial unique index allows one current verdict per item
    row = ChecklistVerdict(id=uuid.uuid4(), agency_id=agency.id, item_code=item_code, verdict=verdict,
                           note=(note or "").strip() or None, reviewer_id=actor.id, decided_at=clock.now(),
                           is_current=True)
    session.add(row)
    note_participation(session, agency.id, actor, "verdict")
    session.flush()
    record(session, actor, "agency.checklist_verdict", "agency", agency.id, before=before,
           after={"item": item_code, "verdict": verdict, "note": row.note})
    return row


# Longest texts an inspection record accepts (the form says the same; the operation is
# what every door goes through).
MAX_INSPECTORS = 20
MAX_INSPECTOR_CHARS = 100
MAX_FINDING_CHARS = 2000
MAX_SUMMARY_CHARS = 4000


def record_inspection(session: Session, actor: Any, agency_id: uuid.UUID | str, *, inspected_on: date,
                      inspectors: list[str], findings: dict[str, str], summary: str | None) -> Inspection:
    agency = get_agency(session, actor, agency_id, "agency.review")
    names = [n.strip() for n in inspectors if n.strip()]
    if not names:
        raise InvalidInput("inspection.inspectors", _l("Name at least one inspector."))
    if inspected_on > clock.today():
        raise InvalidInput("inspection.date", _l("An inspection cannot be recorded before it happens."))
    if len(names) > MAX_INSPECTORS or any(len(n) > MAX_INSPECTOR_CHARS for n in names):
        raise InvalidInput("inspection.inspectors_long",
                           _l("Name at most %(n)d inspectors, each in at most %(c)d characters.",
                              n=MAX_INSPECTORS, c=MAX_INSPECTOR_CHARS))
    known = set(session.scalars(select(ChecklistItem.code)))
    findings = {str(k): str(v).strip() for k, v in findings.items() if v and str(v).strip()}
    if set(findings) - known:
        raise InvalidInput("inspection.item", _l("Findings name an unknown checklist item."))
    long = sorted(k for k, v in findings.items() if len(v) > MAX_FINDING_CHARS)
    if long:
        raise InvalidInput("inspection.finding_long",
                           _l("A finding is at most %(n)d characters; shorten the finding on %(items)s.",
                              n=MAX_FINDING_CHARS, items=", ".join(long)))
    if summary and len(summary.strip()) > MAX_SUMMARY_CHARS:
        raise InvalidInput("inspection.summary_long",
                           _l("The summary is at most %(n)d characters.", n=MAX_SUMMARY_CHARS))
    inspection = Inspection(id=uuid.uuid4(), agency_id=agency.id, inspected_on=inspected_on,
                            inspectors=names, findings=findings, summary=(summary or "").strip() or None,
                            recorded_by=actor.id, recorded_at=clock.now())
    session.add(inspection)
    note_participation(session, agency.id, actor, "inspection")
    session.flush()
    record(session, actor, "agency.inspection_recorded", "agency", agency.id,
           after={"inspection": str(inspection.id), "on": inspected_on.isoformat(), "inspectors": names,
                  "items": sorted(findings)})
    return inspection


def propose(session: Session, actor: Any, agency_id: uuid.UUID | str, proposal: str, note: str) -> Approval:
    """The vendor manager's completed review: every active item has a verdict."""
    agency = get_agency(session, actor, agency_id, "agency.review")
    _must_be_under_review(agency)
    if proposal not in ("approve", "reject"):
        raise InvalidInput("approval.proposal", _l("Propose to approve or to reject."))
    if not note.strip():
        raise InvalidInput("approval.note", _l("Summarise the review for the approver."))
    if lifecycle.open_proposal(session, agency) is not None:
        raise Conflict("approval.open", _l("A proposal is already waiting for an approver."))
    # A stale verdict (the application changed after it) is no verdict on what is there now.
    decided = {code for code, v in current_verdicts(session, agency.id).items() if v.stale_at is None}
    undecided = [str(i.title) for i in active_items(session) if i.code not in decided]
    if undecided:
        raise RuleBroken("approval.incomplete", _l("The review is not complete: no verdict yet on %(items)s.",
                                                   items=", ".join(undecided)))
    if proposal == "approve":
        gaps = lifecycle.mandatory_gaps(session, agency)
        if gaps:
            raise RuleBroken("approval.mandatory", _l("Approval cannot be proposed: %(gaps)s.", gaps="; ".join(gaps)))
    row = Approval(id=uuid.uuid4(), agency_id=agency.id, proposal=proposal, proposal_note=note.strip(),
                   proposed_by=actor.id, proposed_at=clock.now())
    session.add(row)
    note_participation(session, agency.id, actor, "proposal")
    session.flush()
    record(session, actor, "agency.proposed", "agency", agency.id, after={"proposal": proposal}, reason=note)
    return row


def decide(session: Session, actor: Any, agency_id: uuid.UUID | str, decision: str, reason: str) -> Approval:
    """The approver's decision. The lifecycle's guard refuses the proposer and any reviewer."""
    agency = get_agency(session, actor, agency_id, "agency.approve")
    if decision not in (APPROVED, REJECTED):
        raise InvalidInput("approval.decision", _l("Decide to approve or to reject."))
    lifecycle.transition(session, actor, agency, decision, reason=reason)
    proposal = lifecycle.open_proposal(session, agency)
    assert proposal is not None  # the guard made sure
    proposal.decision = decision
    proposal.reason = reason.strip()
    proposal.decided_by = actor.id
    proposal.decided_at = clock.now()
    if decision == APPROVED:
        agency.due_diligence_on = clock.today()
    session.flush()
    return proposal


def return_for_information(session: Session, actor: Any, agency_id: uuid.UUID | str, reason: str) -> Agency:
    """Send the application back to the applicant as a draft; an open proposal lapses."""
    agency = get_agency(session, actor, agency_id, "agency.review")
    lifecycle.transition(session, actor, agency, DRAFT, reason=reason)
    note_participation(session, agency.id, actor, "return")
    proposal = lifecycle.open_proposal(session, agency)
    if proposal is not None:
        proposal.decision = "returned"
        proposal.reason = reason.strip()
        proposal.decided_by = actor.id
        proposal.decided_at = clock.now()
    return agency


_CODE = re.compile(r"^[a-z][a-z0-9_]{2,49}$")


def add_checklist_item(session: Session, actor: Any, *, code: str, title: str, description: str | None,
                       mandatory: bool) -> ChecklistItem:
    """A bank's own criterion, added to the checklist of every review from now on."""
    require(actor, "agency.checklist.manage")
    if not _CODE.match(code):
        raise InvalidInput("checklist.code", _l("A code is 3–50 lower-case letters, digits or underscores."))
    if session.get(ChecklistItem, code) is not None:
        raise Conflict("checklist.exists", _l("An item with code %(code)s exists.", code=code))
    if not title.strip():
        raise InvalidInput("checklist.title", _l("Give the item a title."))
    position = (session.scalar(select(func.max(ChecklistItem.position))) or 0) + 10
    item = ChecklistItem(code=code, title=title.strip(), description=(description or "").strip() or None,
                         mandatory=mandatory, position=position, active=True, created_at=clock.now())
    session.add(item)
    session.flush()
    record(session, actor, "agency.checklist_item_added", "checklist_item", code,
           after={"title": item.title, "mandatory": mandatory})
    return item


__all__ = ["FAIL", "add_checklist_item", "decide", "propose", "record_inspection",
           "return_for_information", "set_verdict", "start_review"]
