"""The access matrix: every rule in ``app.url_map`` × every role gets the status its entry
in ``tests/access/routes_<capability>.py`` expects; a route without an entry (or an entry
without a route) fails. Plus the unit rules of ``portal.security.access``."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from flask import url_for

from portal.security import access
from tests.access.world import LOGIN, OK, ROLES, Route, World
from tests.conftest import csrf_from, login

ACCESS_DIR = Path(__file__).parent


def collect_routes() -> list[Route]:
    routes: list[Route] = []
    for info in sorted(pkgutil.iter_modules([str(ACCESS_DIR)]), key=lambda i: i.name):
        if info.name.startswith("routes_"):
            module = importlib.import_module(f"tests.access.{info.name}")
            routes.extend(getattr(module, "ROUTES"))
    return routes


def coverage_problems(app: Any, routes: list[Route]) -> list[str]:
    """Rules without an entry, entries without a rule, an endpoint+method listed twice,
    an entry whose method its rule does not serve."""
    rules: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        rules.setdefault(rule.endpoint, set()).update(rule.methods or ())
    problems = []
    seen: set[tuple[str, str]] = set()
    for route in routes:
        key = (route.endpoint, route.method)
        if key in seen:
            problems.append(f"{route.endpoint} {route.method}: listed twice")
        seen.add(key)
        if route.endpoint not in rules:
            problems.append(f"{route.endpoint}: has an entry but no rule in app.url_map (stale entry?)")
        elif route.method not in rules[route.endpoint]:
            problems.append(f"{route.endpoint}: entry uses {route.method}, the rule serves "
                            f"{sorted(rules[route.endpoint])}")
    listed = {endpoint for endpoint, _method in seen}
    for endpoint in sorted(set(rules) - listed):
        problems.append(f"{endpoint}: rule {sorted(str(r) for r in app.url_map.iter_rules(endpoint))} has "
                        "no entry in any tests/access/routes_*.py: add one")
    return problems


def classify(response: Any) -> Any:
    """What happened, in the matrix's words: LOGIN, OK, or the status code."""
    status = response.status_code
    if status in (301, 302, 303, 307, 308):
        if urlparse(response.headers.get("Location", "")).path == "/login":
            return LOGIN
        return OK
    if status < 400:
        return OK
    return status


def matches(expected: Any, got: Any, method: str) -> bool:
    if expected == OK and method == "POST" and got in (400, 409, 422):
        return True  # past authorisation, stopped by validation (world.py)
    return bool(expected == got)


class Clients:
    """One test client per role, logged in once and again only after a route logged out."""

    def __init__(self, app: Any, world: World) -> None:
        self.app = app
        self.world = world
        self._clients: dict[str, Any] = {}
        self._tokens: dict[str, str] = {}

    def get(self, role: str) -> Any:
        client = self._clients.get(role)
        if client is None or not (role == "anonymous" or self._has(client, "_user_id")):
            client = self.app.test_client()
            if role != "anonymous":
                login(client, self.world.users[role])
            self._clients[role] = client
        if not self._has(client, "csrf_token"):  # a new session, or logging out cleared it
            page = "/login" if role == "anonymous" else "/account"
            self._tokens[role] = csrf_from(client.get(page).get_data(as_text=True))
        return client

    def token(self, role: str) -> str:
        return self._tokens[role]

    @staticmethod
    def _has(client: Any, key: str) -> bool:
        with client.session_transaction() as session:
            return key in session


def run_matrix(app: Any, world: World, routes: list[Route]) -> tuple[list[str], int]:
    clients = Clients(app, world)
    mismatches: list[str] = []
    checked = 0
    for route in routes:
        for role in ROLES:
            client = clients.get(role)
            with app.test_request_context():
                path = url_for(route.endpoint, **route.params(world))
            if route.method == "POST":
                data = {"csrf_token": clients.token(role), **route.data(world)}
                response = client.post(path, data=data)
            else:
                response = client.open(path, method=route.method)
            got = classify(response)
            expected = route.expect[role]
            checked += 1
            if not matches(expected, got, route.method):
                location = response.headers.get("Location", "")
                mismatches.append(
                    f"{route.endpoint:32} {route.method:4} {role:16} expected {expected!s:6} got {got!s:6}"
                    f" ({response.status_code}{' -> ' + location if location else ''})"
                )
    return mismatches, checked


def test_every_route_in_the_url_map_has_exactly_one_matrix_entry(app):
    problems = coverage_problems(app, collect_routes())
    assert not problems, "access matrix coverage:\n" + "\n".join(problems)


def test_a_route_without_an_entry_is_reported_by_name(app):
    routes = [r for r in collect_routes() if r.endpoint != "auditing.verify"]
    problems = coverage_problems(app, routes)
    assert any(p.startswith("auditing.verify:") and "no entry" in p for p in problems)
    stale = routes + [Route("nowhere.page", {role: OK for role in ROLES})]
    assert any(p.startswith("nowhere.page:") and "no rule" in p for p in coverage_problems(app, stale))


def test_every_route_answers_every_role_as_the_matrix_expects(app, world):
    routes = collect_routes()
    mismatches, checked = run_matrix(app, world, routes)
    assert checked == len(routes) * len(ROLES)
    assert not mismatches, f"{len(mismatches)} of {checked} route/role pairs differ:\n" + "\n".join(mismatches)


def test_the_matrix_fails_when_a_route_answers_a_role_it_should_not(app, world):
    # The audit log opened up to agency staff in the expectations: the matrix must notice.
    wrong = Route("auditing.log", {**{r: 403 for r in ROLES}, "anonymous": LOGIN, "agency_staff_a": OK})
    mismatches, _ = run_matrix(app, world, [wrong])
    assert any("agency_staff_a" in m and "auditing.log" in m for m in mismatches)
    assert any("auditor" in m for m in mismatches)


# -- portal.security.access ------------------------------------------------------------
class FakeActor:
    def __init__(self, role: str, agency_id: Any = None) -> None:
        self.role = role
        self.agency_id = agency_id
        self.audit_id = None
        self.audit_label = role


READ_SUFFIXES = (".view", ".list", ".verify")


def test_auditor_is_granted_no_action_that_changes_state():
    auditor = FakeActor(access.AUDITOR)
    granted = [a for a in sorted(access.RULES) if not a.endswith(READ_SUFFIXES) and access.may(auditor, a)]
    assert granted == [], f"auditor may change state through {granted}"


def test_auditor_reads_everything_a_bank_role_reads():
    auditor = FakeActor(access.AUDITOR)
    reads = [a for a in sorted(access.RULES)
             if a.endswith((".view", ".list")) and access.RULES[a] & set(access.BANK_ROLES)]
    assert [a for a in reads if not access.may(auditor, a)] == []


def test_admin_may_not_list_or_view_cases():
    admin = FakeActor(access.ADMIN)
    assert not access.may(admin, "case.list")
    assert not access.may(admin, "case.view")


def test_nobody_and_unknown_actions_are_refused():
    assert not access.may(None, "case.view")
    with pytest.raises(KeyError):
        access.may(FakeActor(access.ADMIN), "case.teleport")


def test_agency_user_may_not_act_on_another_agencys_object():
    class Target:
        agency_id = "agency-b"

    staff_a = FakeActor(access.AGENCY_STAFF, "agency-a")
    assert not access.may(staff_a, "case.view", Target())
    Target.agency_id = "agency-a"
    assert access.may(staff_a, "case.view", Target())


def test_require_raises_not_allowed():
    from portal.errors import NotAllowed

    with pytest.raises(NotAllowed):
        access.require(FakeActor(access.AUDITOR), "policy.manage")
