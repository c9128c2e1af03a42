"""What the codes stored on a case are called in the reader's language. The codes stay in
the data, the files and the API; people read these."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

PRODUCT_LABELS: dict[str, Any] = {
    "personal_loan": _l("Personal loan"),
    "credit_card": _l("Credit card"),
    "small_business_loan": _l("Small-business loan"),
    "lease": _l("Lease"),
}
FLAG_LABELS: dict[str, Any] = {
    "lost_contact": _l("Lost contact"),
    "poor_willingness": _l("Poor willingness to pay"),
    "high_risk": _l("High risk"),
    "complaint": _l("Complaint"),
    "litigation": _l("Litigation"),
    "deceased": _l("Deceased"),
    "do_not_contact": _l("Do not contact"),
}
STATUS_LABELS: dict[str, Any] = {
    "open": _l("Open"),
    "repaid": _l("Repaid"),
    "settled": _l("Settled"),
    "litigation": _l("In litigation"),
    "restructured": _l("Restructured"),
    "active": _l("Placement active"),
    "recalled": _l("Placement recalled"),
    "ended": _l("Placement ended"),
    "draft": _l("Draft"),
    "released": _l("Released"),
    "rejected": _l("Rejected"),
}


def label(kind: str, code: Any) -> Any:
    table = {"product": PRODUCT_LABELS, "flag": FLAG_LABELS, "status": STATUS_LABELS}[kind]
    return table.get(code, code)
