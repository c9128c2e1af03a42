"""Evidence documents: what is accepted (PDF, PNG, JPEG, judged by content), names that
are safe to keep, and encryption of the content at rest under the portal keyring.

The content type is sniffed from magic bytes; the client's Content-Type and the file
name's extension are claims, and a claim that disagrees with the content is refused (an
HTML page renamed ``licence.pdf`` is exactly what this must stop)."""

from __future__ import annotations

import hashlib
import os
import unicodedata

from flask_babel import lazy_gettext as _l

from portal.errors import InvalidInput
from portal.security.crypto import aad_for, cipher

PDF, PNG, JPEG = "application/pdf", "image/png", "image/jpeg"
EXTENSIONS = {PDF: (".pdf",), PNG: (".png",), JPEG: (".jpg", ".jpeg")}

KINDS = {
    "licence": _l("Business licence"),
    "confidentiality": _l("Confidentiality agreement"),
    "certificate": _l("Certificate"),
    "system_screenshot": _l("System screenshot"),
    "inspection_photo": _l("Inspection photo"),
    "due_diligence": _l("Due-diligence report"),
    "contract": _l("Signed contract"),
    "other": _l("Other evidence"),
}
# What an applicant (an agency user) may upload; the rest is the bank's own evidence.
APPLICANT_KINDS = frozenset({"licence", "confidentiality", "certificate", "system_screenshot", "other"})
# The bank's internal working papers, never shown to the agency (the signed contract is
# the agency's too, so it is not here).
BANK_INTERNAL_KINDS = frozenset({"inspection_photo", "due_diligence"})
# Checklist items evidenced by the bank's own work, not by the applicant.
BANK_ITEMS = frozenset({"onsite_inspection", "due_diligence_report"})


def sniff(content: bytes) -> str | None:
    """The content type by magic bytes, or None if it is none of the accepted ones."""
    if content.startswith(b"%PDF-"):
        return PDF
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if content.startswith(b"\xff\xd8\xff"):
        return JPEG
    return None


def safe_filename(name: str) -> str:
    """The name as given if it is a plain file name; refuses anything path-like.

    Refused rather than "cleaned": a name with ``../`` or a drive letter is not an
    accident, and silently storing it under another name hides that from the reviewer."""
    raw = name or ""
    if not raw.strip():
        raise InvalidInput("document.name_missing", _l("The file has no name."))
    normalised = unicodedata.normalize("NFC", raw.strip())
    if ("/" in normalised or "\\" in normalised or ".." in normalised or ":" in normalised
            or normalised.startswith(".") or any(unicodedata.category(c).startswith("C") for c in normalised)):
        raise InvalidInput("document.name_unsafe",
                           _l("The file name “%(name)s” contains a path or control characters; "
                              "rename the file and upload it again.", name=raw[:80]))
    if len(normalised) > 200:
        raise InvalidInput("document.name_long", _l("The file name is longer than 200 characters."))
    return normalised


def check_content(filename: str, content: bytes, max_bytes: int) -> str:
    """Validate an upload; returns the sniffed content type or raises InvalidInput."""
    if not content:
        raise InvalidInput("document.empty", _l("The file “%(name)s” is empty.", name=filename))
    if len(content) > max_bytes:
        raise InvalidInput("document.too_large",
                           _l("The file is %(size)s MB; the largest accepted is %(max)s MB.",
                              size=f"{len(content) / 1048576:.1f}", max=f"{max_bytes / 1048576:.1f}"))
    kind = sniff(content)
    if kind is None:
        raise InvalidInput("document.type",
                           _l("“%(name)s” is not a PDF, PNG or JPEG file (judged by its content, "
                              "not its name).", name=filename))
    ext = os.path.splitext(filename)[1].lower()
    if ext not in EXTENSIONS[kind]:
        raise InvalidInput("document.extension",
                           _l("“%(name)s” holds a %(kind)s file but its name says otherwise; rename it "
                              "to end in %(ext)s.", name=filename, kind=kind.split("/")[1].upper(),
                              ext=EXTENSIONS[kind][0]))
    return kind


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


# -- encryption at rest: the field cipher's envelope over bytes, bound to the document ----
# (AgencyDocument.content is an EncryptedField, so `rotate-keys` re-encrypts documents too.)
def encrypt_content(content: bytes, document_id: object) -> bytes:
    return cipher().encrypt_bytes(content, aad_for("agency_documents", "content", document_id))


def decrypt_content(blob: bytes, document_id: object) -> bytes:
    return cipher().decrypt_bytes(blob, aad_for("agency_documents", "content", document_id))
