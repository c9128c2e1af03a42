"""Uploads: each kind of bad file is refused with a clear message and nothing stored."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.agencies import operations as ops
from portal.agencies.documents import decrypt_content
from portal.agencies.models import AgencyDocument
from portal.errors import DomainError, NotFound
from portal.policies.operations import set_value
from tests.agencies import builders as b
from tests.factories import make_user, system


def _count(db) -> int:
    return db.scalar(select(func.count()).select_from(AgencyDocument)) or 0


@pytest.fixture
def setting(db):
    cast = b.Cast(db)
    agency = b.drafted(db, cast)
    return cast, agency


def test_a_pdf_is_stored_encrypted_with_its_hash_and_reads_back(db, setting) -> None:
    cast, agency = setting
    content = b.pdf("licence scan")
    doc = ops.upload_document(db, cast.vm, agency.id, filename="营业执照.pdf", content=content, kind="licence")
    assert doc.content_type == "application/pdf" and doc.size_bytes == len(content)
    assert content not in doc.content_ct
    assert decrypt_content(doc.content_ct, doc.id) == content
    assert ops.read_document(db, cast.approver, doc.id).content == content


@pytest.mark.parametrize("filename,content,code,fragment", [
    ("licence.pdf", b"<html><script>alert(1)</script></html>", "document.type", "not a PDF, PNG or JPEG"),
    ("photo.png", b"MZ\x90\x00 windows executable", "document.type", "judged by its content"),
    ("scan.pdf", b"\x89PNG\r\n\x1a\n" + b"0" * 20, "document.extension", "rename it to end in .png"),
    ("empty.pdf", b"", "document.empty", "is empty"),
    ("../../etc/passwd.pdf", b"%PDF-1.4 x", "document.name_unsafe", "contains a path"),
    ("..\\..\\boot.pdf", b"%PDF-1.4 x", "document.name_unsafe", "contains a path"),
    ("/abs/path.pdf", b"%PDF-1.4 x", "document.name_unsafe", "contains a path"),
    (".hidden.pdf", b"%PDF-1.4 x", "document.name_unsafe", "contains a path"),
    ("nul\x00byte.pdf", b"%PDF-1.4 x", "document.name_unsafe", "control characters"),
])
def test_bad_uploads_are_refused_with_a_clear_message_and_nothing_stored(db, setting, filename, content, code,
                                                                        fragment) -> None:
    cast, agency = setting
    before = _count(db)
    with pytest.raises(DomainError) as refused:
        ops.upload_document(db, cast.vm, agency.id, filename=filename, content=content, kind="licence")
    assert refused.value.code == code
    assert fragment in str(refused.value)
    assert _count(db) == before


def test_oversize_is_refused_against_the_policy_limit(db, setting) -> None:
    cast, agency = setting
    set_value(db, make_user(db, "admin"), "documents.max_bytes", 1024, "test a small limit")
    before = _count(db)
    with pytest.raises(DomainError, match="largest accepted") as refused:
        ops.upload_document(db, cast.vm, agency.id, filename="big.pdf", content=b"%PDF-" + b"0" * 2000, kind="other")
    assert refused.value.code == "document.too_large"
    assert _count(db) == before


def test_a_duplicate_is_refused_naming_the_stored_copy(db, setting) -> None:
    cast, agency = setting
    content = b.pdf("same")
    ops.upload_document(db, cast.vm, agency.id, filename="a.pdf", content=content, kind="licence", title="Licence")
    before = _count(db)
    with pytest.raises(DomainError, match="already stored as “Licence”") as refused:
        ops.upload_document(db, cast.vm, agency.id, filename="b.pdf", content=content, kind="licence")
    assert refused.value.code == "document.duplicate"
    assert _count(db) == before


def test_a_replacement_keeps_the_history(db, setting) -> None:
    cast, agency = setting
    first = ops.upload_document(db, cast.vm, agency.id, filename="l.pdf", content=b.pdf(), kind="licence")
    second = ops.upload_document(db, cast.vm, agency.id, filename="l2.pdf", content=b.pdf(), kind="licence",
                                 replaces=first.id)
    assert second.version == 2 and second.supersedes_id == first.id
    assert not first.is_current and second.is_current
    with pytest.raises(DomainError, match="already replaced"):
        ops.upload_document(db, cast.vm, agency.id, filename="l3.pdf", content=b.pdf(), kind="licence",
                            replaces=first.id)


def test_a_tampered_row_fails_authentication(db, setting) -> None:
    from portal.security.crypto import DecryptionError

    cast, agency = setting
    doc = ops.upload_document(db, cast.vm, agency.id, filename="c.png", content=b.png(), kind="other")
    blob = bytearray(doc.content_ct)
    blob[-1] ^= 1
    doc.content_ct = bytes(blob)
    with pytest.raises(DecryptionError):
        ops.read_document(db, cast.vm, doc.id)


def test_another_agency_cannot_see_or_upload(db, setting) -> None:
    cast, agency = setting
    doc = ops.upload_document(db, cast.vm, agency.id, filename="c.pdf", content=b.pdf(), kind="other")
    other = ops.register_agency(db, cast.vm, name="Other")
    outsider = make_user(db, "agency_admin", other)
    with pytest.raises(NotFound):
        ops.read_document(db, outsider, doc.id)
    with pytest.raises(NotFound):
        ops.upload_document(db, outsider, agency.id, filename="x.pdf", content=b.pdf(), kind="other")
    assert system() is not None


# -- the two sides of the file: the applicant's evidence and the bank's own ------------------
@pytest.fixture
def applicant(db, setting):
    cast, agency = setting
    return cast, agency, make_user(db, "agency_admin", agency)


@pytest.mark.parametrize("kind,item,code", [
    ("contract", None, "document.kind_bank"),
    ("due_diligence", None, "document.kind_bank"),
    ("inspection_photo", None, "document.kind_bank"),
    ("other", "onsite_inspection", "document.item_bank"),
    ("other", "due_diligence_report", "document.item_bank"),
])
def test_an_agency_uploads_only_applicant_evidence(db, applicant, kind, item, code) -> None:
    cast, agency, admin = applicant
    before = _count(db)
    with pytest.raises(DomainError) as refused:
        ops.upload_document(db, admin, agency.id, filename="x.pdf", content=b.pdf(), kind=kind, item_code=item)
    assert refused.value.code == code
    assert _count(db) == before
    ops.upload_document(db, admin, agency.id, filename="l.pdf", content=b.pdf(), kind="licence",
                        item_code="licence_document")


def test_neither_side_replaces_the_others_document(db, applicant) -> None:
    cast, agency, admin = applicant
    banks = ops.upload_document(db, cast.vm, agency.id, filename="dd.pdf", content=b.pdf(), kind="other")
    theirs = ops.upload_document(db, admin, agency.id, filename="l.pdf", content=b.pdf(), kind="licence")
    with pytest.raises(DomainError) as refused:
        ops.upload_document(db, admin, agency.id, filename="x.pdf", content=b.pdf(), kind="other", replaces=banks.id)
    assert refused.value.code == "document.other_side" and "uploaded by the bank" in str(refused.value)
    with pytest.raises(DomainError) as refused:
        ops.upload_document(db, cast.vm, agency.id, filename="y.pdf", content=b.pdf(), kind="licence",
                            replaces=theirs.id)
    assert refused.value.code == "document.other_side"
    assert banks.is_current and theirs.is_current
    mine = ops.upload_document(db, admin, agency.id, filename="l2.pdf", content=b.pdf(), kind="licence",
                               replaces=theirs.id)
    assert mine.version == 2


def test_an_agency_uploads_while_drafting_or_for_an_item_the_reviewer_asked_about(db) -> None:
    cast = b.Cast(db)
    agency = b.submitted(db, cast)
    admin = make_user(db, "agency_admin", agency)
    with pytest.raises(DomainError) as refused:
        ops.upload_document(db, admin, agency.id, filename="l.pdf", content=b.pdf(), kind="licence")
    assert refused.value.code == "document.not_open"
    ops.start_review(db, cast.vm, agency.id)
    ops.set_verdict(db, cast.vm, agency.id, "call_recording", "needs_info", "Show 12 months of backups")
    with pytest.raises(DomainError, match="asked more information"):
        ops.upload_document(db, admin, agency.id, filename="a.pdf", content=b.pdf(), kind="other",
                            item_code="legal_entity")
    ops.upload_document(db, admin, agency.id, filename="backup.pdf", content=b.pdf(), kind="other",
                        item_code="call_recording")


def test_no_upload_while_a_proposal_waits_or_after_approval_from_the_agency(db) -> None:
    cast = b.Cast(db)
    agency = b.proposed(db, cast)
    admin = make_user(db, "agency_admin", agency)
    for who, kind in ((cast.vm, "other"), (admin, "other")):
        with pytest.raises(DomainError) as refused:
            ops.upload_document(db, who, agency.id, filename="late.pdf", content=b.pdf(), kind=kind)
        assert refused.value.code == "document.proposed"
    ops.decide(db, cast.approver, agency.id, "approved", "ok")
    with pytest.raises(DomainError) as refused:
        ops.upload_document(db, admin, agency.id, filename="late.pdf", content=b.pdf(), kind="other")
    assert refused.value.code == "document.not_open"
    ops.upload_document(db, cast.vm, agency.id, filename="contract.pdf", content=b.pdf(), kind="contract")


def test_the_banks_internal_papers_are_hidden_from_the_agency(db, applicant) -> None:
    from portal.agencies.operations.documents import documents_of

    cast, agency, admin = applicant
    report = ops.upload_document(db, cast.vm, agency.id, filename="dd.pdf", content=b.pdf(), kind="due_diligence")
    photo = ops.upload_document(db, cast.vm, agency.id, filename="p.png", content=b.png(), kind="inspection_photo")
    contract = ops.upload_document(db, cast.vm, agency.id, filename="c.pdf", content=b.pdf(), kind="contract")
    for hidden in (report, photo):
        with pytest.raises(NotFound):
            ops.read_document(db, admin, hidden.id)
        with pytest.raises(NotFound):  # not even as the target of a replacement
            ops.upload_document(db, admin, agency.id, filename="r.pdf", content=b.pdf(), kind="other",
                                replaces=hidden.id)
    assert ops.read_document(db, admin, contract.id).content.startswith(b"%PDF")
    assert {d.id for d in documents_of(db, admin, agency.id)} == {contract.id}
    assert {d.id for d in documents_of(db, cast.vm, agency.id)} == {report.id, photo.id, contract.id}


def test_replacing_something_that_is_not_a_document_id_is_not_found(db, setting) -> None:
    cast, agency = setting
    with pytest.raises(NotFound):
        ops.upload_document(db, cast.vm, agency.id, filename="x.pdf", content=b.pdf(), kind="other",
                            replaces="not-a-uuid")
