"""Every state change of agency onboarding and vetting, split by what it is about:
``application`` (register, fill in, submit), ``review`` (checklist verdicts, inspections,
four-eyes proposals and decisions), ``documents`` (upload, versions, audited download) and
``contracts`` (contract terms, activation, suspension, termination, exit register, keys)
and ``renewals`` (a renewed licence, a redone due diligence).

Each takes ``(session, actor, plain values)``, checks ``security.access.require``, records
the audit entry in the same transaction and never commits: the door does."""

from portal.agencies.operations.application import (
    get_agency,
    register_agency,
    save_application,
    submit_application,
)
from portal.agencies.operations.contracts import (
    activate,
    reactivate,
    record_contract,
    register_public_key,
    suspend,
    terminate,
)
from portal.agencies.operations.documents import read_document, upload_document
from portal.agencies.operations.renewals import record_due_diligence, renew_licence
from portal.agencies.operations.review import (
    add_checklist_item,
    decide,
    propose,
    record_inspection,
    return_for_information,
    set_verdict,
    start_review,
)

__all__ = [
    "activate", "add_checklist_item", "decide", "get_agency", "propose", "reactivate",
    "read_document", "record_contract", "record_due_diligence", "record_inspection", "register_agency",
    "register_public_key", "renew_licence", "return_for_information", "save_application", "set_verdict",
    "start_review", "submit_application", "suspend", "terminate", "upload_document",
]
