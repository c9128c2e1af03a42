"""Building and tampering with audit chains in tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from audit.log import SystemActor, record
from audit.models import AuditEntry, AuditHead

TABLE = AuditEntry.__table__


def append(session: Any, count: int, label: str = "tests") -> list[int]:
    """Append ``count`` entries; returns their seqs."""
    actor = SystemActor(label)
    return [
        record(session, actor, "test.step", "thing", f"obj-{i}", before={"n": i}, after={"n": i + 1},
               reason=f"step {i}").seq
        for i in range(count)
    ]


def head_seq(session: Any) -> int:
    return session.scalar(select(AuditHead.seq).where(AuditHead.id == 1)) or 0


def seqs(session: Any) -> list[int]:
    return list(session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)))


def count(session: Any) -> int:
    return session.scalar(select(func.count()).select_from(AuditEntry)) or 0
