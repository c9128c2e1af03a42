"""Batches: build, preview (what-if), release by a second person; only eligible cases and
only agencies that may receive them; one active placement per case."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.errors import Conflict, InvalidInput, RuleBroken
from portal.placements import operations as ops
from portal.placements.models import ACTIVE, Placement
from tests.factories import days_ago, make_agency, make_cases, make_user, place, system


@pytest.fixture
def people(db: Session) -> tuple[Any, Any]:
    return make_user(db, "vendor_manager"), make_user(db, "approver")


def release(db: Session, approver: Any, batch: Any) -> dict[str, Any]:
    """What the release form does: post back the digest of the list the approver reviewed."""
    return ops.release(db, approver, batch.id, digest=batch.candidates_digest)


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
    counts = release(db, approver, batch)
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
        release(db, approver_builder, batch)
    release(db, approver, batch)
    with pytest.raises(Conflict):
        release(db, approver, batch)


def test_overlapping_batches_skip_cases_already_placed(db: Session, people: tuple[Any, Any]) -> None:
    manager, approver = people
    agency = make_agency(db)
    make_agency(db)  # two agencies: the concentration limit (half a batch each) does not bind
    cases = make_cases(db, 10)
    first = ops.build_batch(db, manager, {}, "capacity")
    second = ops.build_batch(db, manager, {}, "capacity")
    place(db, cases[:4], agency)
    assert release(db, approver, first)["placed"] == 6
    assert release(db, approver, second)["placed"] == 0
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
    release(db, approver, batch)
    assert set(db.scalars(select(Placement.case_id))) == {c.id for c in small}


def test_release_places_only_the_reviewed_list_never_cases_imported_after(db: Session, people: tuple[Any, Any]) -> None:
    manager, approver = people
    make_agency(db)
    make_agency(db)
    reviewed = make_cases(db, 4)
    batch = ops.build_batch(db, manager, {}, "capacity")
    assert batch.candidates_count == 4 and batch.preview["candidates"] == 4
    late = make_cases(db, 3)  # imported after the approver's preview, matching the same filter
    counts = release(db, approver, batch)
    placed = set(db.scalars(select(Placement.case_id).where(Placement.status == ACTIVE)))
    assert placed == {c.id for c in reviewed} and not placed & {c.id for c in late}
    assert counts["placed"] == 4


def test_a_recomputed_list_refuses_a_release_of_the_old_one(db: Session, people: tuple[Any, Any]) -> None:
    manager, approver = people
    make_agency(db)
    make_cases(db, 2)
    batch = ops.build_batch(db, manager, {}, "capacity")
    seen = batch.candidates_digest
    make_cases(db, 1)
    ops.refresh_preview(db, manager, batch.id)
    with pytest.raises(Conflict):
        ops.release(db, approver, batch.id, digest=seen)
    with pytest.raises(InvalidInput):
        ops.release(db, approver, batch.id)  # a person always says which list they reviewed
    assert active_count(db) == 0


def test_a_batch_with_no_builder_is_not_releasable_by_a_person(db: Session, people: tuple[Any, Any]) -> None:
    _manager, approver = people
    make_agency(db)
    make_cases(db, 2)
    batch = ops.build_batch(db, system(), {}, "capacity")
    assert batch.created_by is None
    with pytest.raises(RuleBroken):
        release(db, approver, batch)
    assert active_count(db) == 0


def test_blocking_flags_keep_a_case_in_house_whatever_its_dpd(db: Session, people: tuple[Any, Any]) -> None:
    manager, approver = people
    make_agency(db)
    make_agency(db)
    plain = make_cases(db, 1)
    blocked = [make_cases(db, 1, flags=[flag])[0] for flag in ("deceased", "litigation", "complaint", "do_not_contact")]
    early_but_blocked = make_cases(db, 1, overdue_since=days_ago(5), flags=["lost_contact", "deceased"])
    batch = ops.build_batch(db, manager, {}, "capacity")
    release(db, approver, batch)
    placed = set(db.scalars(select(Placement.case_id).where(Placement.status == ACTIVE)))
    assert placed == {plain[0].id}
    assert not placed & {c.id for c in blocked + early_but_blocked}
    from portal.cases import eligibility

    assert not eligibility.is_eligible(blocked[0], eligibility.rule(db))
    assert eligibility.is_eligible(plain[0], eligibility.rule(db))


def test_terms_are_bounded_and_end_with_the_agency_contract(db: Session, people: tuple[Any, Any]) -> None:
    manager, approver = people
    agency = make_agency(db, ends_on=days_ago(-30))  # contract ends in 30 days
    make_cases(db, 2)
    for term in (0, 181, 10_000_000):
        with pytest.raises(InvalidInput):
            ops.build_batch(db, manager, {}, "capacity", term_days=term)
    with pytest.raises(InvalidInput):
        ops.build_batch(db, manager, {"dpd_min": 10**30}, "capacity")
    with pytest.raises(InvalidInput):
        ops.build_batch(db, manager, {"amount_min_cents": 10**30}, "capacity")
    batch = ops.build_batch(db, manager, {}, "capacity", term_days=90)
    assert release(db, approver, batch)["terms_ending_with_contract"] == 1
    ends = db.scalars(select(Placement.term_ends_at).where(Placement.agency_id == agency.id)).all()
    assert ends and all(e.date() <= days_ago(-31) for e in ends)
