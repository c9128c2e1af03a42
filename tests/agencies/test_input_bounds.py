"""Input a client controls never makes a 500: odd numbers, infinities, huge values, ids
that are not ids and texts without end are refused with a message that says what to fix."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from portal.agencies.models import Contract, Inspection
from tests.agencies import builders as b
from tests.conftest import login, post_form


@pytest.mark.parametrize("days", ["²", "٣", "-5", "0", "99999999999999999999", "1e3", "", "90.5"])
def test_the_expiry_dashboard_takes_any_days_parameter(client, db, days) -> None:
    cast = b.Cast(db)
    login(client, cast.vm)
    response = client.get("/agencies/expiry", query_string={"days": days})
    assert response.status_code == 200


def test_replacing_a_document_that_is_not_an_id_is_a_404_not_a_500(client, db) -> None:
    cast = b.Cast(db)
    agency = b.drafted(db, cast)
    login(client, cast.vm)
    url = f"/agencies/{agency.id}/documents"
    response = post_form(client, url, {"file": (io.BytesIO(b.pdf()), "l.pdf"), "kind": "licence",
                                       "replaces": "not-a-uuid"}, page=url, content_type="multipart/form-data")
    assert response.status_code == 404
    assert "No such document" in response.get_data(as_text=True)


def _contract_form(**overrides: str) -> dict:
    data = {"reference": "OC-1", "starts_on": "2026-11-01", "ends_on": "2027-10-31", "regions": "Shanghai",
            "max_active_cases": "800", "max_active_amount_yuan": "50000000", "recording_retention_months": "12",
            "conduct_preset": "cn-cba-2026", "bucket_M1": "1", "rate_M1": "8",
            "signed_document": (io.BytesIO(b.pdf()), "signed.pdf")}
    data.update(overrides)
    return data


@pytest.mark.parametrize("field,value,message", [
    ("rate_M1", "inf", "The commission for M1 must be a percentage from 0 to 100"),
    ("rate_M1", "nan", "The commission for M1 must be a percentage from 0 to 100"),
    ("rate_M1", "1e400", "The commission for M1 must be a percentage from 0 to 100"),
    ("rate_M1", "-3", "The commission for M1 must be a percentage from 0 to 100"),
    ("rate_M1", "8.125", "at most two decimals"),
    ("max_active_amount_yuan", str(10**30), "Capacity: active amount (yuan)"),
    ("max_active_cases", str(10**20), "Capacity: active cases"),
    ("recording_retention_months", str(10**19), "Recording retention (months)"),
    ("max_instalment_months", str(10**19), "Longest instalment plan (months)"),
])
def test_contract_numbers_out_of_range_are_refused_by_name(client, db, field, value, message) -> None:
    cast = b.Cast(db)
    agency = b.approved(db, cast)
    login(client, cast.vm)
    url = f"/agencies/{agency.id}/contract"
    response = post_form(client, url, _contract_form(**{field: value}), page=url, content_type="multipart/form-data")
    assert response.status_code == 422, response.status_code
    assert message in response.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(Contract).where(Contract.agency_id == agency.id)) == 0


def test_the_contract_operation_bounds_numbers_whatever_the_door(db) -> None:
    from portal.agencies import operations as ops
    from portal.errors import RuleBroken

    cast = b.Cast(db)
    agency = b.approved(db, cast)
    with pytest.raises(RuleBroken, match="capacity of at most"):
        ops.record_contract(db, cast.vm, agency.id, b.terms(db, cast, agency, max_active_amount_cents=10**30))


@pytest.mark.parametrize("field,value,message", [
    ("finding_physical_security", "x" * 2001, "A finding is at most 2000 characters"),
    ("inspectors", "y" * 501, "Give the inspection date and the inspectors"),
    ("inspectors", ",".join(["z" * 101]), "each in at most 100 characters"),
    ("summary", "s" * 4001, "Give the inspection date and the inspectors"),
])
def test_inspection_texts_have_limits(client, db, field, value, message) -> None:
    cast = b.Cast(db)
    agency = b.submitted(db, cast)
    login(client, cast.vm)
    page = f"/agencies/{agency.id}/review"
    data = {"inspected_on": "2026-01-05", "inspectors": "Wang, Li", "summary": "ok", field: value}
    response = post_form(client, f"/agencies/{agency.id}/inspection", data, page=page,
                         content_type="multipart/form-data")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.scalars(select(Inspection).where(Inspection.agency_id == agency.id)).first() is None
