"""The only path to agency-scoped rows.

Every read of cases (and of anything hanging off a case) starts from ``cases_for``. For an
agency user it joins the agency's *active* placements (of an active agency), so a case recalled a second ago is
gone on the next query, and another agency's case is indistinguishable from one that does
not exist (``get_case`` raises NotFound for both). Bank roles that may read debtor data
see all cases; ``admin`` sees none by default.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, and_, false, select
from sqlalchemy.orm import Session

from portal.agencies.models import Agency
from portal.cases.models import Case
from portal.errors import NotFound
from portal.placements.models import ACTIVE, Placement
from portal.security.access import AGENCY_ROLES, may

AGENCY_ACTIVE = "active"


def cases_for(actor: Any) -> Select[Case]:
    """SELECT of the cases ``actor`` may see; callers add filters and ordering."""
    stmt = select(Case)
    if actor is None or not may(actor, "case.list"):
        return stmt.where(false())
    if actor.role in AGENCY_ROLES:
        if actor.agency_id is None:
            return stmt.where(false())
        return stmt.join(
            Placement,
            and_(
                Placement.case_id == Case.id,
                Placement.agency_id == actor.agency_id,
                Placement.status == ACTIVE,
            ),
        ).join(
            # Belt and braces: suspension and termination recall every placement, but an
            # agency that is not active reads nothing even if a recall were still under way.
            Agency,
            and_(Agency.id == Placement.agency_id, Agency.status == AGENCY_ACTIVE),
        )
    return stmt


def placements_for(actor: Any) -> Select[Placement]:
    """Placements ``actor`` may see: an agency sees its own, active or past (its history),
    but never another agency's; bank roles with placement rights see all."""
    stmt = select(Placement)
    if actor is None:
        return stmt.where(false())
    if actor.role in AGENCY_ROLES:
        return stmt.where(Placement.agency_id == actor.agency_id)
    if not may(actor, "placement.view"):
        return stmt.where(false())
    return stmt


def get_case(session: Session, actor: Any, case_id: uuid.UUID | str) -> Case:
    try:
        key = case_id if isinstance(case_id, uuid.UUID) else uuid.UUID(str(case_id))
    except ValueError:
        raise NotFound("case.not_found", "no such case") from None
    case = session.scalars(cases_for(actor).where(Case.id == key)).first()
    if case is None:
        raise NotFound("case.not_found", "no such case")
    return case


def active_placement_of(session: Session, actor: Any, case: Case) -> Placement | None:
    return session.scalars(
        placements_for(actor).where(Placement.case_id == case.id, Placement.status == ACTIVE)
    ).first()
