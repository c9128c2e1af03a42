"""The access matrix's world and its route format.

Every rule in ``app.url_map`` must have exactly one ``Route`` in some
``tests/access/routes_<capability>.py`` module (a module-level list named ``ROUTES``).
A new page without an entry fails ``test_access_matrix.py``.

Roles of the matrix: ``anonymous``, each bank role, and agency A's admin and staff and
agency B's staff (B is the one that must never see A's case).

Expectations, per role:
* ``OK``      — served: a status below 400 that is not a redirect to the login page
                (for a POST with an empty form, 400/409/422 also count: the request got
                past authorisation to validation);
* ``LOGIN``   — a redirect to the login page (anonymous);
* ``DENIED``  — 403;
* ``HIDDEN``  — 404 (the object is another agency's, so it "does not exist").

``params`` builds the URL's arguments from the world (and may create the objects it needs
through ``w.db``); ``method`` is GET or POST (POSTs carry a valid CSRF token and ``data``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

OK, LOGIN, DENIED, HIDDEN = "ok", "login", 403, 404

ROLES = ("anonymous", "vendor_manager", "approver", "admin", "auditor",
         "agency_admin_a", "agency_staff_a", "agency_staff_b")
BANK = ("vendor_manager", "approver", "admin", "auditor")
AGENCY = ("agency_admin_a", "agency_staff_a", "agency_staff_b")


@dataclass
class World:
    db: Any
    agency_a: Any
    agency_b: Any
    case_a: Any          # placed with agency A (active placement)
    case_unplaced: Any   # placed with nobody
    users: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Route:
    endpoint: str
    expect: dict[str, Any]
    params: Callable[[World], dict[str, Any]] = lambda w: {}
    method: str = "GET"
    data: Callable[[World], dict[str, Any]] = lambda w: {}

    def __post_init__(self) -> None:
        missing = set(ROLES) - set(self.expect)
        if missing:
            raise ValueError(f"{self.endpoint}: no expectation for {sorted(missing)}")


def expect(default: Any = DENIED, *, anonymous: Any = LOGIN, **roles: Any) -> dict[str, Any]:
    """Shorthand: ``expect(OK, agency_staff_b=HIDDEN)``: every role ``default`` unless named."""
    result = {role: default for role in ROLES}
    result["anonymous"] = anonymous
    result.update(roles)
    return result


def only(*allowed: str, denied: Any = DENIED, **overrides: Any) -> dict[str, Any]:
    """Shorthand: ``only("vendor_manager", "auditor")``: those OK, the rest ``denied``."""
    result = expect(denied)
    for role in allowed:
        result[role] = OK
    result.update(overrides)
    return result
