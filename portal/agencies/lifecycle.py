"""The one guarded state machine of an agency (DOMAIN.md §1):

    draft → submitted → under_review → approved | rejected → contract_signed → active
    active ↔ suspended → terminated          (under_review → draft: returned for information)

Every change of ``Agency.status`` goes through ``transition``: it checks the edge exists,
that the actor may take it, and the edge's guard (what must be true first). A refusal
raises ``TransitionRefused`` naming the current state and what is missing.

Auditing refusals: an operation that raises has its transaction rolled back by the door,
which would also roll back an audit entry written before raising. So the refusal is
recorded *after* the rollback, by ``record_refusal`` in a fresh transaction that the door
commits (the same pattern as failed logins in ``identity.views``). Every door that calls a
transition (pages, CLI, jobs) does this through ``refusal_recorded``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.log import record
from portal import clock
from portal.agencies.checks import application_gaps
from portal.agencies.models import (
    ACTIVE,
    APPROVED,
    CONTRACT_SIGNED,
    DRAFT,
    PASS,
    REJECTED,
    SUBMITTED,
    SUSPENDED,
    TERMINATED,
    UNDER_REVIEW,
    Agency,
    Approval,
    ChecklistItem,
    ChecklistVerdict,
    Contract,
    ExitEntry,
)
from portal.agencies.queries import contract_in_force, latest_signed_contract
from portal.agencies.verdicts import review_participants
from portal.errors import Conflict
from portal.security.access import SYSTEM, require

STATE_LABELS: dict[str, Any] = {
    DRAFT: _l("Draft"),
    SUBMITTED: _l("Submitted"),
    UNDER_REVIEW: _l("Under review"),
    APPROVED: _l("Approved"),
    REJECTED: _l("Rejected"),
    CONTRACT_SIGNED: _l("Contract signed"),
    ACTIVE: _l("Active"),
    SUSPENDED: _l("Suspended"),
    TERMINATED: _l("Terminated"),
}
# The happy path, in order, for the progress steps on a page.
MAIN_PATH = (DRAFT, SUBMITTED, UNDER_REVIEW, APPROVED, CONTRACT_SIGNED, ACTIVE)


class TransitionRefused(Conflict):
    """An illegal or unguarded transition; carries what the refusal audit entry needs."""

    def __init__(self, agency: Agency, to_state: str, missing: list[str]) -> None:
        state = str(STATE_LABELS.get(agency.status, agency.status))
        target = str(STATE_LABELS.get(to_state, to_state))
        message = _l("The agency is %(state)s and cannot become %(target)s: %(missing)s.",
                     state=state, target=target, missing="; ".join(missing))
        super().__init__("agency.transition_refused", message, agency_id=str(agency.id),
                         from_state=agency.status, to_state=to_state, missing=missing)
        self.agency_id = agency.id
        self.from_state = agency.status
        self.to_state = to_state
        self.missing = missing


Guard = Callable[[Session, Any, Agency], list[str]]


@dataclass(frozen=True)
class Edge:
    action: str           # security.access action the actor needs
    guard: Guard | None = None
    needs_reason: bool = False
    audit_action: str = "agency.transition"
    labels: tuple[Any, ...] = field(default_factory=tuple)


# -- guards: each returns what is missing (empty: the edge may be taken) ---------------
def _application_complete(session: Session, actor: Any, agency: Agency) -> list[str]:
    missing = application_gaps(session, agency)
    entry = exit_entry_for(session, agency.uscc)
    if entry is not None:
        missing.append(str(_l("the unified social credit code is on the exit register (entry %(no)s, "
                              "refused until %(d)s)", no=entry.number, d=entry.refused_until.isoformat())))
    return missing


def mandatory_gaps(session: Session, agency: Agency) -> list[str]:
    """Mandatory checklist items without a current, fresh `pass` verdict, named. A verdict
    made stale by a later change of the application does not count (``verdicts``)."""
    rows = session.execute(
        select(ChecklistItem.title, ChecklistVerdict.verdict, ChecklistVerdict.stale_at)
        .outerjoin(ChecklistVerdict, (ChecklistVerdict.item_code == ChecklistItem.code)
                   & (ChecklistVerdict.agency_id == agency.id) & ChecklistVerdict.is_current.is_(True))
        .where(ChecklistItem.mandatory.is_(True), ChecklistItem.active.is_(True))
        .order_by(ChecklistItem.position)
    ).all()
    if not rows:
        return [str(_l("the checklist has no mandatory items defined"))]
    gaps = []
    for title, verdict, stale_at in rows:
        if verdict == PASS and stale_at is not None:
            gaps.append(str(_l("checklist item “%(item)s” must be reviewed again (the application changed "
                               "after its verdict)", item=title)))
        elif verdict != PASS:
            gaps.append(str(_l("checklist item “%(item)s” has not passed", item=title)))
    return gaps


def open_proposal(session: Session, agency: Agency) -> Approval | None:
    return session.scalars(
        select(Approval).where(Approval.agency_id == agency.id, Approval.decision.is_(None))
        .order_by(Approval.proposed_at.desc()).limit(1)
    ).first()


def last_decision(session: Session, agency: Agency) -> Approval | None:
    return session.scalars(
        select(Approval).where(Approval.agency_id == agency.id, Approval.decision.in_((APPROVED, REJECTED)))
        .order_by(Approval.decided_at.desc()).limit(1)
    ).first()


def _reviewers(session: Session, agency: Agency) -> set[Any]:
    """Everyone who took part in the review in any round (verdicts including overwritten
    ones, inspections, returns, proposals): none of them may decide it."""
    return review_participants(session, agency.id)


def _second_person(session: Session, actor: Any, agency: Agency, proposal: Approval) -> list[str]:
    me = getattr(actor, "id", None)
    if getattr(actor, "role", None) == SYSTEM:
        return [str(_l("a decision needs a named approver, not the system"))]
    if me is not None and (me == proposal.proposed_by or me in _reviewers(session, agency)):
        return [str(_l("an approver who did not review or propose it (four eyes)"))]
    return []


def _approvable(session: Session, actor: Any, agency: Agency) -> list[str]:
    proposal = open_proposal(session, agency)
    if proposal is None:
        return [str(_l("a vendor manager's completed review and proposal"))]
    missing = _second_person(session, actor, agency, proposal)
    if proposal.proposal != "approve":
        missing.append(str(_l("a proposal to approve (the vendor manager proposed rejection)")))
    return missing + mandatory_gaps(session, agency)


def _rejectable(session: Session, actor: Any, agency: Agency) -> list[str]:
    proposal = open_proposal(session, agency)
    if proposal is None:
        return [str(_l("a vendor manager's completed review and proposal"))]
    return _second_person(session, actor, agency, proposal)


def current_contract(session: Session, agency: Agency) -> Contract | None:
    """The contract in force today (``queries.contract_in_force``)."""
    return contract_in_force(session, agency.id, clock.today())


def _contract_recorded(session: Session, actor: Any, agency: Agency) -> list[str]:
    contract = latest_signed_contract(session, agency.id)
    if contract is None or contract.ends_on < clock.today():
        return [str(_l("a recorded contract"))]
    if contract.signed_document_id is None:
        return [str(_l("the signed contract document"))]
    return []


def _approved_by_second_person(session: Session, agency: Agency) -> list[str]:
    decision = last_decision(session, agency)
    if decision is None or decision.decision != APPROVED:
        return [str(_l("an approval"))]
    if decision.decided_by == decision.proposed_by or decision.decided_by in _reviewers(session, agency):
        return [str(_l("an approval by a second person (four eyes)"))]
    return []


def _in_force(session: Session, agency: Agency) -> list[str]:
    missing: list[str] = []
    today = clock.today()
    contract = contract_in_force(session, agency.id, today)
    if contract is None:
        upcoming = latest_signed_contract(session, agency.id)
        if upcoming is not None and upcoming.ends_on >= today:
            missing.append(str(_l("a contract in force today (it runs %(s)s to %(e)s)",
                                  s=upcoming.starts_on.isoformat(), e=upcoming.ends_on.isoformat())))
        else:
            missing.append(str(_l("a signed contract")))
    elif contract.signed_document_id is None:
        missing.append(str(_l("a signed contract")))
    if agency.licence_expires_on is None or agency.licence_expires_on < today:
        missing.append(str(_l("an unexpired licence")))
    return missing


def _activatable(session: Session, actor: Any, agency: Agency) -> list[str]:
    # Re-checked here, not only at approval: a verdict changed after approval, or a
    # decision forged around the pages, must still not make an agency active.
    return mandatory_gaps(session, agency) + _approved_by_second_person(session, agency) + _in_force(
        session, agency)


def _reactivatable(session: Session, actor: Any, agency: Agency) -> list[str]:
    return _in_force(session, agency)


EDGES: dict[tuple[str, str], Edge] = {
    (DRAFT, SUBMITTED): Edge("agency.apply", _application_complete),
    (SUBMITTED, UNDER_REVIEW): Edge("agency.review"),
    (UNDER_REVIEW, DRAFT): Edge("agency.review", needs_reason=True),
    (UNDER_REVIEW, APPROVED): Edge("agency.approve", _approvable, needs_reason=True),
    (UNDER_REVIEW, REJECTED): Edge("agency.approve", _rejectable, needs_reason=True),
    (APPROVED, CONTRACT_SIGNED): Edge("agency.contract", _contract_recorded),
    (CONTRACT_SIGNED, ACTIVE): Edge("agency.contract", _activatable),
    (ACTIVE, SUSPENDED): Edge("agency.suspend", needs_reason=True),
    (SUSPENDED, ACTIVE): Edge("agency.suspend", _reactivatable, needs_reason=True),
    (APPROVED, TERMINATED): Edge("agency.terminate", needs_reason=True),
    (CONTRACT_SIGNED, TERMINATED): Edge("agency.terminate", needs_reason=True),
    (ACTIVE, TERMINATED): Edge("agency.terminate", needs_reason=True),
    (SUSPENDED, TERMINATED): Edge("agency.terminate", needs_reason=True),
}


def next_states(status: str) -> list[str]:
    return [to for (frm, to) in EDGES if frm == status]


def exit_entry_for(session: Session, uscc: str | None) -> ExitEntry | None:
    """The exit-register entry that refuses this USCC today, if any."""
    if not uscc:
        return None
    return session.scalars(
        select(ExitEntry).where(ExitEntry.uscc == uscc.strip().upper(),
                                ExitEntry.refused_until >= clock.today())
        .order_by(ExitEntry.refused_until.desc()).limit(1)
    ).first()


def transition(session: Session, actor: Any, agency: Agency, to_state: str,
               reason: str | None = None) -> Agency:
    """Move ``agency`` to ``to_state`` or raise ``TransitionRefused`` (nothing changed)."""
    edge = EDGES.get((agency.status, to_state))
    if edge is None:
        allowed = ", ".join(str(STATE_LABELS[s]) for s in next_states(agency.status)) or str(_l("nothing"))
        raise TransitionRefused(agency, to_state, [str(_l("from here it can only become: %(states)s",
                                                          states=allowed))])
    require(actor, edge.action, agency)
    missing = edge.guard(session, actor, agency) if edge.guard else []
    if edge.needs_reason and not (reason or "").strip():
        missing.append(str(_l("a reason")))
    if missing:
        raise TransitionRefused(agency, to_state, missing)
    before = agency.status
    agency.status = to_state
    agency.updated_at = clock.now()
    record(session, actor, "agency.transition", "agency", agency.id,
           before={"status": before}, after={"status": to_state}, reason=reason)
    return agency


def record_refusal(session: Session, actor: Any, refused: TransitionRefused) -> None:
    """Audit a refused transition; call after rolling back, then commit (see module doc)."""
    record(session, actor, "agency.transition_refused", "agency", refused.agency_id,
           before={"status": refused.from_state},
           after={"status": refused.to_state, "missing": refused.missing})
