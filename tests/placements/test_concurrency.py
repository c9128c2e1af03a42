"""50 approvers releasing overlapping batches at the same moment: every case is placed at
most once, and nobody sees an error. Real commits across connections (``committed_db``);
PostgreSQL exercises row locks and ON CONFLICT under true parallelism, SQLite its write
lock."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import func, select

from portal.db import Database
from portal.placements import operations as ops
from portal.placements.models import ACTIVE, Placement
from tests.factories import make_agency, make_cases, make_user

pytestmark = pytest.mark.xdist_group("serial")
RELEASES = 50


def test_fifty_simultaneous_releases_never_double_place(committed_db: Database) -> None:
    database = committed_db
    with database.unit_of_work() as session:
        for _ in range(4):
            make_agency(session, max_active_cases=10_000)
        cases = make_cases(session, 200)
        manager = make_user(session, "vendor_manager")
        approvers = [make_user(session, "approver") for _ in range(RELEASES)]
        # Overlapping filters: every batch wants some of the same cases.
        built = [ops.build_batch(session, manager, {"amount_min_cents": 0}, "capacity", seed=i)
                 for i in range(RELEASES)]
        batches = [(b.id, b.candidates_digest) for b in built]
        case_ids = {c.id for c in cases}
    results: list[dict[str, Any]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(RELEASES)

    def release(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            with database.unit_of_work() as session:
                batch_id, digest = batches[i]
                results.append(ops.release(session, approvers[i], batch_id, digest=digest))
        except BaseException as exc:  # noqa: BLE001 - the test is that nothing escapes
            errors.append(exc)

    threads = [threading.Thread(target=release, args=(i,)) for i in range(RELEASES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert len(results) == RELEASES
    with database.unit_of_work(write=False) as session:
        per_case = session.execute(select(Placement.case_id, func.count()).where(Placement.status == ACTIVE)
                                   .group_by(Placement.case_id)).all()
    assert all(n == 1 for _cid, n in per_case)
    assert {cid for cid, _n in per_case} <= case_ids
    assert sum(r["placed"] for r in results) == len(per_case)
    assert len(per_case) == 200  # 4 agencies x half a batch each: everything found a home
