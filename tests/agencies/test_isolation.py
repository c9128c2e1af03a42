"""Agency B's *admin* (who may see more of their own agency than staff) still finds
nothing of agency A: every page of A, and A's documents, are 404 ("no such agency")."""

from __future__ import annotations

import pytest

from tests.access.conftest import build_world
from tests.access.routes_agencies import _document
from tests.conftest import login, post_form
from tests.factories import make_user

PAGES = ["/agencies/{a}", "/agencies/{a}/application", "/agencies/{a}/documents", "/agencies/{a}/keys",
         "/agencies/{a}/contract", "/agencies/{a}/review", "/agencies/{a}/renewals", "/agencies/documents/{d}"]
POSTS = ["/agencies/{a}/application", "/agencies/{a}/submit", "/agencies/{a}/documents", "/agencies/{a}/keys",
         "/agencies/{a}/contract", "/agencies/{a}/renewals/licence"]


@pytest.fixture
def intruder(client, db):
    world = build_world(db)
    admin_b = make_user(db, "agency_admin", world.agency_b)
    login(client, admin_b)
    return world, {"a": world.agency_a.id, "d": _document(world)["document_id"]}


@pytest.mark.parametrize("page", PAGES)
def test_agency_b_admin_gets_404_for_every_page_of_agency_a(client, db, intruder, page) -> None:
    world, ids = intruder
    response = client.get(page.format(**ids))
    assert response.status_code == 404
    assert world.agency_a.name not in response.get_data(as_text=True)


@pytest.mark.parametrize("path", POSTS)
def test_agency_b_admin_gets_404_posting_to_agency_a(client, db, intruder, path) -> None:
    world, ids = intruder
    response = post_form(client, path.format(**ids), {"name": "hijack", "public_key": "x"},
                         page=f"/agencies/{world.agency_b.id}")
    assert response.status_code == 404
    db.refresh(world.agency_a)
    assert world.agency_a.name != "hijack"


def test_agency_b_admin_sees_their_own_agency(client, db, intruder) -> None:
    world, _ids = intruder
    assert client.get(f"/agencies/{world.agency_b.id}").status_code == 200
