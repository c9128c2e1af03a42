from tests.conftest import login
from tests.factories import make_agency, make_cases, make_user, place


def test_agency_staff_sees_only_own_active_placements(db, client):
    a, b = make_agency(db), make_agency(db)
    case_a, = make_cases(db)
    place(db, [case_a], a)
    staff_b = make_user(db, "agency_staff", b)
    login(client, staff_b)
    import pytest

    from portal.errors import NotFound
    from portal.security.scoping import cases_for, get_case

    assert db.scalars(cases_for(staff_b)).all() == []
    with pytest.raises(NotFound):
        get_case(db, staff_b, case_a.id)
    staff_a = make_user(db, "agency_staff", a)
    assert get_case(db, staff_a, case_a.id).debtor_name.startswith("张三")


def test_admin_login_goes_through_totp(db, client):
    admin = make_user(db, "admin")
    response = login(client, admin)
    assert response.headers["Location"].endswith("/home")
    assert client.get("/home").status_code == 200
