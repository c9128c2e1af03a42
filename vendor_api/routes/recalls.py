"""Recalls the agency must acknowledge, and payments its collectors heard of.

GET  /api/v1/recalls                         recalls not yet acknowledged
POST /api/v1/placements/<id>/acknowledge     the agency stopped work on a recalled case
POST /api/v1/cases/<id>/payments             report a payment the debtor says they made
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import request

from portal.errors import InvalidInput, NotFound
from portal.placements.recall import acknowledge, count_unacknowledged, unacknowledged
from portal.placements.reconciliation import report_payment
from portal.web.door import commit, db
from vendor_api import api_actor, bp
from vendor_api.schemas.recalls import parse_payment_report, recall_json

PAGE_MAX = 500


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(f"{what}.not_found", f"no such {what}") from None


@bp.get("/recalls")
def list_recalls() -> Any:
    try:
        limit = min(PAGE_MAX, max(1, int(request.args.get("limit", 100))))
        offset = max(0, int(request.args.get("offset", 0)))
    except ValueError:
        raise InvalidInput("query.paging", "limit and offset must be whole numbers") from None
    items = unacknowledged(db(), api_actor(), limit=limit, offset=offset)
    return {"items": [recall_json(p) for p in items], "total": count_unacknowledged(db(), api_actor()),
            "limit": limit, "offset": offset}


@bp.post("/placements/<placement_id>/acknowledge")
def acknowledge_recall(placement_id: str) -> Any:
    placement = acknowledge(db(), api_actor(), _uuid(placement_id, "placement"))
    commit()
    return recall_json(placement)


@bp.post("/cases/<case_id>/payments")
def report_case_payment(case_id: str) -> Any:
    paid_on, amount, reference = parse_payment_report(request.get_json(silent=True))
    report = report_payment(db(), api_actor(), _uuid(case_id, "case"), paid_on, amount, reference)
    commit()
    return {"id": str(report.id), "case_id": str(report.case_id), "paid_on": report.paid_on.isoformat(),
            "amount_cents": report.amount_cents, "reference": report.reference}, 201
