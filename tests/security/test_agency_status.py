"""An agency that is not active reads no debtor data, by page, by API or by login."""

from __future__ import annotations

from sqlalchemy import select, update

from audit.models import AuditEntry
from portal.agencies.models import Agency
from portal.identity.operations import create_api_token
from portal.security.scoping import cases_for
from tests.conftest import login
from tests.factories import make_agency, make_cases, make_user, place


def _terminate(db, agency):
    db.execute(update(Agency).where(Agency.id == agency.id).values(status="terminated"))
    db.flush()


def test_a_terminated_agencys_token_and_staff_stop_working_at_once(db, client, app):
    agency = make_agency(db)
    case, = make_cases(db)
    place(db, [case], agency)
    admin = make_user(db, "agency_admin", agency)
    staff = make_user(db, "agency_staff", agency)
    _t, secret = create_api_token(db, admin, "collection system")
    headers = {"Authorization": f"Bearer {secret}"}
    login(client, staff)
    assert client.get("/home").status_code == 200
    assert client.get(f"/api/v1/cases/{case.id}", headers=headers).status_code == 200

    _terminate(db, agency)
    assert client.get(f"/api/v1/cases/{case.id}", headers=headers).status_code == 401
    assert client.get("/home").status_code == 302  # the session no longer loads its user
    other = app.test_client()
    page = other.get("/login").get_data(as_text=True)
    from tests.conftest import csrf_from

    refused = other.post("/login", data={"csrf_token": csrf_from(page), "username": staff.username,
                                         "password": "correct horse battery staple"})
    assert refused.status_code == 401


def test_scoping_hides_cases_of_an_agency_that_is_not_active_even_with_live_placements(db):
    agency = make_agency(db)
    case, = make_cases(db)
    place(db, [case], agency)
    staff = make_user(db, "agency_staff", agency)
    assert db.scalars(cases_for(staff)).all() == [case]
    for status in ("suspended", "terminated", "approved"):
        db.execute(update(Agency).where(Agency.id == agency.id).values(status=status))
        db.flush()
        assert db.scalars(cases_for(staff)).all() == [], status


def test_every_api_read_of_debtor_data_is_audited_without_the_data(db, client):
    agency = make_agency(db)
    case, = make_cases(db)
    place(db, [case], agency)
    admin = make_user(db, "agency_admin", agency)
    _t, secret = create_api_token(db, admin, "collection system")
    headers = {"Authorization": f"Bearer {secret}"}
    client.get("/api/v1/cases", headers=headers)
    client.get(f"/api/v1/cases/{case.id}", headers=headers)
    entries = db.scalars(select(AuditEntry).where(AuditEntry.action.startswith("api."))).all()
    entries += db.scalars(select(AuditEntry).where(AuditEntry.action == "case.opened")).all()
    assert [e.action for e in entries] == ["api.cases_listed", "case.opened"]
    assert entries[1].after == {"channel": "api"}
    assert entries[0].after == {"case_ids": [str(case.id)]}
    assert entries[1].object_id == str(case.id)
    assert case.debtor_name not in str([e.after for e in entries])


def test_opening_a_debtors_file_on_a_page_is_on_the_record(db, client):
    agency = make_agency(db)
    case, = make_cases(db)
    place(db, [case], agency)
    staff = make_user(db, "agency_staff", agency)
    login(client, staff)
    assert client.get(f"/cases/{case.id}").status_code == 200
    opened = db.scalars(select(AuditEntry).where(AuditEntry.action == "case.opened")).all()
    assert [(e.object_id, e.actor_id, e.after) for e in opened] == [(str(case.id), str(staff.id), {"channel": "portal"})]
