"""The access matrix's world: two agencies, a placed and an unplaced case, a user per role.

``build_world`` is importable (``tests.access.conftest``) so the isolation tests in
``tests/security`` stand on the same world as the matrix.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.access.world import World
from tests.factories import make_agency, make_cases, make_user, place


def build_world(db: Any) -> World:
    agency_a = make_agency(db, "Agency A")
    agency_b = make_agency(db, "Agency B")
    case_a, case_unplaced = make_cases(db, 2)
    place(db, [case_a], agency_a)
    users = {
        "vendor_manager": make_user(db, "vendor_manager"),
        "approver": make_user(db, "approver"),      # TOTP enrolled by the factory
        "admin": make_user(db, "admin"),            # TOTP enrolled by the factory
        "auditor": make_user(db, "auditor"),
        "agency_admin_a": make_user(db, "agency_admin", agency_a),
        "agency_staff_a": make_user(db, "agency_staff", agency_a),
        "agency_staff_b": make_user(db, "agency_staff", agency_b),
    }
    db.flush()
    return World(db=db, agency_a=agency_a, agency_b=agency_b, case_a=case_a,
                 case_unplaced=case_unplaced, users=users)


@pytest.fixture
def world(db: Any) -> World:
    return build_world(db)
