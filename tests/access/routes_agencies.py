"""Access matrix of the agency pages (portal.agencies.views)."""

from __future__ import annotations

import uuid
from typing import Any

from portal import clock
from tests.access.world import DENIED, HIDDEN, OK, Route, World, expect, only


def _a(w: World) -> dict[str, Any]:
    return {"agency_id": w.agency_a.id}


def _document(w: World) -> dict[str, Any]:
    """A stored evidence document of agency A (made once per world)."""
    if "agency_document" not in w.extra:
        from portal.agencies.documents import encrypt_content, sha256_hex
        from portal.agencies.models import AgencyDocument

        content = b"%PDF-1.4 access-matrix " + uuid.uuid4().hex.encode()
        doc_id = uuid.uuid4()
        w.db.add(AgencyDocument(
            id=doc_id, agency_id=w.agency_a.id, kind="licence", title="Licence", filename="licence.pdf",
            content_type="application/pdf", size_bytes=len(content), sha256=sha256_hex(content),
            content_ct=encrypt_content(content, doc_id), version=1, is_current=True, uploaded_at=clock.now()))
        w.db.flush()
        w.extra["agency_document"] = doc_id
    return {"document_id": w.extra["agency_document"]}


# Roles that may view agency A at all, the rest: agency B's staff must not learn it exists.
def _on_a(*allowed: str) -> dict[str, Any]:
    return only(*allowed, agency_staff_b=HIDDEN)


ROUTES = [
    Route("agencies.index", only("vendor_manager", "approver", "admin", "auditor", "agency_admin_a")),
    Route("agencies.mine", only("agency_admin_a")),
    Route("agencies.register", only("vendor_manager"), method="POST"),
    Route("agencies.show", _on_a("vendor_manager", "approver", "admin", "auditor", "agency_admin_a"), _a),
    Route("agencies.application", _on_a("vendor_manager", "agency_admin_a"), _a),
    Route("agencies.submit", _on_a("vendor_manager", "agency_admin_a"), _a, method="POST"),
    Route("agencies.review", _on_a("vendor_manager", "approver", "admin", "auditor"), _a),
    Route("agencies.start_review", _on_a("vendor_manager"), _a, method="POST"),
    Route("agencies.verdict", _on_a("vendor_manager"), _a, method="POST"),
    Route("agencies.inspection", _on_a("vendor_manager"), _a, method="POST"),
    Route("agencies.propose", _on_a("vendor_manager"), _a, method="POST"),
    Route("agencies.decide", _on_a("approver"), _a, method="POST"),
    Route("agencies.return_application", _on_a("vendor_manager"), _a, method="POST"),
    Route("agencies.documents", _on_a("vendor_manager", "approver", "auditor", "agency_admin_a"), _a),
    Route("agencies.documents", _on_a("vendor_manager", "agency_admin_a"), _a, method="POST"),
    Route("agencies.download", _on_a("vendor_manager", "approver", "auditor", "agency_admin_a"), _document),
    Route("agencies.contract", _on_a("vendor_manager"), _a),
    Route("agencies.contract", _on_a("vendor_manager"), _a, method="POST"),
    Route("agencies.activate", _on_a("vendor_manager"), _a, method="POST"),
    Route("agencies.change_state", _on_a("vendor_manager", "approver"), _a, method="POST"),
    Route("agencies.renewals", _on_a("vendor_manager", "approver", "admin", "auditor"), _a),
    Route("agencies.renew_licence", _on_a("vendor_manager"), _a, method="POST"),
    Route("agencies.due_diligence", _on_a("vendor_manager"), _a, method="POST"),
    Route("agencies.expiry", only("vendor_manager", "approver", "auditor")),
    Route("agencies.keys", _on_a("vendor_manager", "approver", "admin", "auditor", "agency_admin_a"), _a),
    Route("agencies.keys", _on_a("agency_admin_a"), _a, method="POST"),
    Route("agencies.checklist", only("vendor_manager", "approver", "admin", "auditor")),
    Route("agencies.checklist", only("vendor_manager", "admin"), method="POST"),
]

__all__ = ["DENIED", "OK", "ROUTES", "expect"]
