"""Evidence documents: upload (checked, encrypted, versioned) and audited download."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.log import record
from portal import clock
from portal.agencies import lifecycle
from portal.agencies.documents import (
    APPLICANT_KINDS,
    BANK_INTERNAL_KINDS,
    BANK_ITEMS,
    KINDS,
    check_content,
    decrypt_content,
    encrypt_content,
    safe_filename,
    sha256_hex,
)
from portal.agencies.models import (
    DRAFT,
    NEEDS_INFO,
    TERMINATED,
    UNDER_REVIEW,
    Agency,
    AgencyDocument,
    ChecklistItem,
    Inspection,
)
from portal.agencies.operations.application import get_agency
from portal.agencies.verdicts import current_verdicts, mark_stale
from portal.errors import Conflict, InvalidInput, NotFound
from portal.identity.models import User
from portal.policies.operations import value as policy
from portal.security.access import is_agency, require


def upload_document(session: Session, actor: Any, agency_id: uuid.UUID | str, *, filename: str,
                    content: bytes, kind: str, title: str | None = None, item_code: str | None = None,
                    expires_on: date | None = None, replaces: uuid.UUID | str | None = None,
                    inspection_id: uuid.UUID | None = None) -> AgencyDocument:
    """Store one evidence document. Every check runs before anything is added, so a refused
    upload leaves nothing behind (and the door rolls back anyway)."""
    agency = get_agency(session, actor, agency_id, "agency.document.upload")
    if agency.status == TERMINATED:
        raise Conflict("document.terminated", _l("The agency is terminated; its file is closed."))
    if lifecycle.open_proposal(session, agency) is not None:
        raise Conflict("document.proposed", _l("A proposal is waiting for an approver: the evidence is frozen "
                                               "until it is decided or the application is returned."))
    applicant = is_agency(actor)
    name = safe_filename(filename)
    content_type = check_content(name, content, int(policy(session, "documents.max_bytes")))
    if kind not in KINDS:
        raise InvalidInput("document.kind", _l("Choose what kind of document this is."))
    if item_code:
        item = session.get(ChecklistItem, item_code)
        if item is None or not item.active:
            raise InvalidInput("document.item", _l("No such checklist item."))
    if applicant:
        _check_applicant_upload(session, agency, kind, item_code)
    if inspection_id is not None:
        inspection = session.get(Inspection, inspection_id)
        if inspection is None or inspection.agency_id != agency.id:
            raise NotFound("inspection.not_found", _l("No such inspection."))
    digest = sha256_hex(content)
    duplicate = session.scalars(select(AgencyDocument).where(
        AgencyDocument.agency_id == agency.id, AgencyDocument.sha256 == digest)).first()
    if duplicate is not None:
        if applicant and not visible_to_agency(duplicate):
            raise Conflict("document.duplicate", _l("This file is already stored."))
        raise Conflict("document.duplicate",
                       _l("This file is already stored as “%(title)s” (version %(v)d, uploaded %(d)s).",
                          title=duplicate.title, v=duplicate.version, d=duplicate.uploaded_at.date().isoformat()),
                       document=str(duplicate.id))
    previous: AgencyDocument | None = None
    if replaces:
        try:
            previous = session.get(AgencyDocument, replaces if isinstance(replaces, uuid.UUID)
                                   else uuid.UUID(str(replaces)))
        except ValueError:
            previous = None
        if previous is None or previous.agency_id != agency.id or (applicant and not visible_to_agency(previous)):
            raise NotFound("document.not_found", _l("No such document."))
        if not previous.is_current:
            raise Conflict("document.superseded", _l("That version is already replaced; replace the current one."))
        if _uploaded_by_agency(session, previous) != applicant:
            raise Conflict("document.other_side",
                           _l("“%(title)s” was uploaded by the bank; the agency cannot replace it.", title=previous.title)
                           if applicant else
                           _l("“%(title)s” was uploaded by the agency; the bank cannot replace it. Upload the "
                              "bank's document beside it.", title=previous.title))
    doc_id = uuid.uuid4()
    doc = AgencyDocument(
        id=doc_id, agency_id=agency.id, kind=kind, item_code=item_code or (previous.item_code if previous else None),
        inspection_id=inspection_id, title=(title or "").strip() or (previous.title if previous else name),
        filename=name, content_type=content_type, size_bytes=len(content), sha256=digest,
        content_ct=encrypt_content(content, doc_id), version=(previous.version + 1) if previous else 1,
        supersedes_id=previous.id if previous else None, is_current=True, expires_on=expires_on,
        uploaded_by=getattr(actor, "id", None), uploaded_at=clock.now(),
    )
    if previous is not None:
        previous.is_current = False
    session.add(doc)
    session.flush()
    record(session, actor, "agency.document_uploaded", "agency_document", doc.id,
           after={"agency": str(agency.id), "kind": kind, "item": doc.item_code, "filename": name,
                  "sha256": digest, "bytes": len(content), "version": doc.version,
                  "supersedes": str(previous.id) if previous else None})
    if applicant and doc.item_code:
        # New evidence from the applicant after a verdict on that item: judge it again.
        mark_stale(session, actor, agency.id, {doc.item_code: [f"document {doc.title}"]},
                   "new evidence after review")
    return doc


def _check_applicant_upload(session: Session, agency: Agency, kind: str, item_code: str | None) -> None:
    """An agency uploads its application's evidence: applicant kinds, for applicant items,
    while the application is a draft or, under review, for an item the reviewer asked
    more information on."""
    if kind not in APPLICANT_KINDS:
        raise InvalidInput("document.kind_bank",
                           _l("“%(kind)s” is the bank's own evidence; the agency uploads its licence, "
                              "certificates, agreements, screenshots or other evidence.", kind=KINDS[kind]))
    if item_code in BANK_ITEMS:
        raise InvalidInput("document.item_bank", _l("That checklist item is evidenced by the bank's own work."))
    if agency.status == DRAFT:
        return
    if agency.status == UNDER_REVIEW and item_code:
        verdict = current_verdicts(session, agency.id).get(item_code)
        if verdict is not None and verdict.verdict == NEEDS_INFO:
            return
    raise Conflict("document.not_open",
                   _l("The application is %(state)s: the agency adds evidence while it is a draft, or under "
                      "review for an item the reviewer asked more information on.",
                      state=lifecycle.STATE_LABELS.get(agency.status, agency.status)))


def _uploaded_by_agency(session: Session, doc: AgencyDocument) -> bool:
    if doc.uploaded_by is None:
        return False  # the system or a back-fill: the bank's side
    return session.scalar(select(User.agency_id).where(User.id == doc.uploaded_by)) is not None


def visible_to_agency(doc: AgencyDocument) -> bool:
    return doc.kind not in BANK_INTERNAL_KINDS


@dataclass(frozen=True)
class Download:
    document: AgencyDocument
    content: bytes


def read_document(session: Session, actor: Any, document_id: uuid.UUID | str) -> Download:
    """Decrypt a document for ``actor`` and audit that they did; the stored hash is checked
    so a document altered in the database is never served as evidence."""
    try:
        doc = session.get(AgencyDocument, uuid.UUID(str(document_id)))
    except ValueError:
        doc = None
    if doc is None or (is_agency(actor) and (actor.agency_id != doc.agency_id or not visible_to_agency(doc))):
        raise NotFound("document.not_found", _l("No such document."))
    require(actor, "agency.document.view", doc)
    content = decrypt_content(doc.content_ct, doc.id)
    if sha256_hex(content) != doc.sha256:
        raise Conflict("document.integrity", _l("The stored document does not match its SHA-256; "
                                                "report this to the administrator."))
    record(session, actor, "agency.document_downloaded", "agency_document", doc.id,
           after={"agency": str(doc.agency_id), "sha256": doc.sha256, "version": doc.version})
    return Download(doc, content)


def documents_of(session: Session, actor: Any, agency_id: uuid.UUID | str) -> list[AgencyDocument]:
    agency = get_agency(session, actor, agency_id, "agency.document.view")
    stmt = select(AgencyDocument).where(AgencyDocument.agency_id == agency.id)
    if is_agency(actor):
        stmt = stmt.where(AgencyDocument.kind.not_in(BANK_INTERNAL_KINDS))
    return list(session.scalars(stmt.order_by(AgencyDocument.kind, AgencyDocument.title,
                                              AgencyDocument.version.desc())))
