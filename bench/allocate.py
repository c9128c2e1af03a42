"""Allocate 1,000,000 cases across 50 agencies through the portal's real path: an
approver's ``portal.placements.operations.release`` of a batch (candidate query with the
eligibility rule, capacity and scorecard read, the allocation strategy, the set-based
INSERT of placements with ON CONFLICT, the audit entry), on a fresh SQLite file.

The limit, measured in the same run: raw ``sqlite3.executemany`` of the resulting
placement rows into a copy of the same database taken just before the release (same
schema, indexes and pragmas, foreign keys enforced). The brief's target
is "under 3× the limit", i.e. ratio (limit / ours) ≥ 1/3; notes give ours/limit."""

from __future__ import annotations

import random
import sqlite3
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench import result

FULL_SIZE = 1_000_000
AGENCIES = 50
TARGET = 1 / 3
REGIONS = ["Shanghai", "Beijing", "Guangdong", "Zhejiang", "Sichuan"]
BUCKETS = ["M1", "M2", "M3", "M4+"]


def seed_world(app: Any, count: int) -> tuple[Any, Any, Any]:
    """Cases (minimal PII placeholders: allocation never reads PII), agencies, contracts,
    users and a built batch. Not timed."""
    from portal import clock
    from portal.agencies.models import Agency, Contract
    from portal.bulk import row_writer
    from portal.cases.models import Case
    from portal.cli import system_actor
    from portal.placements.operations import build_batch

    database = app.extensions["portal.db"]
    rng = random.Random(5)
    now = clock.now()
    today = clock.today()
    with database.unit_of_work() as session:
        write = row_writer(session.connection(), Case.__table__)
        batch = []
        for i in range(count):
            dpd = rng.randint(11, 200)
            batch.append({"id": uuid.uuid4(), "account_no": f"6222{i:012d}", "product": "credit_card", "currency": "CNY",
                          "principal_cents": rng.randint(300_000, 30_000_000), "interest_cents": 0, "fees_cents": 0,
                          "overdue_since": today - timedelta(days=dpd), "dpd": dpd,
                          "bucket": BUCKETS[min(3, (dpd - 1) // 30)], "region": REGIONS[i % 5], "flags": [],
                          "status": "open", "debtor_timezone": "Asia/Shanghai", "debtor_name": b"x", "national_id": b"x",
                          "national_id_bidx": b"x", "phone": b"x", "phone_bidx": b"x", "address": None,
                          "import_digest": None, "created_at": now, "updated_at": now})
            if len(batch) >= 10_000:
                write(batch)
                batch = []
        if batch:
            write(batch)
        for n in range(AGENCIES):
            agency = Agency(id=uuid.uuid4(), name=f"Agency {n}", status="active", region=REGIONS[n % 5],
                            created_at=now, updated_at=now)
            session.add(agency)
            session.flush()
            session.add(Contract(id=uuid.uuid4(), agency_id=agency.id, reference=f"C{n}", starts_on=today - timedelta(days=10),
                                 ends_on=today + timedelta(days=300), regions=REGIONS[: 1 + n % 5], buckets=[],
                                 max_active_cases=rng.randint(30_000, 60_000), max_active_amount_cents=10**14,
                                 commission_bp={}, created_at=now))
        manager = system_actor("bench manager")
        manager.id = uuid.uuid4()
        batch_row = build_batch(session, manager, {}, "capacity", seed=1)
        batch_id = batch_row.id
    approver = system_actor("bench approver")
    approver.id = uuid.uuid4()
    return database, approver, batch_id


def measure_limit(copy: Path, rows: list[tuple[Any, ...]]) -> float:
    """Raw sqlite3.executemany of the placement rows into a copy of the database taken just
    before the release: same schema, same indexes, same pragmas (foreign keys on), so the
    limit does the same physical work the portal's INSERT does."""
    from portal.placements.models import Placement

    table = Placement.__table__
    conn = sqlite3.connect(copy, isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    sql = f"INSERT INTO placements ({', '.join(c.name for c in table.columns)}) VALUES ({', '.join('?' * len(table.columns))})"
    started = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(sql, rows)
    conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    conn.close()
    return seconds


def run(scale: float = 1.0) -> list[dict[str, Any]]:
    from bench import make_app
    from portal.placements.operations import release
    from portal.security import crypto

    count = max(500, int(FULL_SIZE * scale))
    previous_cipher = crypto._cipher
    try:
        with tempfile.TemporaryDirectory(prefix="bench-allocate-") as tmp:
            workdir = Path(tmp)
            app = make_app(workdir, "portal.db")
            database, approver, batch_id = seed_world(app, count)
            database.engine.dispose()
            copy = workdir / "limit.db"
            with sqlite3.connect(workdir / "portal.db") as source, sqlite3.connect(copy) as target:
                source.backup(target)
            try:
                with app.app_context():
                    started = time.perf_counter()
                    with database.unit_of_work() as session:
                        counts = release(session, approver, batch_id)
                    seconds = time.perf_counter() - started
                with database.engine.connect() as conn:
                    rows = [tuple(r) for r in conn.exec_driver_sql("SELECT * FROM placements").fetchall()]
            finally:
                database.engine.dispose()
            limit = measure_limit(copy, rows)
    finally:
        crypto._cipher = previous_cipher
    return [result(
        "allocate", seconds, limit, TARGET,
        f"{count:,} cases, {AGENCIES} agencies: {counts['placed']:,} placed, {counts['unallocated']:,} in-house; "
        f"ours/limit = {seconds / limit:.2f} (target < 3); limit = sqlite3.executemany of the placement rows {limit:.2f} s",
    )]
