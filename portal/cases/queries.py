"""Case reads. Every one starts from ``security.scoping.cases_for``: an agency user's
search can only ever find cases placed with their agency right now."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from portal.cases.models import Case, ImportRun
from portal.errors import NotFound
from portal.placements.models import Placement
from portal.security import crypto
from portal.security.access import require
from portal.security.scoping import cases_for, placements_for


def search(session: Session, actor: Any, q: str = "", *, bucket: str = "", status: str = "",
           limit: int = 100) -> list[Case]:
    """By account number, or exactly by national ID or phone through their blind indexes
    (the database never sees the value searched for)."""
    require(actor, "case.list")
    stmt = cases_for(actor)
    q = (q or "").strip()
    if q:
        cipher = crypto.cipher()
        stmt = stmt.where(or_(Case.account_no == q,
                              Case.national_id_bidx == cipher.blind_index("national_id", q),
                              Case.phone_bidx == cipher.blind_index("phone", q)))
    if bucket:
        stmt = stmt.where(Case.bucket == bucket)
    if status:
        stmt = stmt.where(Case.status == status)
    return list(session.scalars(stmt.order_by(Case.dpd.desc(), Case.account_no).limit(limit)))


def count_visible(session: Session, actor: Any) -> int:
    return session.scalar(select(func.count()).select_from(cases_for(actor).subquery())) or 0


def history(session: Session, actor: Any, case_id: uuid.UUID) -> list[Placement]:
    """The case's placements the actor may see: all for the bank, the agency's own only."""
    return list(session.scalars(placements_for(actor).where(Placement.case_id == case_id)
                                .order_by(Placement.placed_at.desc())))


def import_run(session: Session, actor: Any, run_id: uuid.UUID) -> ImportRun:
    require(actor, "case.import")
    run = session.get(ImportRun, run_id)
    if run is None:
        raise NotFound("import.not_found", "no such import")
    return run


def recent_imports(session: Session, actor: Any, limit: int = 20) -> list[ImportRun]:
    require(actor, "case.import")
    return list(session.scalars(select(ImportRun).order_by(ImportRun.created_at.desc()).limit(limit)))
