"""The pages through the test client: each step of the journey, refusals shown and audited."""

from __future__ import annotations

import io

from sqlalchemy import select

from audit.models import AuditEntry
from portal.agencies import operations as ops
from portal.agencies.models import ACTIVE, AgencyDocument
from tests.agencies import builders as b
from tests.conftest import login, post_form
from tests.factories import make_user


def test_vendor_manager_registers_and_lists(client, db) -> None:
    vm = make_user(db, "vendor_manager")
    login(client, vm)
    page = "/agencies/"
    response = post_form(client, "/agencies/register", {"name": "新华催收服务有限公司", "region": "Beijing"}, page=page)
    assert response.status_code == 302 and "/application" in response.headers["Location"]
    listing = client.get("/agencies/").get_data(as_text=True)
    assert "新华催收服务有限公司" in listing


def test_agency_admin_fills_the_application_and_submits(client, db) -> None:
    cast = b.Cast(db)
    agency = ops.register_agency(db, cast.vm, name="自助公司")
    admin = make_user(db, "agency_admin", agency)
    login(client, admin)
    url = f"/agencies/{agency.id}/application"
    fields = b.application_fields()
    data = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in fields.items()}
    data |= {"name": "自助公司", "clients-0-name": "工商银行", "clients-0-since": "2021-01-01",
             "clients-1-name": "建设银行", "clients-1-since": "2022-01-01", "contacts-0-name": "李总",
             "then": "submit"}
    response = post_form(client, url, data, page=url)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.refresh(agency)
    assert agency.status == "submitted"
    assert client.get("/agencies/").headers["Location"].endswith(f"/agencies/{agency.id}")


def test_a_refused_transition_is_shown_and_its_audit_entry_survives(client, db) -> None:
    cast = b.Cast(db)
    agency = b.submitted(db, cast)
    login(client, cast.vm)
    response = post_form(client, f"/agencies/{agency.id}/activate", page=f"/agencies/{agency.id}")
    assert response.status_code == 302
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "cannot become Active" in shown
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "agency.transition_refused")).first()
    assert entry is not None and entry.object_id == str(agency.id)


def test_review_page_shows_checklist_automatic_checks_and_evidence(client, db) -> None:
    cast = b.Cast(db)
    agency = b.submitted(db, cast)
    ops.upload_document(db, cast.vm, agency.id, filename="licence.pdf", content=b.pdf(), kind="licence",
                        item_code="licence_document", title="营业执照扫描件")
    ops.start_review(db, cast.vm, agency.id)
    login(client, cast.vm)
    html = client.get(f"/agencies/{agency.id}/review").get_data(as_text=True)
    assert "Call recording system" in html and "营业执照扫描件" in html and "met" in html
    response = post_form(client, f"/agencies/{agency.id}/verdict", {"item_code": "legal_entity", "verdict": "pass"},
                         page=f"/agencies/{agency.id}/review")
    assert response.status_code == 302
    assert 'data-testid="verdict-legal_entity">\n            <span class="tag ok">' in client.get(
        f"/agencies/{agency.id}/review").get_data(as_text=True)


def test_upload_through_the_page_refuses_a_disguised_file(client, db) -> None:
    cast = b.Cast(db)
    agency = b.drafted(db, cast)
    login(client, cast.vm)
    url = f"/agencies/{agency.id}/documents"
    response = post_form(client, url, {"file": (io.BytesIO(b"<html>evil</html>"), "licence.pdf"), "kind": "licence"},
                         page=url, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "not a PDF, PNG or JPEG" in response.get_data(as_text=True)
    assert db.scalars(select(AgencyDocument).where(AgencyDocument.agency_id == agency.id)).first() is None
    ok = post_form(client, url, {"file": (io.BytesIO(b.pdf()), "licence.pdf"), "kind": "licence"}, page=url,
                   content_type="multipart/form-data")
    assert ok.status_code == 302
    doc = db.scalars(select(AgencyDocument).where(AgencyDocument.agency_id == agency.id)).one()
    download = client.get(f"/agencies/documents/{doc.id}")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    assert db.scalars(select(AuditEntry).where(AuditEntry.action == "agency.document_downloaded")).first()


def test_approver_decides_and_vendor_manager_records_contract_then_activates(client, db) -> None:
    cast = b.Cast(db)
    agency = b.proposed(db, cast)
    login(client, cast.approver)
    review = f"/agencies/{agency.id}/review"
    post_form(client, f"/agencies/{agency.id}/decide", {"decision": "approved", "reason": "Committee 11/26"},
              page=review)
    db.refresh(agency)
    assert agency.status == "approved"
    client.post("/logout", data={"csrf_token": ""})
    client.delete_cookie("session")
    other = client.application.test_client()
    login(other, cast.vm)
    url = f"/agencies/{agency.id}/contract"
    data = {"reference": "OC-2026-77", "starts_on": "2026-11-01", "ends_on": "2027-10-31", "regions": "Shanghai",
            "max_active_cases": "800", "max_active_amount_yuan": "50000000", "recording_retention_months": "12",
            "conduct_preset": "cn-cba-2026", "bucket_M1": "1", "rate_M1": "8", "bucket_M2": "1", "rate_M2": "12.5",
            "signed_document": (io.BytesIO(b.pdf()), "signed.pdf")}
    response = post_form(other, url, data, page=url, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    post_form(other, f"/agencies/{agency.id}/activate", page=f"/agencies/{agency.id}")
    db.refresh(agency)
    assert agency.status == ACTIVE
    assert agency.contracts[-1].commission_bp == {"M1": 800, "M2": 1250}


def test_expiry_dashboard_and_keys(client, db) -> None:
    import base64

    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    cast = b.Cast(db)
    agency = b.active(db, cast)
    login(client, cast.vm)
    html = client.get("/agencies/expiry?days=365").get_data(as_text=True)
    assert agency.name in html
    admin = make_user(db, "agency_admin", agency)
    c2 = client.application.test_client()
    login(c2, admin)
    raw = X25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    url = f"/agencies/{agency.id}/keys"
    bad = post_form(c2, url, {"public_key": base64.b64encode(b"short").decode()}, page=url)
    assert bad.status_code == 422 and "32 bytes" in bad.get_data(as_text=True)
    good = post_form(c2, url, {"public_key": base64.b64encode(raw).decode()}, page=url)
    assert good.status_code == 302
    db.refresh(agency)
    assert agency.public_key == base64.b64encode(raw).decode()
