"""Recall (撤案): ending active placements, set-based, for every trigger of DOMAIN.md §2.

A recalled placement keeps its row (history stays for audit); its status leaves
``active``, so ``security.scoping.cases_for`` stops returning the case to the agency on
the very next query. The agency must then acknowledge the recall.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import Table, func, select, update
from sqlalchemy.orm import Session

from audit.log import record
from portal import clock
from portal.cases.models import Case
from portal.cases.summaries import audit_cap, listing
from portal.errors import Conflict, InvalidInput, NotFound
from portal.placements.models import ACTIVE, Placement
from portal.security.access import require
from portal.security.scoping import placements_for

RECALLED = "recalled"
CHUNK = 5000

# trigger -> the case status it leaves behind (None: the case stays open for re-placing)
TRIGGERS: dict[str, str | None] = {
    "term_expiry": None,
    "repaid": "repaid",
    "settled": "settled",
    "complaint": None,
    "litigation": "litigation",
    "restructuring": "restructured",
    "agency_suspended": None,
    "agency_terminated": None,
    "manager": None,
}
TRIGGER_LABELS = {
    "term_expiry": _l("Term expired"), "repaid": _l("Repaid in full"), "settled": _l("Settled"),
    "complaint": _l("Debtor complaint"), "litigation": _l("Litigation / legal hand-over"),
    "restructuring": _l("Restructuring"), "agency_suspended": _l("Agency suspended"),
    "agency_terminated": _l("Agency terminated"), "manager": _l("Manager's decision"),
}
# Triggers a person chooses on a case page (the others come from the ledger, jobs or lifecycle)
MANUAL_TRIGGERS = ("complaint", "litigation", "restructuring", "manager")


def _check(trigger: str, reason: str | None) -> str:
    if trigger not in TRIGGERS:
        raise InvalidInput("recall.unknown_trigger", _l("Unknown recall trigger %(t)s.", t=trigger))
    reason = (reason or "").strip()
    if trigger == "manager" and not reason:
        raise InvalidInput("recall.reason_required", _l("A manager's recall needs a reason."))
    return reason


Recalled = dict[uuid.UUID, list[tuple[uuid.UUID, uuid.UUID]]]  # agency -> [(placement, case)]


def _recall_where(session: Session, condition: Any, trigger: str, reason: str, into: Recalled) -> int:
    """End the active placements matching ``condition``; note which (per agency) in ``into``
    for the audit entries. The ids come back from the UPDATE itself (RETURNING), so they
    are exactly the rows this statement changed, whoever races."""
    now = clock.now()
    rows = session.execute(
        update(Placement).where(condition, Placement.status == ACTIVE)
        .values(status=RECALLED, recalled_at=now, recall_trigger=trigger, recall_reason=reason or None)
        .returning(Placement.id, Placement.case_id, Placement.agency_id)
        .execution_options(synchronize_session=False)
    ).all()
    for placement_id, case_id, agency_id in rows:
        into.setdefault(agency_id, []).append((placement_id, case_id))
    return len(rows)


def _audit(session: Session, actor: Any, trigger: str, reason: str, recalled: Recalled) -> None:
    """One entry per agency that lost cases, naming the placements and cases by id (never
    PII): the first ``audit.max_ids_listed`` of each, and a digest and count of all."""
    cap = audit_cap(session)
    for agency_id, pairs in sorted(recalled.items(), key=lambda kv: str(kv[0])):
        record(session, actor, "placements.recalled", "agency", agency_id,
               after={"trigger": trigger, "count": len(pairs),
                      "placements": listing((p for p, _c in pairs), cap),
                      "cases": listing((c for _p, c in pairs), cap)},
               reason=reason or None)


def recall_cases(session: Session, actor: Any, case_ids: Sequence[uuid.UUID], trigger: str, reason: str | None = None,
                 *, check: bool = True) -> int:
    """Recall the active placements of these cases. ``check=False`` only for callers that
    already hold the right (the ledger import recalls as a consequence of its own action)."""
    if check:
        require(actor, "placement.recall")
    reason = _check(trigger, reason)
    ids = list(case_ids)
    count = 0
    recalled: Recalled = {}
    for i in range(0, len(ids), CHUNK):
        count += _recall_where(session, Placement.case_id.in_(ids[i:i + CHUNK]), trigger, reason, recalled)
    status = TRIGGERS[trigger]
    if status is not None:
        for i in range(0, len(ids), CHUNK):
            session.execute(update(Case).where(Case.id.in_(ids[i:i + CHUNK]))
                            .values(status=status, updated_at=clock.now()).execution_options(synchronize_session=False))
    if trigger == "complaint" and ids:
        _add_flag(session, ids, "complaint")
    _audit(session, actor, trigger, reason, recalled)
    return count


def _add_flag(session: Session, ids: list[uuid.UUID], flag: str) -> None:
    rows = session.execute(select(Case.id, Case.flags).where(Case.id.in_(ids))).all()
    changed = [{"b_id": cid, "flags": sorted({*(flags or []), flag})} for cid, flags in rows if flag not in (flags or [])]
    if changed:
        from sqlalchemy import bindparam

        table = cast(Table, Case.__table__)
        session.connection().execute(update(table).where(table.c.id == bindparam("b_id")).values(flags=bindparam("flags")),
                                     changed)


def recall_case(session: Session, actor: Any, case_id: uuid.UUID, trigger: str, reason: str) -> int:
    """A person's recall of one case (complaint, litigation, restructuring, decision). Only
    the manual triggers: "repaid" or "settled" are facts the ledger proves, "term expiry"
    and the agency triggers come from jobs and the lifecycle; a form must not claim them.
    Every manual recall says why."""
    require(actor, "placement.recall")
    if trigger not in MANUAL_TRIGGERS:
        raise InvalidInput("recall.not_manual", _l("Choose one of the recall reasons offered on the case page."))
    if not (reason or "").strip():
        raise InvalidInput("recall.reason_required", _l("Give the reason for the recall."))
    if session.get(Case, case_id) is None:
        raise NotFound("case.not_found", _l("No such case."))
    count = recall_cases(session, actor, [case_id], trigger, reason)
    if count == 0:
        raise Conflict("recall.not_placed", _l("The case has no active placement to recall."))
    session.expire_all()
    return count


def recall_all_for_agency(session: Session, actor: Any, agency_id: uuid.UUID, trigger: str, reason: str | None) -> int:
    """Recall every active placement of an agency (suspension or termination). The
    agencies capability calls this from its lifecycle operations, in their transaction."""
    if trigger not in ("agency_suspended", "agency_terminated"):
        # Suspension and termination are checked by the lifecycle operation that calls us
        # (agency.suspend / agency.terminate); recalling is their consequence.
        require(actor, "placement.recall")
    reason = _check(trigger, reason)
    recalled: Recalled = {}
    count = _recall_where(session, Placement.agency_id == agency_id, trigger, reason, recalled)
    if not recalled:
        recalled[agency_id] = []  # the entry is written even when nothing was placed
    _audit(session, actor, trigger, reason, recalled)
    session.expire_all()
    return count


def recall_expired(session: Session, actor: Any) -> int:
    """Term expiry: every active placement whose term has ended (idempotent). One audit
    entry per agency, naming its placements and cases."""
    recalled: Recalled = {}
    count = _recall_where(session, Placement.term_ends_at <= clock.now(), "term_expiry", "", recalled)
    _audit(session, actor, "term_expiry", "", recalled)
    return count


def acknowledge(session: Session, actor: Any, placement_id: uuid.UUID) -> Placement:
    """The agency confirms it has stopped work on a recalled case (UI button; the API can
    call the same). Another agency's placement is "not found"."""
    require(actor, "placement.acknowledge")
    placement = session.scalars(placements_for(actor).where(Placement.id == placement_id)).first()
    if placement is None:
        raise NotFound("placement.not_found", _l("No such placement."))
    if placement.status == ACTIVE:
        raise Conflict("recall.not_recalled", _l("This placement has not been recalled."))
    if placement.acknowledged_at is not None:
        raise Conflict("recall.already_acknowledged", _l("This recall was already acknowledged."))
    placement.acknowledged_at = clock.now()
    placement.acknowledged_by = getattr(actor, "id", None)
    session.flush()
    record(session, actor, "placements.recall_acknowledged", "placement", placement.id)
    return placement


def unacknowledged(session: Session, actor: Any, *, limit: int = 500, offset: int = 0) -> list[Placement]:
    """Recalls an agency has yet to acknowledge (its own only), one page: newest first, then
    by id, so pages neither overlap nor skip. ``count_unacknowledged`` gives the total a
    caller shows beside the page ("N more")."""
    return list(session.scalars(
        placements_for(actor).where(Placement.status != ACTIVE, Placement.acknowledged_at.is_(None))
        .order_by(Placement.recalled_at.desc(), Placement.id).limit(limit).offset(offset)))


def count_unacknowledged(session: Session, actor: Any) -> int:
    stmt = placements_for(actor).where(Placement.status != ACTIVE, Placement.acknowledged_at.is_(None))
    return session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
