"""Reconciliation of agency reports with the ledger; commission only inside the term;
statements safe to open in a spreadsheet."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from portal import clock
from portal.cases.imports import import_ledger
from portal.errors import NotFound
from portal.placements import reconciliation as rec
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


def ledger(db: Session, manager: Any, tmp_path: Path, lines: list[str]) -> None:
    path = tmp_path / "l.csv"
    path.write_text("reference,account_no,paid_on,amount\n" + "\n".join(lines) + "\n")
    import_ledger(db, manager, path, "l.csv")


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
    c1 = world["cases"][0]
    recall_case(db, world["manager"], c1.id, "manager", "quality")
    clock.freeze(clock.now() + timedelta(days=5))
    report = rec.PaymentReport  # the agency can no longer report on it at all
    with pytest.raises(NotFound):
        rec.report_payment(db, world["staff"], c1.id, clock.today(), 100)
    assert report


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
