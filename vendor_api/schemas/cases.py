"""The case resource as an agency sees it: its own placed cases, PII decrypted for the
holder of the placement only, amounts in cents."""

from __future__ import annotations

from typing import Any

CASE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "account_no", "product", "bucket", "dpd", "amounts", "debtor"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "account_no": {"type": "string"},
        "product": {"type": "string"},
        "bucket": {"type": "string"},
        "dpd": {"type": "integer"},
        "region": {"type": "string"},
        "flags": {"type": "array", "items": {"type": "string"}},
        "currency": {"type": "string"},
        "amounts": {
            "type": "object",
            "properties": {k: {"type": "integer"} for k in ("principal_cents", "interest_cents", "fees_cents", "total_cents")},
        },
        "debtor": {
            "type": "object",
            "properties": {k: {"type": "string"} for k in ("name", "national_id", "phone", "address")},
        },
    },
}


def case_json(case: Any) -> dict[str, Any]:
    return {
        "id": str(case.id),
        "account_no": case.account_no,
        "product": case.product,
        "bucket": case.bucket,
        "dpd": case.dpd,
        "region": case.region,
        "flags": list(case.flags or []),
        "currency": case.currency,
        "amounts": {
            "principal_cents": case.principal_cents,
            "interest_cents": case.interest_cents,
            "fees_cents": case.fees_cents,
            "total_cents": case.total_cents,
        },
        "debtor": {
            "name": case.debtor_name,
            "national_id": case.national_id,
            "phone": case.phone,
            "address": case.address,
        },
    }
