"""Placement operations. Placing is set-based: one INSERT of many rows; the partial unique
index refuses a second active placement of the same case, whoever races for it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from audit.log import record
from portal import clock
from portal.cases.models import Case
from portal.placements.models import ACTIVE, Placement
from portal.policies.operations import value as policy
from portal.security.access import require


def place_cases(session: Session, actor: Any, agency_id: uuid.UUID, case_ids: Sequence[uuid.UUID], *,
                batch_id: uuid.UUID | None = None, term_days: int | None = None) -> int:
    require(actor, "placement.release")
    if not case_ids:
        return 0
    term = timedelta(days=int(term_days or policy(session, "placement.term_days")))
    now = clock.now()
    cases = session.execute(
        select(Case.id, Case.bucket, Case.principal_cents + Case.interest_cents + Case.fees_cents)
        .where(Case.id.in_(case_ids))
    ).all()
    rows = [
        {"id": uuid.uuid4(), "case_id": cid, "agency_id": agency_id, "batch_id": batch_id,
         "status": ACTIVE, "bucket_at_placement": bucket, "amount_cents": amount,
         "placed_at": now, "term_ends_at": now + term}
        for cid, bucket, amount in cases
    ]
    session.execute(insert(Placement), rows)
    record(session, actor, "placements.created", "agency", agency_id,
           after={"count": len(rows), "batch_id": batch_id, "term_days": term.days})
    return len(rows)
