"""Import a 1,000,000-row case CSV end to end through the portal's real path,
``portal.cases.imports.import_cases`` (stream, parse, validate every cell, encrypt four PII
fields, two blind indexes, a change digest, executemany, one audit entry), on a fresh
SQLite file.

The limit, measured in the same run: the plainest pipeline doing the same physical work:
``csv.reader`` over the same file, raw AES-256-GCM of the four PII fields, and raw
``sqlite3.executemany`` of the rows (in batches, one transaction) into the same table with
the same indexes. Peak memory (ru_maxrss of the process) is reported: the import streams,
so it stays far below 1 GB whatever the file size."""

from __future__ import annotations

import csv
import json
import os
import random
import resource
import sqlite3
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from bench import make_app, result

FULL_SIZE = 1_000_000
TARGET = 0.5
BATCH = 5000
HEADER = ["account_no", "product", "principal", "interest", "fees", "currency", "overdue_since", "region", "flags",
          "debtor_name", "national_id", "phone", "address", "debtor_timezone"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
CITIES = ["上海市浦东新区", "北京市朝阳区", "广州市天河区", "杭州市西湖区", "成都市武侯区"]
PRODUCTS = ["credit_card", "personal_loan", "small_business_loan", "lease"]
REGIONS = ["Shanghai", "Beijing", "Guangdong", "Zhejiang", "Sichuan"]


def write_file(path: Path, count: int, seed: int = 11) -> None:
    """A realistic case file, written as it is generated (never held in memory)."""
    from portal.cases.imports import national_id_check

    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for i in range(count):
            first17 = f"{rng.randint(110000, 659999)}{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
            principal = rng.randint(3_000, 300_000)
            writer.writerow([
                f"6222{i:012d}", rng.choice(PRODUCTS), f"{principal}.{rng.randint(0, 99):02d}", str(principal // 20),
                str(rng.randint(0, 500)), "CNY", f"2026-{rng.randint(1, 10):02d}-{rng.randint(1, 28):02d}",
                rng.choice(REGIONS), "lost_contact" if rng.random() < 0.05 else "",
                rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2))),
                first17 + national_id_check(first17), f"13{rng.randint(0, 9)}{rng.randint(0, 99_999_999):08d}",
                f"{rng.choice(CITIES)}{rng.randint(1, 999)}号{rng.randint(101, 2808)}室", "Asia/Shanghai",
            ])


def measure_portal(path: Path, workdir: Path) -> tuple[float, int]:
    from portal.cases.imports import import_cases
    from portal.cli import system_actor

    app = make_app(workdir, "portal.db")
    database = app.extensions["portal.db"]
    try:
        with app.app_context():
            started = time.perf_counter()
            with database.unit_of_work() as session:
                res = import_cases(session, system_actor("bench"), path, path.name)
            seconds = time.perf_counter() - started
        with database.engine.connect() as conn:
            stored = conn.exec_driver_sql("SELECT count(*) FROM cases").scalar_one()
        assert stored == res.inserted, (stored, res.inserted)
    finally:
        database.engine.dispose()
    return seconds, stored


def measure_limit(path: Path, workdir: Path) -> float:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from sqlalchemy.dialects import sqlite as sqlite_dialect
    from sqlalchemy.schema import CreateIndex, CreateTable

    from portal.cases.models import Case

    table = Case.__table__
    dialect = sqlite_dialect.dialect()
    columns = [c.name for c in table.columns]
    conn = sqlite3.connect(workdir / "limit.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(str(CreateTable(table).compile(dialect=dialect)))
    for index in table.indexes:
        conn.execute(str(CreateIndex(index).compile(dialect=dialect)))
    sql = f"INSERT INTO cases ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    aead = AESGCM(AESGCM.generate_key(256))
    encrypt, urandom = aead.encrypt, os.urandom
    now = time.strftime("%Y-%m-%d %H:%M:%S.000000")
    started = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        batch = []
        for r in reader:
            rid = uuid.uuid4().hex
            name, nid, phone, address = (encrypt(urandom(12), v.encode(), rid.encode()) for v in (r[9], r[10], r[11], r[12]))
            batch.append((rid, r[0], r[1], "CNY", int(float(r[2]) * 100), int(r[3]) * 100, int(r[4]) * 100, r[6], 30, "M1",
                          r[7], json.dumps([r[8]] if r[8] else []), "open", r[13], name, nid, r[10], phone, r[11],
                          address, None, now, now))
            if len(batch) >= BATCH:
                conn.executemany(sql, batch)
                batch = []
        if batch:
            conn.executemany(sql, batch)
    conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    conn.close()
    return seconds


def _portal_in_child(path: Path, workdir: Path) -> tuple[float, int, float]:
    """The portal's import in a fresh process, so its peak memory is its own and not what
    earlier benchmarks in this process left behind."""
    seconds, stored = measure_portal(path, workdir)
    return seconds, stored, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(scale: float = 1.0) -> list[dict[str, Any]]:
    from portal.security import crypto

    count = max(200, int(FULL_SIZE * scale))
    previous_cipher = crypto._cipher  # create_app installs its own; give the caller theirs back
    try:
        with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
            workdir = Path(tmp)
            path = workdir / "cases.csv"
            write_file(path, count)
            limit = measure_limit(path, workdir)
            with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
                seconds, stored, peak_mb = pool.submit(_portal_in_child, path, workdir).result()
            size_mb = path.stat().st_size / 1e6
    finally:
        crypto._cipher = previous_cipher
    return [result(
        "import_cases", seconds, limit, TARGET,
        f"{stored:,} rows ({size_mb:,.0f} MB CSV), {stored / seconds:,.0f} rows/s; limit = csv.reader + AES-GCM "
        f"+ sqlite3.executemany {limit:.2f} s; the import's peak RSS {peak_mb:,.0f} MB (target < 1024)",
    )]
