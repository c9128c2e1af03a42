"""Reconciliation of agency reports with the ledger; commission only inside the term (in
the debtor's calendar, the hand-over day to the later placement); one ledger payment
earns at most one agency's commission; statements safe to open in a spreadsheet."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import clock
from portal.cases.imports import import_ledger
from portal.errors import NotFound
from portal.placements import reconciliation as rec
from portal.placements.models import PaymentReport
from portal.placements.recall import recall_case
from tests.factories import make_agency, make_cases, make_user, place


@pytest.fixture
def world(db: Session) -> dict[str, Any]:
    agency = make_agency(db)
    cases = make_cases(db, 3)
    clock.freeze(clock.now() - timedelta(days=20))
    place(db, cases, agency)
    clock.freeze(clock.now() + timedelta(days=20))
    return {"agency": agency, "cases": cases, "staff": make_user(db, "agency_staff", agency),
            "manager": make_user(db, "vendor_manager")}


def ledger(db: Session, manager: Any, tmp_path: Path, lines: list[str], name: str = "l.csv") -> None:
    path = tmp_path / name
    path.write_text("reference,account_no,paid_on,amount\n" + "\n".join(lines) + "\n")
    import_ledger(db, manager, path, name)


def test_matching_unmatched_and_commission_only_in_term(db: Session, world: dict[str, Any], tmp_path: Path) -> None:
    c1, c2, c3 = world["cases"]
    staff = world["staff"]
    rec.report_payment(db, staff, c1.id, date(2026, 10, 20), 100_00)
    rec.report_payment(db, staff, c2.id, date(2026, 10, 21), 50_00)  # ledger says 60: unmatched
    rec.report_payment(db, staff, c3.id, date(2026, 10, 22), 70_00)
    recall_case(db, world["manager"], c3.id, "manager", "quality")  # recalled on 2026-11-02
    ledger(db, world["manager"], tmp_path, [f"L1,{c1.account_no},2026-10-22,100.00",
                                            f"L2,{c2.account_no},2026-10-21,60.00",
                                            f"L3,{c3.account_no},2026-10-22,70.00"])
    result = rec.reconcile(db, world["manager"], date(2026, 10, 1), date(2026, 10, 31))
    assert {m.ledger.reference for m in result.matched} == {"L1", "L3"}
    assert [r.case_id for r in result.unmatched_reports] == [c2.id]
    assert [p.reference for p in result.unmatched_ledger] == ["L2"]
    st = rec.statement(db, world["manager"], world["agency"].id, 2026, 10)
    assert st.recovered_cents == 170_00
    assert st.commission_cents == (100_00 * 1200 + 5000) // 10000 + (70_00 * 1200 + 5000) // 10000  # bucket M2


def test_no_commission_after_recall(db: Session, world: dict[str, Any], tmp_path: Path) -> None:
    """Reported while active, recalled, and the bank received the money after the recall:
    matched, but outside the term, so no commission."""
    c1 = world["cases"][0]
    rec.report_payment(db, world["staff"], c1.id, date(2026, 11, 2), 100_00)  # reported on the day, still active
    recall_case(db, world["manager"], c1.id, "manager", "quality")  # 2026-11-02 10:00 Shanghai
    with pytest.raises(NotFound):  # the agency can no longer report on it at all
        rec.report_payment(db, world["staff"], c1.id, clock.today(), 100)
    clock.freeze(clock.now() + timedelta(days=3))
    ledger(db, world["manager"], tmp_path, [f"LATE,{c1.account_no},2026-11-04,100.00"])  # after the recall
    st = rec.statement(db, world["manager"], world["agency"].id, 2026, 11)
    assert st.outside_term == 1
    assert st.commission_cents == 0 and st.lines == []


def _handover(db: Session, world: dict[str, Any], tmp_path: Path) -> tuple[Any, Any, Any]:
    """Case c1 is recalled from agency A and placed with agency B on the same (Shanghai)
    day; both agencies report the debtor's payment of that day."""
    c1 = world["cases"][0]
    b = make_agency(db)
    b_staff = make_user(db, "agency_staff", b)
    today = clock.today()
    rec.report_payment(db, world["staff"], c1.id, today, 100_00)
    recall_case(db, world["manager"], c1.id, "manager", "re-placed")
    clock.advance(timedelta(hours=1))
    place(db, [c1], b)
    rec.report_payment(db, b_staff, c1.id, today, 100_00)
    ledger(db, world["manager"], tmp_path, [f"HO,{c1.account_no},{today.isoformat()},100.00"])
    return c1, b, b_staff


def test_the_hand_over_day_earns_one_commission_for_the_later_placement(db: Session, world: dict[str, Any],
                                                                        tmp_path: Path) -> None:
    _c1, b, _b_staff = _handover(db, world, tmp_path)
    first = rec.statement(db, world["manager"], world["agency"].id, 2026, 11)
    later = rec.statement(db, world["manager"], b.id, 2026, 11)
    assert first.commission_cents == 0 and first.lines == []
    assert later.recovered_cents == 100_00 and later.commission_cents > 0
    # One ledger payment, one stored pair: the statements read the same when run again.
    pairs = db.scalars(select(PaymentReport.ledger_payment_id).where(PaymentReport.ledger_payment_id.is_not(None))).all()
    assert len(pairs) == 1
    assert rec.statement(db, world["manager"], b.id, 2026, 11).commission_cents == later.commission_cents


def test_a_pair_outside_the_term_passes_to_the_later_placement_that_reports_it(db: Session, world: dict[str, Any],
                                                                              tmp_path: Path) -> None:
    """The ledger arrives between the two reports: the first agency's report pairs, outside
    its term; the later placement's report takes the payment over."""
    c1 = world["cases"][0]
    b = make_agency(db)
    today = clock.today()
    rec.report_payment(db, world["staff"], c1.id, today, 100_00)
    recall_case(db, world["manager"], c1.id, "manager", "re-placed")
    clock.advance(timedelta(hours=1))
    place(db, [c1], b)
    ledger(db, world["manager"], tmp_path, [f"HO2,{c1.account_no},{today.isoformat()},100.00"])
    rec.report_payment(db, make_user(db, "agency_staff", b), c1.id, today, 100_00)
    assert rec.statement(db, world["manager"], b.id, 2026, 11).recovered_cents == 100_00
    assert rec.statement(db, world["manager"], world["agency"].id, 2026, 11).recovered_cents == 0


def test_term_days_are_the_debtors_days_not_utc(db: Session) -> None:
    """Placed at 17:00 UTC on 1 November is 01:00 on 2 November in Shanghai: a payment the
    debtor made on 1 November was before the placement."""
    agency = make_agency(db)
    case = make_cases(db, 1)[0]
    clock.freeze(datetime(2026, 11, 1, 17, 0, tzinfo=UTC))
    place(db, [case], agency)
    placement = db.scalars(select(rec.Placement).where(rec.Placement.case_id == case.id)).one()
    assert not rec.in_term(placement, date(2026, 11, 1), "Asia/Shanghai")
    assert rec.in_term(placement, date(2026, 11, 2), "Asia/Shanghai")
    assert rec.in_term(placement, date(2026, 11, 1), "America/New_York")


def test_agency_sees_only_its_own_statement(db: Session, world: dict[str, Any]) -> None:
    other = make_user(db, "agency_admin", make_agency(db))
    with pytest.raises(NotFound):
        rec.statement(db, other, world["agency"].id, 2026, 10)
    with pytest.raises(NotFound):
        rec.report_payment(db, other, world["cases"][0].id, date(2026, 10, 20), 100)


def test_statement_csv_neutralises_formulas() -> None:
    from portal.cases.sources import write_csv

    text = write_csv([["=HYPERLINK(1)", "+1", "-2", "@x", "ok", 5]])
    assert text.strip() == "'=HYPERLINK(1),'+1,'-2,'@x,ok,5"
