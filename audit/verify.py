"""Verify the chain end to end, streaming, and name the first entry that is wrong."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit.log import GENESIS, entry_hash, hashed_fields
from audit.models import AuditEntry, AuditHead

BATCH = 5000


@dataclass(frozen=True)
class Verdict:
    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str | None = None


def verify_chain(
    session: Session, progress: Callable[[int, int], None] | None = None
) -> Verdict:
    total = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    head = session.get(AuditHead, 1)
    expected_prev = GENESIS
    expected_seq = 1
    checked = 0
    last_seq = 0
    stmt = select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=BATCH)
    for entry in session.scalars(stmt):
        if entry.seq != expected_seq:
            problem = (
                f"entry {expected_seq} is missing (next entry is {entry.seq})"
                if entry.seq > expected_seq
                else f"entry {entry.seq} is out of order"
            )
            return _bad(checked, head, expected_seq, problem)
        if entry.prev_hash != expected_prev:
            return _bad(checked, head, entry.seq,
                        f"entry {entry.seq} does not follow entry {entry.seq - 1} "
                        "(inserted, reordered or its predecessor was changed)")
        if entry_hash(entry.prev_hash, hashed_fields(entry)) != entry.entry_hash:
            return _bad(checked, head, entry.seq,
                        f"entry {entry.seq} was altered after it was written")
        expected_prev = entry.entry_hash
        expected_seq += 1
        last_seq = entry.seq
        checked += 1
        if progress and checked % BATCH == 0:
            progress(checked, total)
        session.expunge(entry)
    if progress:
        progress(checked, total)
    if head is None:
        return _bad(checked, head, None, "the chain head is missing")
    if head.seq > last_seq:
        return _bad(checked, head, last_seq + 1,
                    f"the chain ends at entry {last_seq} but its head records entry "
                    f"{head.seq}: entries were removed from the end or the head was changed")
    if head.seq < last_seq:
        # Entries beyond the head were appended without going through the head: the first
        # of them is the first bad one.
        return _bad(checked, head, head.seq + 1,
                    f"the chain runs to entry {last_seq} but its head records entry "
                    f"{head.seq}: entries were added after the head or the head was changed")
    if head.entry_hash != expected_prev:
        return _bad(checked, head, head.seq,
                    f"the head's hash does not match entry {head.seq}: the head was changed")
    return Verdict(True, checked, head.seq, head.entry_hash.hex())


def _bad(checked: int, head: AuditHead | None, seq: int | None, problem: str) -> Verdict:
    return Verdict(False, checked, head.seq if head else 0,
                   head.entry_hash.hex() if head else "", seq, problem)
