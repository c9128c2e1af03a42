"""Recalls and payment reports as an agency's system sees them."""

from __future__ import annotations

from datetime import date
from typing import Any

from portal.errors import InvalidInput

RECALL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "placement_id": {"type": "string", "format": "uuid"},
        "case_id": {"type": "string", "format": "uuid"},
        "recalled_at": {"type": "string", "format": "date-time"},
        "trigger": {"type": "string"},
        "reason": {"type": ["string", "null"]},
        "acknowledged_at": {"type": ["string", "null"], "format": "date-time"},
    },
}

PAYMENT_REPORT_IN: dict[str, Any] = {
    "type": "object",
    "required": ["paid_on", "amount_cents"],
    "properties": {
        "paid_on": {"type": "string", "format": "date"},
        # The ceiling is the policy row imports.max_amount_cents, checked by the operation.
        "amount_cents": {"type": "integer", "minimum": 1},
        "reference": {"type": "string", "maxLength": 100},
    },
    "additionalProperties": False,
}


def recall_json(placement: Any) -> dict[str, Any]:
    return {
        "placement_id": str(placement.id),
        "case_id": str(placement.case_id),
        "recalled_at": placement.recalled_at.isoformat() if placement.recalled_at else None,
        "trigger": placement.recall_trigger,
        "reason": placement.recall_reason,
        "acknowledged_at": placement.acknowledged_at.isoformat() if placement.acknowledged_at else None,
    }


def parse_payment_report(body: Any) -> tuple[date, int, str | None]:
    """Validate the JSON body; every refusal names the field."""
    if not isinstance(body, dict):
        raise InvalidInput("body.not_object", "the body must be a JSON object")
    unknown = set(body) - set(PAYMENT_REPORT_IN["properties"])
    if unknown:
        raise InvalidInput("body.unknown_fields", f"unknown fields: {', '.join(sorted(unknown))}")
    try:
        paid_on = date.fromisoformat(str(body["paid_on"]))
    except (KeyError, ValueError):
        raise InvalidInput("paid_on.invalid", "paid_on must be a date (YYYY-MM-DD)") from None
    amount = body.get("amount_cents")
    if type(amount) is not int or amount < 1:
        raise InvalidInput("amount_cents.invalid", "amount_cents must be a whole number of cents, at least 1")
    reference = body.get("reference")
    if reference is not None and (not isinstance(reference, str) or len(reference) > 100):
        raise InvalidInput("reference.invalid", "reference must be text of at most 100 characters")
    return paid_on, amount, reference
