"""Lists of ids or keys for audit entries: the first few verbatim, and a digest and count
of all of them, so an entry stays small however many rows an operation touched and an
auditor can still check a full list against it (sha256 of the sorted values joined by
newlines)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from portal.policies.operations import value as policy


def listing(values: Iterable[Any], cap: int) -> dict[str, Any]:
    items = sorted({str(v) for v in values})
    digest = hashlib.sha256("\n".join(items).encode()).hexdigest()
    out: dict[str, Any] = {"count": len(items), "sha256": digest, "first": items[:cap]}
    if len(items) > cap:
        out["truncated"] = True
    return out


def audit_cap(session: Session) -> int:
    return int(policy(session, "audit.max_ids_listed"))
