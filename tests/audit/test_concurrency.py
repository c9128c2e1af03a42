"""Concurrent writers never fork the chain: 20 threads, each with its own session on the
real engine, append at once; the chain verifies and ``seq`` has no gaps."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import func, select

from audit.log import SystemActor, record
from audit.models import AuditEntry
from audit.verify import verify_chain
from portal.db import mark_for_write
from portal.policies.operations import value as policy

WRITERS = 20
ENTRIES_EACH = 5


def _writer(database: Any, n: int, barrier: threading.Barrier, errors: list[BaseException]) -> None:
    actor = SystemActor(f"writer {n}")
    try:
        barrier.wait(timeout=30)
        for i in range(ENTRIES_EACH):
            session = database.sessionmaker()
            try:
                if i % 2:
                    # As a page does: take the write lock first, read, then change and record.
                    mark_for_write(session)
                    policy(session, "login.max_failures")
                record(session, actor, "test.concurrent", "writer", n, after={"i": i})
                session.commit()
            finally:
                session.close()
    except BaseException as exc:  # noqa: BLE001 - reported by the test
        errors.append(exc)


def test_twenty_concurrent_writers_leave_one_valid_chain_without_gaps(committed_db):
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []
    threads = [threading.Thread(target=_writer, args=(committed_db, n, barrier, errors)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors[:3]
    with committed_db.unit_of_work(write=False) as session:
        seqs = list(session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)))
        assert seqs == list(range(1, len(seqs) + 1))
        per_writer = dict(session.execute(
            select(AuditEntry.actor_label, func.count()).where(AuditEntry.action == "test.concurrent")
            .group_by(AuditEntry.actor_label)).all())
        assert per_writer == {f"writer {n}": ENTRIES_EACH for n in range(WRITERS)}
        result = verify_chain(session)
    assert result.ok, result.problem
    assert result.checked == result.head_seq == len(seqs) >= WRITERS * ENTRIES_EACH
