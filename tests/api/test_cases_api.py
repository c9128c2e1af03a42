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


def test_a_recall_is_listed_and_acknowledged_through_the_api_once(db, client):
    from portal.placements.recall import recall_case
    from tests.factories import system

    agency, other = make_agency(db), make_agency(db)
    case, = make_cases(db)
    place(db, [case], agency)
    _admin, headers = _token(db, agency)
    _other_admin, other_headers = _token(db, other)
    recall_case(db, system(), case.id, "manager", "debtor disputes the debt")
    db.flush()
    recalls = client.get("/api/v1/recalls", headers=headers).json["items"]
    assert [r["case_id"] for r in recalls] == [str(case.id)]
    assert client.get(f"/api/v1/cases/{case.id}", headers=headers).status_code == 404
    pid = recalls[0]["placement_id"]
    assert client.post(f"/api/v1/placements/{pid}/acknowledge", headers=other_headers).status_code == 404
    done = client.post(f"/api/v1/placements/{pid}/acknowledge", headers=headers)
    assert done.status_code == 200 and done.json["acknowledged_at"]
    again = client.post(f"/api/v1/placements/{pid}/acknowledge", headers=headers)
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    assert client.get("/api/v1/recalls", headers=headers).json["items"] == []
    assert client.post("/api/v1/placements/zzz/acknowledge", headers=headers).status_code == 404


def test_payment_reports_are_validated_and_scoped(db, client):
    agency, other = make_agency(db), make_agency(db)
    case, = make_cases(db)
    place(db, [case], agency)
    _admin, headers = _token(db, agency)
    _o, other_headers = _token(db, other)
    url = f"/api/v1/cases/{case.id}/payments"
    ok = client.post(url, headers=headers, json={"paid_on": "2026-11-02", "amount_cents": 12345})
    assert ok.status_code == 201, ok.json
    for body in ({"paid_on": "yesterday", "amount_cents": 1}, {"paid_on": "2026-11-02", "amount_cents": -5},
                 {"paid_on": "2026-11-02", "amount_cents": 1.5}, {"paid_on": "2026-11-02", "amount_cents": 1, "x": 1},
                 [], "text"):
        bad = client.post(url, headers=headers, json=body)
        assert bad.status_code == 422, (body, bad.status_code)
        assert bad.mimetype == "application/problem+json"
    assert client.post(url, headers=other_headers, json={"paid_on": "2026-11-02", "amount_cents": 1}).status_code == 404
    garbage = client.post(url, headers=headers, data="{not json", content_type="application/json")
    assert garbage.status_code == 422
