"""Append to the audit log, in the caller's transaction.

``record`` is called by every operation that changes state, before the door commits: the
change and its entry are committed together or not at all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from audit.models import AuditEntry, AuditHead
from portal import clock

GENESIS = b"\x00" * 32

# Field names that hold debtor PII. The log never carries them in clear: operations should
# not pass them, and if one does, the value is replaced here, whatever the nesting.
PII_KEYS = frozenset(
    {"debtor_name", "national_id", "phone", "phones", "address", "phone_number",
     "dialled_number", "email_address", "name_on_account"}
)
REDACTED = "[redacted]"


class Actor(Protocol):
    @property
    def audit_id(self) -> str | None: ...

    @property
    def audit_label(self) -> str: ...


class SystemActor:
    """The portal itself acting: jobs, imports from the CLI, migrations of data."""

    def __init__(self, label: str = "system") -> None:
        self.label = label

    @property
    def audit_id(self) -> str | None:
        return None

    @property
    def audit_label(self) -> str:
        return self.label


def redact(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {
            str(k): (REDACTED if str(k) in PII_KEYS and v is not None else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def canonical(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode("utf-8")


def normalise_json(value: Any) -> Any:
    """What the database will give back: plain JSON types only (dates become strings)."""
    if value is None:
        return None
    return json.loads(canonical(redact(value)))


def format_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(prev_hash: bytes, fields: Mapping[str, Any]) -> bytes:
    return hashlib.sha256(prev_hash + canonical(fields)).digest()


def hashed_fields(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": format_time(entry.at),
        "actor_id": entry.actor_id,
        "actor_label": entry.actor_label,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "before": entry.before,
        "after": entry.after,
        "reason": entry.reason,
    }


def record(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: object = None,
    *,
    before: Any = None,
    after: Any = None,
    reason: str | None = None,
) -> AuditEntry:
    """Append one entry to the chain in ``session``'s transaction."""
    # Take the head first: the UPDATE locks it until this transaction ends, so concurrent
    # writers line up here and each sees the hash its predecessor committed.
    head_seq = session.execute(
        update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + 1)
        .returning(AuditHead.seq)
    ).scalar_one_or_none()
    if head_seq is None:
        raise RuntimeError("audit_head is missing: the database was not migrated")
    prev = session.execute(
        select(AuditEntry.entry_hash).where(AuditEntry.seq == head_seq - 1)
    ).scalar_one_or_none()
    prev_hash = GENESIS if head_seq == 1 else prev
    if prev_hash is None:
        raise RuntimeError(f"audit log entry {head_seq - 1} is missing: verify the chain")
    # Microsecond precision is what both databases keep.
    at = clock.now().astimezone(UTC)
    entry = AuditEntry(
        seq=head_seq,
        at=at,
        actor_id=actor.audit_id,
        actor_label=actor.audit_label,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        before=normalise_json(before),
        after=normalise_json(after),
        reason=reason,
        prev_hash=prev_hash,
    )
    entry.entry_hash = entry_hash(prev_hash, hashed_fields(entry))
    session.add(entry)
    session.execute(
        update(AuditHead).where(AuditHead.id == 1).values(entry_hash=entry.entry_hash)
    )
    session.flush([entry])
    return entry


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict, dict]:
    """The fields that differ, as (before, after) dicts, for a compact entry."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}
