"""Placement operations: batches (build → preview → release by a second person), placing.

Placing is set-based: one INSERT of many rows. The partial unique index
``uq_placements_one_active_per_case`` refuses a second active placement of the same case,
whoever races for it; the INSERT says ``ON CONFLICT DO NOTHING`` so a case another batch
took a moment earlier is skipped and reported, never an error shown to the user.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, Table, and_, exists, func, insert, inspect, select, text, type_coerce
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit.log import record
from portal import clock
from portal.agencies.models import Agency, Contract
from portal.bulk import new_ids, row_writer
from portal.cases import eligibility
from portal.cases.models import Case
from portal.errors import Conflict, InvalidInput, NotFound, RuleBroken
from portal.placements.allocation import STRATEGIES, AgencySlot, Allocation, CaseSlot, allocate
from portal.placements.models import ACTIVE, Placement, PlacementBatch
from portal.policies.operations import value as policy
from portal.security.access import require

CHUNK = 5000
CRITERIA_KEYS = ("buckets", "regions", "products", "flags", "dpd_min", "dpd_max", "amount_min_cents",
                 "amount_max_cents")


# -- inserting placements, safe under races ----------------------------------------------------
def _insert_statement(session: Session) -> Any:
    table = cast(Table, Placement.__table__)
    dialect = session.get_bind().dialect.name
    where = text("status = 'active'")
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing(index_elements=["case_id"], index_where=where)
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table).on_conflict_do_nothing(index_elements=["case_id"], index_where=where)
    return insert(table)


def insert_placements(session: Session, rows: list[dict[str, Any]]) -> None:
    """Write placement rows in chunks; a case already actively placed is skipped."""
    connection = session.connection()
    stmt = _insert_statement(session)
    write = row_writer(connection, cast(Table, Placement.__table__), stmt=stmt,
                       sqlite_suffix=" ON CONFLICT (case_id) WHERE status = 'active' DO NOTHING")
    for i in range(0, len(rows), CHUNK):
        chunk = rows[i:i + CHUNK]
        try:
            with connection.begin_nested():
                write(chunk)
        except IntegrityError:
            # A database without ON CONFLICT: drop the cases already placed and retry once.
            taken = set(connection.execute(select(Placement.case_id).where(
                Placement.case_id.in_([r["case_id"] for r in chunk]), Placement.status == ACTIVE)).scalars())
            chunk = [r for r in chunk if r["case_id"] not in taken]
            if chunk:
                write(chunk)


def place_cases(session: Session, actor: Any, agency_id: uuid.UUID, case_ids: Sequence[uuid.UUID], *,
                batch_id: uuid.UUID | None = None, term_days: int | None = None) -> int:
    """Place these cases with one agency (tests, data fixes); batches use ``release``."""
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
    insert_placements(session, rows)
    record(session, actor, "placements.created", "agency", agency_id,
           after={"count": len(rows), "batch_id": batch_id, "term_days": term.days})
    return len(rows)


# -- who can receive cases ------------------------------------------------------------------------
def receiving_agencies(session: Session, *, lock: bool = False) -> list[tuple[Agency, Contract]]:
    """Agencies that may receive new cases: status active, no placement hold, a signed
    contract in force today. ``lock`` holds their rows until the transaction ends, so two
    releases cannot both spend the same remaining capacity."""
    today = clock.today()
    stmt = (select(Agency, Contract).join(Contract, Contract.agency_id == Agency.id)
            .where(Agency.status == "active", Agency.placement_hold.is_(False), Contract.status == "signed",
                   Contract.starts_on <= today, Contract.ends_on >= today)
            .order_by(Agency.id, Contract.ends_on.desc()))
    if lock and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=Agency)
    seen: set[uuid.UUID] = set()
    out: list[tuple[Agency, Contract]] = []
    for agency, contract in session.execute(stmt).all():
        if agency.id not in seen:  # the contract ending last is the one in force
            seen.add(agency.id)
            out.append((agency, contract))
    return out


def latest_scores(session: Session, agency_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, float]:
    """Each agency's latest scorecard score, if the scorecards capability has a table yet;
    an empty answer means equal shares."""
    inspector = inspect(session.connection())
    if not inspector.has_table("scorecards"):
        return {}
    columns = {c["name"] for c in inspector.get_columns("scorecards")}
    score = next((c for c in ("total_score", "score", "total") if c in columns), None)
    when = next((c for c in ("period_end", "period_ends_on", "computed_at", "created_at") if c in columns), None)
    if score is None or when is None or "agency_id" not in columns:
        return {}
    rows = session.execute(text(f"SELECT agency_id, {score}, {when} FROM scorecards")).all()  # noqa: S608 - names from the schema
    latest: dict[str, tuple[Any, float]] = {}
    for agency_id, value, at in rows:
        key = str(agency_id).replace("-", "")
        if value is not None and (key not in latest or at > latest[key][0]):
            latest[key] = (at, float(value))
    return {a: latest[a.hex][1] for a in agency_ids if a.hex in latest}


def agency_slots(session: Session, challengers: Sequence[str] = (), *, lock: bool = False) -> list[AgencySlot]:
    pairs = receiving_agencies(session, lock=lock)
    active = {aid: (n, amount or 0) for aid, n, amount in session.execute(
        select(Placement.agency_id, func.count(), func.sum(Placement.amount_cents))
        .where(Placement.status == ACTIVE).group_by(Placement.agency_id)).all()}
    scores = latest_scores(session, [a.id for a, _c in pairs])
    challenger_ids = {str(c) for c in challengers}
    return [
        AgencySlot(
            id=str(agency.id),  # a str hashes in C; the allocation hashes it per case
            capacity_cases=contract.max_active_cases - active.get(agency.id, (0, 0))[0],
            capacity_amount=contract.max_active_amount_cents - active.get(agency.id, (0, 0))[1],
            regions=frozenset(contract.regions or ()), buckets=frozenset(contract.buckets or ()),
            score=scores.get(agency.id, 1.0), challenger=str(agency.id) in challenger_ids,
        )
        for agency, contract in pairs
    ]


# -- batches -----------------------------------------------------------------------------------------
def clean_criteria(raw: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("buckets", "regions", "products", "flags"):
        values = [str(v).strip() for v in (raw.get(key) or []) if str(v).strip()]
        if values:
            out[key] = sorted(set(values))
    for key in ("dpd_min", "dpd_max", "amount_min_cents", "amount_max_cents"):
        value = raw.get(key)
        if value not in (None, ""):
            try:
                number = int(value)
            except (TypeError, ValueError):
                raise InvalidInput("batch.bad_criteria", _l("%(field)s must be a whole number.", field=key)) from None
            if number < 0:
                raise InvalidInput("batch.bad_criteria", _l("%(field)s must not be negative.", field=key))
            out[key] = number
    return out


def candidates_query(session: Session, criteria: dict[str, Any]) -> Any:
    """Eligible, open, not actively placed cases matching the batch's filter."""
    total = Case.principal_cents + Case.interest_cents + Case.fees_cents
    stmt = select(type_coerce(Case.id, String) if session.get_bind().dialect.name == "sqlite" else Case.id,
                  total, Case.region, Case.bucket).where(
        eligibility.condition(session),
        ~exists().where(and_(Placement.case_id == Case.id, Placement.status == ACTIVE)))
    if criteria.get("buckets"):
        stmt = stmt.where(Case.bucket.in_(criteria["buckets"]))
    if criteria.get("regions"):
        stmt = stmt.where(Case.region.in_(criteria["regions"]))
    if criteria.get("products"):
        stmt = stmt.where(Case.product.in_(criteria["products"]))
    if criteria.get("flags"):
        stmt = stmt.where(eligibility.flag_condition(criteria["flags"]))
    if "dpd_min" in criteria:
        stmt = stmt.where(Case.dpd >= criteria["dpd_min"])
    if "dpd_max" in criteria:
        stmt = stmt.where(Case.dpd <= criteria["dpd_max"])
    if "amount_min_cents" in criteria:
        stmt = stmt.where(total >= criteria["amount_min_cents"])
    if "amount_max_cents" in criteria:
        stmt = stmt.where(total <= criteria["amount_max_cents"])
    # A fixed order: the same seed over the same cases gives the same allocation.
    return stmt.order_by(Case.account_no)


def build_batch(session: Session, actor: Any, criteria: dict[str, Any], strategy: str, *,
                challengers: Sequence[str] = (), term_days: int | None = None, seed: int | None = None,
                note: str | None = None) -> PlacementBatch:
    require(actor, "placement.build")
    if strategy not in STRATEGIES:
        raise InvalidInput("batch.bad_strategy", _l("Unknown strategy %(s)s.", s=strategy))
    if strategy == "champion_challenger" and not challengers:
        raise InvalidInput("batch.no_challenger", _l("Choose at least one challenger agency for a champion/challenger split."))
    term = int(term_days or policy(session, "placement.term_days"))
    if term <= 0:
        raise InvalidInput("batch.bad_term", _l("The term must be at least one day."))
    batch = PlacementBatch(
        id=uuid.uuid4(), status="draft", criteria=clean_criteria(criteria), strategy=strategy,
        seed=seed if seed is not None else secrets.randbelow(2**31), challengers=[str(c) for c in challengers],
        term_days=term, note=(note or "").strip() or None, created_by=getattr(actor, "id", None),
        created_at=clock.now())
    session.add(batch)
    session.flush()
    record(session, actor, "placement_batch.built", "placement_batch", batch.id,
           after={"criteria": batch.criteria, "strategy": strategy, "seed": batch.seed, "term_days": term})
    return batch


def get_batch(session: Session, actor: Any, batch_id: uuid.UUID) -> PlacementBatch:
    require(actor, "placement.view")
    batch = session.get(PlacementBatch, batch_id)
    if batch is None:
        raise NotFound("batch.not_found", _l("No such batch."))
    return batch


def list_batches(session: Session, actor: Any, limit: int = 100) -> list[PlacementBatch]:
    require(actor, "placement.view")
    return list(session.scalars(select(PlacementBatch).order_by(PlacementBatch.created_at.desc()).limit(limit)))


@dataclass
class Preview:
    cases: list[CaseSlot]
    allocation: Allocation
    agencies: dict[str, str]

    def rows(self) -> list[dict[str, Any]]:
        per = self.allocation.per_agency(self.cases)
        return [{"agency_id": uuid.UUID(str(k)), "agency": self.agencies.get(str(k), str(k)), "cases": n,
                 "amount_cents": amt}
                for k, (n, amt) in sorted(per.items(), key=lambda kv: self.agencies.get(str(kv[0]), ""))]

    @property
    def unallocated_amount(self) -> int:
        amounts = {c.id: c.amount_cents for c in self.cases}
        return sum(amounts[i] for i in self.allocation.unallocated)


def compute(session: Session, batch: PlacementBatch, *, strategy: str | None = None, lock: bool = False) -> Preview:
    """The allocation of a batch as things stand now (a what-if when ``strategy`` differs)."""
    # Ids stay in the driver's form (text on SQLite) through the allocation: a million
    # UUID objects cost more than the allocation itself.
    cases = [CaseSlot(cid, amount, region, bucket)
             for cid, amount, region, bucket in session.connection().execute(candidates_query(session, batch.criteria))]
    slots = agency_slots(session, batch.challengers, lock=lock)
    names = {str(k): v for k, v in session.execute(
        select(Agency.id, Agency.name).where(Agency.id.in_([uuid.UUID(str(s.id)) for s in slots]))).all()}
    allocation = allocate(cases, slots, strategy=strategy or batch.strategy, seed=batch.seed,
                          max_share=float(policy(session, "placement.max_share_per_agency")),
                          challenger_share=float(policy(session, "placement.challenger_share")))
    return Preview(cases, allocation, names)


def preview(session: Session, actor: Any, batch_id: uuid.UUID, strategy: str | None = None) -> Preview:
    batch = get_batch(session, actor, batch_id)
    if strategy is not None and strategy not in STRATEGIES:
        raise InvalidInput("batch.bad_strategy", _l("Unknown strategy %(s)s.", s=strategy))
    return compute(session, batch, strategy=strategy)


def _lock_batch(session: Session, batch_id: uuid.UUID) -> PlacementBatch:
    stmt = select(PlacementBatch).where(PlacementBatch.id == batch_id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    batch = session.scalars(stmt.execution_options(populate_existing=True)).first()
    if batch is None:
        raise NotFound("batch.not_found", _l("No such batch."))
    return batch


def release(session: Session, actor: Any, batch_id: uuid.UUID) -> dict[str, Any]:
    """The approver releases a batch: placements are written, set-based. Cases another
    batch placed in the meantime are skipped and counted, never an error."""
    require(actor, "placement.release")
    batch = _lock_batch(session, batch_id)
    if batch.status != "draft":
        raise Conflict("batch.not_draft", _l("This batch was already %(status)s.", status=batch.status))
    if batch.created_by is not None and batch.created_by == getattr(actor, "id", None):
        raise RuleBroken("batch.four_eyes", _l("Four eyes: the person who built a batch cannot release it."))
    result = compute(session, batch, lock=True)
    now = clock.now()
    term_ends = now + timedelta(days=batch.term_days)
    buckets = {c.id: (c.bucket, c.amount_cents) for c in result.cases}
    agency_ids = {str(a): uuid.UUID(str(a)) for a in set(result.allocation.assigned.values())}
    ids = new_ids(len(result.allocation.assigned), session.get_bind().dialect.name)
    rows = [{"id": next(ids), "case_id": cid, "agency_id": agency_ids[str(aid)], "batch_id": batch.id, "status": ACTIVE,
             "bucket_at_placement": buckets[cid][0], "amount_cents": buckets[cid][1], "placed_at": now,
             "term_ends_at": term_ends} for cid, aid in result.allocation.assigned.items()]
    insert_placements(session, rows)
    placed = session.scalar(select(func.count()).select_from(Placement).where(
        Placement.batch_id == batch.id, Placement.status == ACTIVE)) or 0
    counts = {
        "candidates": len(result.cases), "placed": placed, "skipped_already_placed": len(rows) - placed,
        "unallocated": len(result.allocation.unallocated),
        "per_agency": {str(r["agency_id"]): [r["cases"], r["amount_cents"]] for r in result.rows()},
    }
    batch.status = "released"
    batch.decided_by = getattr(actor, "id", None)
    batch.decided_at = now
    batch.result = counts
    session.flush()
    record(session, actor, "placement_batch.released", "placement_batch", batch.id,
           after={**counts, "seed": batch.seed, "strategy": batch.strategy})
    return counts


def reject(session: Session, actor: Any, batch_id: uuid.UUID, reason: str) -> PlacementBatch:
    """The approver turns a batch down; its cases stay in-house."""
    require(actor, "placement.release")
    if not (reason or "").strip():
        raise InvalidInput("batch.reason_required", _l("Give the reason for rejecting the batch."))
    batch = _lock_batch(session, batch_id)
    if batch.status != "draft":
        raise Conflict("batch.not_draft", _l("This batch was already %(status)s.", status=batch.status))
    batch.status = "rejected"
    batch.decided_by = getattr(actor, "id", None)
    batch.decided_at = clock.now()
    session.flush()
    record(session, actor, "placement_batch.rejected", "placement_batch", batch.id, reason=reason.strip())
    return batch
