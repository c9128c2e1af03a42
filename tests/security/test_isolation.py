"""Agency isolation: another agency's case does not exist for you, by any path; a recalled
case is gone for its agency at once."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import url_for
from sqlalchemy import update

from portal.cases.models import Case
from portal.errors import NotFound
from portal.placements.models import Placement
from portal.security import crypto
from portal.security.scoping import active_placement_of, cases_for, get_case, placements_for
from tests.access.conftest import build_world
from tests.access.world import World
from tests.conftest import csrf_from, login
from tests.factories import make_agency, make_cases, make_user, place

SEARCH_PARAMS = ("q", "search", "phone", "national_id", "account_no", "name", "case", "case_id", "id")


@pytest.fixture
def world(db: Any) -> World:
    return build_world(db)


def secrets_of(case: Any) -> list[str]:
    """What must never reach another agency: the case's id, account and debtor data."""
    return [str(case.id), case.account_no, case.debtor_name, case.national_id, case.phone, case.address]


def search_by_blind_index(db: Any, actor: Any, kind: str, value: str) -> list[Case]:
    column = Case.phone_bidx if kind == "phone" else Case.national_id_bidx
    stmt = cases_for(actor).where(column == crypto.cipher().blind_index(kind, value))
    return list(db.scalars(stmt))


def _rules_with_arguments(app: Any) -> list[Any]:
    return [r for r in app.url_map.iter_rules() if r.arguments and r.endpoint != "static"]


def _path_with(app: Any, rule: Any, value: uuid.UUID) -> str:
    values: dict[str, Any] = {}
    for name, converter in rule._converters.items():
        if type(converter).__name__ == "UUIDConverter":
            values[name] = value
        elif type(converter).__name__ == "AnyConverter":
            values[name] = sorted(converter.items)[0] if hasattr(converter, "items") else "view"
        else:
            values[name] = str(value)
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


# -- through the web ---------------------------------------------------------------------
def test_agency_b_gets_not_found_for_agency_a_objects_on_every_route_taking_an_argument(app, world):
    client = app.test_client()
    login(client, world.users["agency_staff_b"])
    token = csrf_from(client.get("/account").get_data(as_text=True))
    secrets = secrets_of(world.case_a)
    placement = world.db.scalars(placements_for(world.users["agency_staff_a"])).first()
    client_a = app.test_client()
    login(client_a, world.users["agency_staff_a"])
    failures = []
    for rule in _rules_with_arguments(app):
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            statuses = {}
            for label, object_id in (("case", world.case_a.id), ("placement", placement.id),
                                     ("nothing", uuid.uuid4())):
                path = _path_with(app, rule, object_id)
                if method == "POST":
                    response = client.post(path, data={"csrf_token": token})
                else:
                    response = client.get(path)
                statuses[label] = response.status_code
                leaked = [s for s in secrets[1:] if s and s in response.get_data(as_text=True)]
                if leaked:
                    failures.append(f"{method} {path}: body shows {leaked}")
            # A's objects answer exactly as an id that exists nowhere: nothing to learn...
            if len(set(statuses.values())) != 1:
                failures.append(f"{method} {rule.rule}: {statuses} differ: existence shows")
            # ... and never with success; a page agency staff use says "no such thing".
            if any(200 <= s < 300 for s in statuses.values()):
                failures.append(f"{method} {rule.rule}: {statuses}: served to agency B")
            if (method == "GET" and not rule.rule.startswith("/api/")
                    and client_a.get(_path_with(app, rule, world.case_a.id)).status_code < 400
                    and statuses["case"] != 404):
                failures.append(f"{method} {rule.rule}: {statuses}, expected 404 (agency A is served)")
    assert not failures, "\n".join(failures)


def test_agency_b_search_on_any_page_never_shows_agency_a_case(app, world):
    client = app.test_client()
    login(client, world.users["agency_staff_b"])
    case = world.case_a
    failures = []
    for rule in app.url_map.iter_rules():
        if rule.arguments or "GET" not in (rule.methods or ()) or rule.endpoint == "static":
            continue
        for value in (case.phone, case.national_id, case.account_no, case.debtor_name, str(case.id)):
            with app.test_request_context():
                path = url_for(rule.endpoint, **{p: value for p in SEARCH_PARAMS})
            body = client.get(path).get_data(as_text=True)
            leaked = [s for s in secrets_of(case)[1:] if s and s in body.replace(value, "")]
            if leaked:
                failures.append(f"{path}: body shows {leaked}")
    assert not failures, "\n".join(failures)


# -- through the scoped query path -----------------------------------------------------
def test_agency_b_gets_not_found_for_agency_a_case_by_id(db, world):
    with pytest.raises(NotFound):
        get_case(db, world.users["agency_staff_b"], world.case_a.id)


def test_another_agencys_case_and_a_missing_case_look_the_same(db, world):
    staff_b = world.users["agency_staff_b"]
    errors = []
    for case_id in (world.case_a.id, uuid.uuid4(), "not-a-uuid"):
        with pytest.raises(NotFound) as caught:
            get_case(db, staff_b, case_id)
        errors.append((caught.value.code, str(caught.value.message)))
    assert len(set(errors)) == 1


def test_agency_b_blind_index_search_finds_nothing_of_agency_a(db, world):
    case = world.case_a
    staff_a, staff_b = world.users["agency_staff_a"], world.users["agency_staff_b"]
    assert [c.id for c in search_by_blind_index(db, staff_a, "phone", case.phone)] == [case.id]
    assert [c.id for c in search_by_blind_index(db, staff_a, "national_id", case.national_id)] == [case.id]
    assert search_by_blind_index(db, staff_b, "phone", case.phone) == []
    assert search_by_blind_index(db, staff_b, "national_id", case.national_id) == []


def test_agency_sees_only_its_active_placements(db, world):
    staff_a, admin_a = world.users["agency_staff_a"], world.users["agency_admin_a"]
    for user in (staff_a, admin_a):
        assert [c.id for c in db.scalars(cases_for(user))] == [world.case_a.id]
    assert list(db.scalars(cases_for(world.users["agency_staff_b"]))) == []


def test_agency_a_loses_a_recalled_case_at_once(app, db, world):
    staff_a = world.users["agency_staff_a"]
    assert get_case(db, staff_a, world.case_a.id).id == world.case_a.id
    db.execute(update(Placement).where(Placement.case_id == world.case_a.id).values(status="recalled"))
    db.expire_all()
    with pytest.raises(NotFound):
        get_case(db, staff_a, world.case_a.id)
    assert list(db.scalars(cases_for(staff_a))) == []
    assert active_placement_of(db, world.users["vendor_manager"], world.case_a) is None
    # Its history stays: the agency still sees its own past placement, not the case.
    assert [p.status for p in db.scalars(placements_for(staff_a))] == ["recalled"]


def test_case_placed_again_with_b_after_recall_moves_to_b(db, world):
    db.execute(update(Placement).where(Placement.case_id == world.case_a.id).values(status="recalled"))
    place(db, [world.case_a], world.agency_b)
    with pytest.raises(NotFound):
        get_case(db, world.users["agency_staff_a"], world.case_a.id)
    assert get_case(db, world.users["agency_staff_b"], world.case_a.id).id == world.case_a.id
    # B sees its placement, never A's (even the recalled one).
    assert {p.agency_id for p in db.scalars(placements_for(world.users["agency_staff_b"]))} == {world.agency_b.id}


def test_bank_readers_see_every_case_and_admin_none(db, world):
    every = {world.case_a.id, world.case_unplaced.id}
    for role in ("vendor_manager", "approver", "auditor"):
        assert every <= {c.id for c in db.scalars(cases_for(world.users[role]))}, role
    assert list(db.scalars(cases_for(world.users["admin"]))) == []
    assert list(db.scalars(cases_for(None))) == []
    with pytest.raises(NotFound):
        get_case(db, world.users["admin"], world.case_a.id)


def test_agency_user_without_agency_sees_nothing(db):
    agency = make_agency(db)
    case, = make_cases(db)
    place(db, [case], agency)
    staff = make_user(db, "agency_staff", agency)
    staff.agency_id = None  # a broken account must fail closed
    assert list(db.scalars(cases_for(staff))) == []


def test_admin_and_unknown_actors_see_no_placements(db, world):
    assert list(db.scalars(placements_for(world.users["admin"]))) == []
    assert list(db.scalars(placements_for(None))) == []
    assert len(list(db.scalars(placements_for(world.users["auditor"])))) >= 1


# -- through the vendor API, with agency tokens ----------------------------------------------
def _token_for(db: Any, agency: Any) -> str:
    from portal.identity.operations import create_api_token

    _token, secret = create_api_token(db, make_user(db, "agency_admin", agency), "platform")
    db.flush()
    return secret


def test_agency_b_token_gets_404_for_agency_a_case_and_never_lists_it(app, db, world):
    client = app.test_client()
    auth_b = {"Authorization": f"Bearer {_token_for(db, world.agency_b)}"}
    auth_a = {"Authorization": f"Bearer {_token_for(db, world.agency_a)}"}
    path = f"/api/v1/cases/{world.case_a.id}"
    assert client.get(path, headers=auth_a).status_code == 200
    response = client.get(path, headers=auth_b)
    assert response.status_code == 404
    listing = client.get("/api/v1/cases", headers=auth_b)
    for secret in secrets_of(world.case_a):
        if secret:
            assert secret not in response.get_data(as_text=True)
            assert secret not in listing.get_data(as_text=True)
    # ... and agency A's token loses the case the moment it is recalled.
    db.execute(update(Placement).where(Placement.case_id == world.case_a.id).values(status="recalled"))
    assert client.get(path, headers=auth_a).status_code == 404
