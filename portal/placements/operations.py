"""Placement operations: batches (build → preview → release by a second person), placing.

Placing is set-based: one INSERT of many rows. The partial unique index
``uq_placements_one_active_per_case`` refuses a second active placement of the same case,
whoever races for it; the INSERT says ``ON CONFLICT DO NOTHING`` so a case another batch
took a moment earlier is skipped and reported, never an error shown to the user.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    String,
    Table,
    and_,
    delete,
    exists,
    func,
    insert,
    inspect,
    select,
    text,
    type_coerce,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit.log import record
from portal import clock
from portal.agencies.models import Agency, Contract
from portal.bulk import new_ids, row_writer
from portal.cases import eligibility
from portal.cases.imports import max_amount_cents
from portal.cases.models import Case
from portal.errors import Conflict, InvalidInput, NotFound, RuleBroken
from portal.placements.allocation import STRATEGIES, AgencySlot, Allocation, CaseSlot, allocate
from portal.placements.models import ACTIVE, Placement, PlacementBatch, PlacementBatchCase
from portal.policies.operations import value as policy
from portal.security.access import SYSTEM, require

CHUNK = 5000
CRITERIA_KEYS = ("buckets", "regions", "products", "flags", "dpd_min", "dpd_max", "amount_min_cents",
                 "amount_max_cents")
# Sanity bounds on a filter (not business rules): a century of days past due is beyond any
# account; a list or a value longer than these is not a filter a person typed.
MAX_DPD = 36_525
MAX_LIST_VALUES = 500
MAX_VALUE_CHARS = 100


def term_days_of(session: Session, term_days: int | None) -> int:
    """A placement term in days: the default, or the one asked for within 1 and
    ``placement.max_term_days``."""
    term = int(policy(session, "placement.term_days")) if term_days is None else int(term_days)
    longest = int(policy(session, "placement.max_term_days"))
    if not 1 <= term <= longest:
        raise InvalidInput("batch.bad_term", _l("The term must be between 1 and %(max)s days.", max=longest))
    return term


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
    term = timedelta(days=term_days_of(session, term_days))
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
            .order_by(Agency.id, Contract.starts_on.desc(), Contract.ends_on.desc(), Contract.created_at.desc()))
    if lock and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=Agency)
    seen: set[uuid.UUID] = set()
    out: list[tuple[Agency, Contract]] = []
    for agency, contract in session.execute(stmt).all():
        # Where a renewal overlaps its predecessor, the one that started last governs: the
        # same rule as portal.agencies.queries.contract_in_force, in one query for all.
        if agency.id not in seen:
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
def clean_criteria(raw: dict[str, Any], *, max_amount: int) -> dict[str, Any]:
    """A batch filter as stored: lists of short words, and whole numbers within bounds (a
    number the database cannot compare would break every later page of the batch)."""
    out: dict[str, Any] = {}
    for key in ("buckets", "regions", "products", "flags"):
        values = [str(v).strip() for v in (raw.get(key) or []) if str(v).strip()]
        if len(values) > MAX_LIST_VALUES or any(len(v) > MAX_VALUE_CHARS for v in values):
            raise InvalidInput("batch.bad_criteria", _l("%(field)s: at most %(n)s values of at most %(chars)s characters.",
                                                        field=key, n=MAX_LIST_VALUES, chars=MAX_VALUE_CHARS))
        if values:
            out[key] = sorted(set(values))
    bounds = {"dpd_min": MAX_DPD, "dpd_max": MAX_DPD, "amount_min_cents": max_amount, "amount_max_cents": max_amount}
    for key, highest in bounds.items():
        value = raw.get(key)
        if value not in (None, ""):
            try:
                if isinstance(value, float) or (isinstance(value, str) and len(value.strip()) > 20):
                    raise ValueError(value)
                number = int(value)
            except (TypeError, ValueError, OverflowError):
                raise InvalidInput("batch.bad_criteria", _l("%(field)s must be a whole number.", field=key)) from None
            if number < 0:
                raise InvalidInput("batch.bad_criteria", _l("%(field)s must not be negative.", field=key))
            if number > highest:
                raise InvalidInput("batch.bad_criteria", _l("%(field)s must be at most %(max)s.", field=key, max=highest))
            out[key] = number
    for low, high in (("dpd_min", "dpd_max"), ("amount_min_cents", "amount_max_cents")):
        if low in out and high in out and out[low] > out[high]:
            raise InvalidInput("batch.bad_criteria", _l("%(low)s is above %(high)s: no case could match.", low=low, high=high))
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
    term = term_days_of(session, term_days)
    batch = PlacementBatch(
        id=uuid.uuid4(), status="draft", criteria=clean_criteria(criteria, max_amount=max_amount_cents(session)),
        strategy=strategy, seed=seed if seed is not None else secrets.randbelow(2**31),
        challengers=[str(c) for c in challengers], term_days=term, note=(note or "").strip() or None,
        created_by=getattr(actor, "id", None), created_at=clock.now())
    session.add(batch)
    session.flush()
    _freeze(session, batch)
    record(session, actor, "placement_batch.built", "placement_batch", batch.id,
           after={"criteria": batch.criteria, "strategy": strategy, "seed": batch.seed, "term_days": term,
                  "candidates": batch.candidates_count, "candidates_sha256": batch.candidates_digest})
    return batch


def _id_hex(value: Any) -> str:
    return value.hex if isinstance(value, uuid.UUID) else str(value).replace("-", "").lower()


def _freeze(session: Session, batch: PlacementBatch) -> Preview:
    """Freeze the batch's candidate list as the filter finds it now, compute its allocation,
    and keep both (the list in placement_batch_cases, the preview on the batch)."""
    connection = session.connection()
    rows = list(connection.execute(candidates_query(session, batch.criteria)))
    connection.execute(delete(PlacementBatchCase).where(PlacementBatchCase.batch_id == batch.id))
    write = row_writer(connection, cast(Table, PlacementBatchCase.__table__))
    for i in range(0, len(rows), CHUNK):
        write([{"batch_id": batch.id, "case_id": r[0]} for r in rows[i:i + CHUNK]])
    digest = hashlib.sha256("\n".join(_id_hex(r[0]) for r in rows).encode()).hexdigest()
    batch.candidates_count = len(rows)
    batch.candidates_digest = digest
    result = _allocate(session, batch, [CaseSlot(cid, amount, region, bucket) for cid, amount, region, bucket in rows])
    batch.preview = result.as_json()
    batch.previewed_at = clock.now()
    session.flush()
    return result


def refresh_preview(session: Session, actor: Any, batch_id: uuid.UUID) -> PlacementBatch:
    """Freeze the list again from the batch's filter (new cases in, placed or closed ones
    out) and recompute its preview. The digest changes when the list does, so a release
    form opened on the old list is refused."""
    require(actor, "placement.build")
    batch = _lock_batch(session, batch_id)
    if batch.status != "draft":
        raise Conflict("batch.not_draft", _l("This batch was already %(status)s.", status=batch.status))
    before = batch.candidates_digest
    _freeze(session, batch)
    record(session, actor, "placement_batch.preview_refreshed", "placement_batch", batch.id,
           before={"candidates_sha256": before},
           after={"candidates": batch.candidates_count, "candidates_sha256": batch.candidates_digest})
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

    def as_json(self) -> dict[str, Any]:
        """What the batch page shows, kept on the batch (no recomputing on every view)."""
        return {"strategy": self.allocation.strategy, "candidates": len(self.cases),
                "rows": [{**r, "agency_id": str(r["agency_id"])} for r in self.rows()],
                "unallocated": len(self.allocation.unallocated), "unallocated_amount": self.unallocated_amount}


def frozen_candidates_query(session: Session, batch_id: uuid.UUID) -> Any:
    """The batch's frozen list, less what left it since: cases no longer eligible (closed,
    blocked) and cases another batch placed in the meantime."""
    total = Case.principal_cents + Case.interest_cents + Case.fees_cents
    return (select(type_coerce(Case.id, String) if session.get_bind().dialect.name == "sqlite" else Case.id,
                   total, Case.region, Case.bucket)
            .join(PlacementBatchCase, and_(PlacementBatchCase.case_id == Case.id, PlacementBatchCase.batch_id == batch_id))
            .where(eligibility.condition(session),
                   ~exists().where(and_(Placement.case_id == Case.id, Placement.status == ACTIVE)))
            .order_by(Case.account_no))


def compute(session: Session, batch: PlacementBatch, *, strategy: str | None = None, lock: bool = False) -> Preview:
    """The allocation of the batch's frozen list as things stand now (a what-if when
    ``strategy`` differs)."""
    # Ids stay in the driver's form (text on SQLite) through the allocation: a million
    # UUID objects cost more than the allocation itself.
    cases = [CaseSlot(cid, amount, region, bucket)
             for cid, amount, region, bucket in session.connection().execute(frozen_candidates_query(session, batch.id))]
    return _allocate(session, batch, cases, strategy=strategy, lock=lock)


def _allocate(session: Session, batch: PlacementBatch, cases: list[CaseSlot], *, strategy: str | None = None,
              lock: bool = False) -> Preview:
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


def check_releasable(session: Session, actor: Any, batch: PlacementBatch, digest: str | None) -> None:
    """Who may release this batch, and is it still the list they reviewed?"""
    if batch.status != "draft":
        raise Conflict("batch.not_draft", _l("This batch was already %(status)s.", status=batch.status))
    person = getattr(actor, "role", None) != SYSTEM
    actor_id = getattr(actor, "id", None)
    if person and batch.created_by is None:
        # Nobody is on record as the first pair of eyes: a person releasing it would be the only one.
        raise RuleBroken("batch.no_builder", _l("Four eyes: nobody is recorded as this batch's builder, so no person "
                                                "may release it; build it again."))
    if batch.created_by is not None and batch.created_by == actor_id:
        raise RuleBroken("batch.four_eyes", _l("Four eyes: the person who built a batch cannot release it."))
    if person and not digest:
        raise InvalidInput("batch.digest_required", _l("Release from the batch page, after reviewing its preview."))
    if digest is not None and digest != batch.candidates_digest:
        raise Conflict("batch.changed", _l("The batch's list of cases changed since you opened it. Review the new "
                                           "preview and release again."))


def contract_ends(session: Session, agency_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, date]:
    """The last day of each agency's contract in force (the one ending last)."""
    today = clock.today()
    return {aid: ends for aid, ends in session.execute(
        select(Contract.agency_id, func.max(Contract.ends_on))
        .where(Contract.agency_id.in_(list(agency_ids)), Contract.status == "signed", Contract.starts_on <= today,
               Contract.ends_on >= today).group_by(Contract.agency_id)).all()}


def release(session: Session, actor: Any, batch_id: uuid.UUID, *, digest: str | None = None) -> dict[str, Any]:
    """The approver releases a batch: the frozen list they reviewed (``digest``, posted by
    the release form, names it), never what the filter would find today. Placements are
    written, set-based. Cases another batch placed in the meantime, or that are no longer
    eligible, are skipped and counted, never an error. A placement's term never outlives
    the agency's contract: it ends with the contract's last day."""
    require(actor, "placement.release")
    batch = _lock_batch(session, batch_id)
    check_releasable(session, actor, batch, digest)
    result = compute(session, batch, lock=True)
    now = clock.now()
    term_ends = now + timedelta(days=batch.term_days)
    buckets = {c.id: (c.bucket, c.amount_cents) for c in result.cases}
    agency_ids = {str(a): uuid.UUID(str(a)) for a in set(result.allocation.assigned.values())}
    ends_by_agency: dict[str, datetime] = {}
    capped = 0
    last_days = contract_ends(session, list(agency_ids.values()))
    for key, aid in agency_ids.items():
        ends = last_days.get(aid)
        limit = datetime.combine(ends + timedelta(days=1), time.min, tzinfo=UTC) if ends else term_ends
        ends_by_agency[key] = min(term_ends, limit)
        capped += ends_by_agency[key] < term_ends
    ids = new_ids(len(result.allocation.assigned), session.get_bind().dialect.name)
    rows = [{"id": next(ids), "case_id": cid, "agency_id": agency_ids[str(aid)], "batch_id": batch.id, "status": ACTIVE,
             "bucket_at_placement": buckets[cid][0], "amount_cents": buckets[cid][1], "placed_at": now,
             "term_ends_at": ends_by_agency[str(aid)]} for cid, aid in result.allocation.assigned.items()]
    insert_placements(session, rows)
    placed = session.scalar(select(func.count()).select_from(Placement).where(
        Placement.batch_id == batch.id, Placement.status == ACTIVE)) or 0
    counts = {
        "candidates": len(result.cases), "placed": placed, "skipped_already_placed": len(rows) - placed,
        "unallocated": len(result.allocation.unallocated),
        "left_since_preview": (batch.candidates_count or 0) - len(result.cases),
        "terms_ending_with_contract": capped,
        "per_agency": {str(r["agency_id"]): [r["cases"], r["amount_cents"]] for r in result.rows()},
    }
    batch.status = "released"
    batch.decided_by = getattr(actor, "id", None)
    batch.decided_at = now
    batch.result = counts
    session.flush()
    record(session, actor, "placement_batch.released", "placement_batch", batch.id,
           after={**counts, "seed": batch.seed, "strategy": batch.strategy,
                  "candidates_sha256": batch.candidates_digest})
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
