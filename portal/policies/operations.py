"""Reading and changing policies. Every change is audited with before and after."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from audit.log import record
from portal import clock
from portal.errors import InvalidInput, NotFound
from portal.policies.catalog import BY_KEY, CATALOG
from portal.policies.models import Policy
from portal.security.access import require


def value(session: Session, key: str) -> Any:
    row = session.get(Policy, key)
    if row is None:
        if key in BY_KEY:
            raise RuntimeError(
                f"policy {key!r} has no row: run `agency-portal db upgrade` (it writes defaults)"
            )
        raise KeyError(key)
    return row.value


def all_policies(session: Session) -> list[Policy]:
    return list(session.scalars(select(Policy).order_by(Policy.key)))


def ensure_defaults(session: Session) -> int:
    """Insert a row for every catalogued key that has none; never overwrite a tuned one."""
    existing = set(session.scalars(select(Policy.key)))
    rows = [{"key": d.key, "value": d.default, "preset": "default", "updated_at": clock.now()}
            for d in CATALOG if d.key not in existing]
    if rows:
        session.execute(insert(Policy), rows)
    return len(rows)


def set_value(session: Session, actor: Any, key: str, new_value: Any, reason: str) -> Policy:
    require(actor, "policy.manage")
    row = session.get(Policy, key)
    if row is None:
        raise NotFound("policy.unknown", f"no policy {key}")
    definition = BY_KEY.get(key)
    if definition is not None and type(new_value) is not type(definition.default):
        # An int policy stays an int: a typo must not turn a cap into a string.
        if not (isinstance(definition.default, float) and isinstance(new_value, int)):
            raise InvalidInput("policy.type", f"{key} takes a {type(definition.default).__name__}")
    if not reason.strip():
        raise InvalidInput("policy.reason", "a reason is required")
    before = row.value
    row.value = new_value
    row.updated_at = clock.now()
    row.updated_by = actor.audit_id
    record(session, actor, "policy.changed", "policy", key,
           before={"value": before}, after={"value": new_value}, reason=reason)
    return row
