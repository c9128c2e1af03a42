"""Checklist verdicts as the review's record: the current verdict per item, verdicts made
stale by a later change of the application or its evidence, and who took part in a
review (the people four eyes keeps from deciding it).

Why staleness: a reviewer's `pass` on "licence scope" is a judgement of the scope text
as it was. When the application is returned for information and the applicant rewrites
the scope (or the licence expiry, or the USCC), that `pass` says nothing about the new
text; it must not count towards approval until a reviewer looks again. Which items an
application field informs is ``FIELD_ITEMS``; a bank's own items have no field, so only
new evidence uploaded for them makes them stale.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, union
from sqlalchemy.orm import Session

from audit.log import record
from portal import clock
from portal.agencies.models import Approval, ChecklistVerdict, Inspection, ReviewParticipant

# application field -> the checklist items whose verdict judged it
FIELD_ITEMS: dict[str, tuple[str, ...]] = {
    "name": ("legal_entity",),
    "uscc": ("legal_entity",),
    "registered_on": ("legal_entity", "years_in_operation"),
    "registered_address": ("legal_entity", "premises_equipment"),
    "premises": ("premises_equipment",),
    "licence_scope": ("licence_scope",),
    "is_law_firm": ("licence_scope",),
    "licence_number": ("licence_document",),
    "licence_expires_on": ("licence_document",),
    "collection_system": ("collection_system",),
    "clients": ("fi_clients",),
}


def current_verdicts(session: Session, agency_id: uuid.UUID) -> dict[str, ChecklistVerdict]:
    return {v.item_code: v for v in session.scalars(
        select(ChecklistVerdict).where(ChecklistVerdict.agency_id == agency_id, ChecklistVerdict.is_current.is_(True)))}


def items_for_fields(fields: Iterable[str]) -> dict[str, list[str]]:
    """item code -> the changed fields that inform it."""
    out: dict[str, list[str]] = {}
    for name in fields:
        for code in FIELD_ITEMS.get(name, ()):
            out.setdefault(code, []).append(name)
    return out


def mark_stale(session: Session, actor: Any, agency_id: uuid.UUID, causes: dict[str, list[str]],
               why: str) -> list[str]:
    """Mark the current, not yet stale verdicts of ``causes`` (item code -> what changed)
    stale, in one audit entry. Returns the item codes marked."""
    if not causes:
        return []
    now = clock.now()
    marked: dict[str, dict[str, Any]] = {}
    for code, verdict in sorted(current_verdicts(session, agency_id).items()):
        if code not in causes or verdict.stale_at is not None:
            continue
        verdict.stale_at = now
        verdict.stale_reason = f"{why}: {', '.join(sorted(set(causes[code])))}"
        marked[code] = {"verdict": verdict.verdict, "reviewer": str(verdict.reviewer_id),
                        "changed": sorted(set(causes[code]))}
    if marked:
        session.flush()
        record(session, actor, "agency.checklist_verdicts_stale", "agency", agency_id,
               before={code: {"verdict": m["verdict"], "reviewer": m["reviewer"]} for code, m in marked.items()},
               after={code: {"stale": True, "changed": m["changed"]} for code, m in marked.items()}, reason=why)
    return sorted(marked)


def note_participation(session: Session, agency_id: uuid.UUID, actor: Any, act: str) -> None:
    user_id = getattr(actor, "id", None)
    if user_id is None:
        return
    session.add(ReviewParticipant(id=uuid.uuid4(), agency_id=agency_id, user_id=user_id, act=act, at=clock.now()))


def review_participants(session: Session, agency_id: uuid.UUID) -> set[Any]:
    """Everyone who reviewed, inspected, returned or proposed, in any round. The verdict,
    inspection and proposal rows are read too, so rows written without the participant
    register (the demo's back-fill) still count."""
    query = union(
        select(ReviewParticipant.user_id).where(ReviewParticipant.agency_id == agency_id),
        select(ChecklistVerdict.reviewer_id).where(ChecklistVerdict.agency_id == agency_id),
        select(Inspection.recorded_by).where(Inspection.agency_id == agency_id),
        select(Approval.proposed_by).where(Approval.agency_id == agency_id),
    )
    return {row[0] for row in session.execute(query)}
