"""Placement pages: build → preview → release by another person, recall and
acknowledgement through the pages, statement CSV safe for spreadsheets."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.placements.models import ACTIVE, Placement
from tests.conftest import login, post_form
from tests.factories import make_agency, make_cases, make_user, place


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
    done = post_form(ap, batch_url + "/release", {})
    assert done.status_code == 302
    assert "6 cases placed" in ap.get(done.headers["Location"]).get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(Placement).where(Placement.status == ACTIVE)) == 6


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


def test_statement_csv_is_spreadsheet_safe(db: Session, app: Any) -> None:
    agency = make_agency(db, name="=cmd|' /C calc'!A0")
    client = app.test_client()
    login(client, make_user(db, "auditor"))
    response = client.get("/placements/statements.csv", query_string={"agency": str(agency.id), "month": "2026-10"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    body = response.get_data(as_text=True)
    assert body.lstrip("\ufeff").startswith("account_no,paid_on,amount")
    assert "TOTAL" in body
