"""The vendor API reaches cases through the same scoped path as the pages."""

from __future__ import annotations

from sqlalchemy import update

from portal.identity.operations import create_api_token, revoke_api_token
from portal.placements.models import Placement
from tests.factories import make_agency, make_cases, make_user, place


def _token(db, agency):
    admin = make_user(db, "agency_admin", agency)
    _t, secret = create_api_token(db, admin, "collection system")
    return admin, {"Authorization": f"Bearer {secret}"}


def test_api_lists_and_reads_only_the_callers_placed_cases(db, client):
    a, b = make_agency(db), make_agency(db)
    case_a, case_b, unplaced = make_cases(db, 3)
    place(db, [case_a], a)
    place(db, [case_b], b)
    _admin, headers = _token(db, a)

    listed = client.get("/api/v1/cases", headers=headers)
    assert listed.status_code == 200
    assert [c["id"] for c in listed.json["items"]] == [str(case_a.id)]
    one = client.get(f"/api/v1/cases/{case_a.id}", headers=headers)
    assert one.status_code == 200
    assert one.json["debtor"]["name"] == case_a.debtor_name

    for other in (case_b, unplaced):
        response = client.get(f"/api/v1/cases/{other.id}", headers=headers)
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"
        assert other.debtor_name not in response.get_data(as_text=True)


def test_a_recalled_case_disappears_from_the_api_at_once(db, client):
    agency = make_agency(db)
    case, = make_cases(db)
    place(db, [case], agency)
    _admin, headers = _token(db, agency)
    assert client.get(f"/api/v1/cases/{case.id}", headers=headers).status_code == 200
    db.execute(update(Placement).where(Placement.case_id == case.id).values(status="recalled"))
    db.flush()
    assert client.get(f"/api/v1/cases/{case.id}", headers=headers).status_code == 404
    assert client.get("/api/v1/cases", headers=headers).json["items"] == []


def test_missing_bad_or_revoked_tokens_get_a_problem_document(db, client):
    agency = make_agency(db)
    admin, headers = _token(db, agency)
    for h in ({}, {"Authorization": "Bearer apt_not-a-token"}, {"Authorization": "Basic Zm9vOmJhcg=="}):
        response = client.get("/api/v1/cases", headers=h)
        assert response.status_code == 401
        assert response.mimetype == "application/problem+json"
        assert response.json["status"] == 401
        assert "Bearer" in response.headers["WWW-Authenticate"]
    token = db.query(__import__("portal.identity.models", fromlist=["ApiToken"]).ApiToken).one()
    revoke_api_token(db, admin, token.id)
    assert client.get("/api/v1/cases", headers=headers).status_code == 401


def test_malformed_queries_are_problems_not_errors(db, client):
    agency = make_agency(db)
    _admin, headers = _token(db, agency)
    assert client.get("/api/v1/cases?limit=abc", headers=headers).status_code == 400
    assert client.get("/api/v1/cases?after=zzz", headers=headers).status_code == 400
    assert client.get("/api/v1/cases/not-a-uuid", headers=headers).status_code == 404
    missing = client.get("/api/v1/nothing-here", headers=headers)
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    doc = client.get("/api/v1/openapi.json", headers=headers)
    assert doc.json["openapi"].startswith("3.")
