"""Batches: build, preview (what-if), release by a second person; only eligible cases and
only agencies that may receive them; one active placement per case."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.errors import Conflict, RuleBroken
from portal.placements import operations as ops
from portal.placements.models import ACTIVE, Placement
from tests.factories import days_ago, make_agency, make_cases, make_user, place


@pytest.fixture
def people(db: Session) -> tuple[Any, Any]:
    return make_user(db, "vendor_manager"), make_user(db, "approver")


def active_count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Placement).where(Placement.status == ACTIVE)) or 0


def test_release_places_eligible_cases_only_with_receiving_agencies(db: Session, people: tuple[Any, Any]) -> None:
    manager, approver = people
    a = make_agency(db, max_active_cases=10)
    b = make_agency(db)
    c = make_agency(db)
    make_agency(db, status="suspended")
    held = make_agency(db)
    held.placement_hold = True
    make_agency(db, contract=False)
    make_agency(db, ends_on=days_ago(1))
    eligible = make_cases(db, 20)  # 45 DPD
    early = make_cases(db, 2, overdue_since=days_ago(5), flags=["lost_contact"])
    make_cases(db, 3, overdue_since=days_ago(5))  # not yet eligible
    batch = ops.build_batch(db, manager, {"regions": ["Shanghai"]}, "capacity", seed=7)
    preview = ops.preview(db, manager, batch.id)
    rows = {r["agency_id"]: r["cases"] for r in preview.rows()}
    assert set(rows) <= {a.id, b.id, c.id}
    counts = ops.release(db, approver, batch.id)
    assert counts["placed"] == 22 and counts["skipped_already_placed"] == 0
    placed = set(db.scalars(select(Placement.case_id).where(Placement.status == ACTIVE)))
    assert placed == {c.id for c in eligible + early}
    assert db.scalar(select(func.count()).select_from(Placement).where(Placement.agency_id == a.id)) <= 10


def test_four_eyes_and_single_release(db: Session, people: tuple[Any, Any]) -> None:
    manager, approver = people
    make_agency(db)
    make_cases(db, 3)
    approver_builder = make_user(db, "vendor_manager")
    batch = ops.build_batch(db, approver_builder, {}, "capacity")
    # the same person cannot release what they built (give them the approver role to try)
    approver_builder.role = "approver"
    with pytest.raises(RuleBroken):
        ops.release(db, approver_builder, batch.id)
    ops.release(db, approver, batch.id)
    with pytest.raises(Conflict):
        ops.release(db, approver, batch.id)


def test_overlapping_batches_skip_cases_already_placed(db: Session, people: tuple[Any, Any]) -> None:
    manager, approver = people
    agency = make_agency(db)
    make_agency(db)  # two agencies: the concentration limit (half a batch each) does not bind
    cases = make_cases(db, 10)
    first = ops.build_batch(db, manager, {}, "capacity")
    second = ops.build_batch(db, manager, {}, "capacity")
    place(db, cases[:4], agency)
    assert ops.release(db, approver, first.id)["placed"] == 6
    assert ops.release(db, approver, second.id)["placed"] == 0
    assert active_count(db) == 10


def test_rows_racing_in_are_skipped_not_raised(db: Session, people: tuple[Any, Any]) -> None:
    """The INSERT itself tolerates a case placed between the read and the write."""
    agency = make_agency(db)
    cases = make_cases(db, 3)
    place(db, cases[:1], agency)
    import uuid
    from datetime import timedelta

    from portal import clock

    now = clock.now()
    rows = [{"id": uuid.uuid4(), "case_id": c.id, "agency_id": agency.id, "batch_id": None, "status": ACTIVE,
             "bucket_at_placement": "M2", "amount_cents": 1, "placed_at": now, "term_ends_at": now + timedelta(days=1)}
            for c in cases]
    ops.insert_placements(db, rows)
    assert active_count(db) == 3


def test_what_if_by_strategy_and_concentration_limit(db: Session, people: tuple[Any, Any]) -> None:
    manager, _approver = people
    agencies = [make_agency(db, max_active_cases=n) for n in (1000, 100, 100)]
    make_cases(db, 30)
    batch = ops.build_batch(db, manager, {}, "capacity", seed=3)
    capacity = {r["agency_id"]: r["cases"] for r in ops.preview(db, manager, batch.id).rows()}
    performance = {r["agency_id"]: r["cases"] for r in ops.preview(db, manager, batch.id, "performance").rows()}
    assert capacity[agencies[0].id] == 15  # 0.5 of the batch at most (placement.max_share_per_agency)
    assert sorted(performance.values()) == [10, 10, 10]  # no scorecards yet: equal shares


def test_filter_by_bucket_dpd_and_amount(db: Session, people: tuple[Any, Any]) -> None:
    manager, approver = people
    make_agency(db)
    make_agency(db)
    make_cases(db, 2, overdue_since=days_ago(100))  # M4+
    small = make_cases(db, 2, principal_cents=100)
    make_cases(db, 2)
    batch = ops.build_batch(db, manager, {"buckets": ["M2"], "dpd_min": "40", "dpd_max": 50,
                                          "amount_max_cents": 100_000}, "capacity")
    ops.release(db, approver, batch.id)
    assert set(db.scalars(select(Placement.case_id))) == {c.id for c in small}
