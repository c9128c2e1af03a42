"""Encrypt and store 200,000 cases (four PII fields, two blind indexes) through the portal's
real path, ``portal.cases.operations.insert_cases``, on a fresh SQLite file.

The limit, measured in the same run on the same machine: the same rows in clear written by
one raw ``sqlite3.executemany`` into the same table (same columns, same indexes, same
pragmas) on another fresh file, plus raw AES-256-GCM (``cryptography``'s AESGCM) of the
same four fields, with the plaintexts and associated data already encoded. The portal's
extra work (row preparation, bucket, blind-index HMACs, the keyring's prefix, SQLAlchemy's
executemany, the audit entry) is what the ratio charges it for."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench import make_app, result

FULL_SIZE = 200_000
TARGET = 0.5
PII = ("debtor_name", "national_id", "phone", "address")

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
CITIES = ["上海市浦东新区", "北京市朝阳区", "广州市天河区", "杭州市西湖区", "成都市武侯区"]
EN_FIRST = ["James", "Mary", "Robert", "Linda", "Michael", "Susan", "David", "Karen"]
EN_LAST = ["Smith", "Johnson", "Brown", "Garcia", "Miller", "Davis", "Wilson", "Moore"]
PRODUCTS = ["credit_card", "personal_loan", "small_business_loan", "lease"]
REGIONS = ["Shanghai", "Beijing", "Guangdong", "Zhejiang", "Sichuan"]


def make_records(count: int, today: date, seed: int = 7) -> list[dict[str, Any]]:
    """Plain case records, PII in clear, as an import would hand them over (not timed)."""
    rng = random.Random(seed)
    records = []
    for i in range(count):
        chinese = rng.random() < 0.7
        if chinese:
            name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))
            address = f"{rng.choice(CITIES)}{rng.randint(1, 999)}号{rng.randint(1, 30)}栋{rng.randint(101, 2808)}室"
            phone = f"13{rng.randint(0, 9)}{rng.randint(0, 99_999_999):08d}"
        else:
            name = f"{rng.choice(EN_FIRST)} {rng.choice(EN_LAST)}"
            address = f"{rng.randint(1, 9999)} Main Street, Springfield, IL {rng.randint(10000, 99999)}"
            phone = f"+1 {rng.randint(200, 999)}-{rng.randint(200, 999)}-{rng.randint(0, 9999):04d}"
        principal = rng.randint(3_000, 300_000) * 100
        records.append({
            "id": uuid.UUID(int=rng.getrandbits(128), version=4),
            "account_no": f"6222{i:012d}",
            "product": rng.choice(PRODUCTS),
            "principal_cents": principal,
            "interest_cents": principal // 20,
            "fees_cents": rng.randint(0, 50_000),
            "overdue_since": today - timedelta(days=rng.randint(1, 200)),
            "region": rng.choice(REGIONS),
            "flags": [],
            "debtor_name": name,
            "national_id": f"{rng.randint(110000, 659999)}{rng.randint(19500101, 20051231)}{rng.randint(0, 999):03d}{rng.choice('0123456789X')}",
            "phone": phone,
            "address": address,
        })
    return records


def measure_portal(records: list[dict[str, Any]], workdir: Path) -> tuple[float, int]:
    """The real path: create_app (keyring installed), a freshly built schema, insert_cases
    in one unit of work, committed."""
    from portal.cases.operations import insert_cases
    from portal.cli import system_actor

    app = make_app(workdir)
    database = app.extensions["portal.db"]
    actor = system_actor("bench")
    try:
        with app.app_context():
            started = time.perf_counter()
            with database.unit_of_work() as session:
                count = insert_cases(session, actor, records, reason="bench")
            seconds = time.perf_counter() - started
        with database.engine.connect() as conn:
            stored = conn.exec_driver_sql("SELECT count(*) FROM cases").scalar_one()
        assert stored == count == len(records), (stored, count)
    finally:
        database.engine.dispose()
    return seconds, count


def measure_ciphertext_store(workdir: Path) -> float:
    """Diagnostic, not the limit: raw sqlite3.executemany of the very rows the portal stored
    (ciphertexts and blind indexes, read back) into a fresh copy of the table. The part of
    the portal's time that is SQLite writing bigger rows, not Python."""
    source = sqlite3.connect(workdir / "portal.db")
    try:
        ddl = [r[0] for r in source.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'cases' AND sql IS NOT NULL "
            "ORDER BY type DESC")]  # the table first, then its indexes
        rows = source.execute("SELECT * FROM cases").fetchall()
    finally:
        source.close()
    target = sqlite3.connect(workdir / "ciphertext.db", isolation_level=None)
    try:
        target.execute("PRAGMA journal_mode=WAL")
        target.execute("PRAGMA synchronous=NORMAL")
        for statement in ddl:
            target.execute(statement)
        sql = f"INSERT INTO cases VALUES ({', '.join('?' * len(rows[0]))})"
        started = time.perf_counter()
        target.execute("BEGIN IMMEDIATE")
        target.executemany(sql, rows)
        target.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        target.close()


def measure_limit(records: list[dict[str, Any]], workdir: Path, today: date) -> tuple[float, float]:
    """(seconds for raw sqlite3.executemany of the rows in clear, seconds for raw AES-GCM
    of their four PII fields)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from sqlalchemy.dialects import sqlite as sqlite_dialect
    from sqlalchemy.schema import CreateIndex, CreateTable

    from portal.cases.buckets import dpd_on
    from portal.cases.models import Case

    table = Case.__table__
    dialect = sqlite_dialect.dialect()
    columns = [c.name for c in table.columns]
    now = time.strftime("%Y-%m-%d %H:%M:%S.000000")
    rows = []
    for rec in records:
        clear = {
            **rec, "id": rec["id"].hex, "currency": "CNY", "overdue_since": rec["overdue_since"].isoformat(),
            "dpd": dpd_on(rec["overdue_since"], today), "bucket": "M1", "flags": json.dumps(rec["flags"]),
            "status": "open", "debtor_timezone": "Asia/Shanghai", "national_id_bidx": rec["national_id"],
            "phone_bidx": rec["phone"], "import_digest": None, "created_at": now, "updated_at": now,
        }
        rows.append(tuple(clear[c] for c in columns))

    path = workdir / "limit.db"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(str(CreateTable(table).compile(dialect=dialect)))
        for index in table.indexes:
            conn.execute(str(CreateIndex(index).compile(dialect=dialect)))
        sql = f"INSERT INTO cases ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(sql, rows)
        conn.execute("COMMIT")
        store_seconds = time.perf_counter() - started
    finally:
        conn.close()

    aead = AESGCM(AESGCM.generate_key(256))
    work = [
        (rec[column].encode(), f"cases.{column}.{rec['id']}".encode())
        for rec in records for column in PII
    ]
    urandom, encrypt = os.urandom, aead.encrypt
    started = time.perf_counter()
    for plaintext, aad in work:
        encrypt(urandom(12), plaintext, aad)
    crypto_seconds = time.perf_counter() - started
    return store_seconds, crypto_seconds


def run(scale: float = 1.0) -> list[dict[str, Any]]:
    from portal import clock
    from portal.security import crypto

    count = max(100, int(FULL_SIZE * scale))
    today = clock.today()
    records = make_records(count, today)
    previous_cipher = crypto._cipher  # create_app installs its own; give the caller theirs back
    try:
        with tempfile.TemporaryDirectory(prefix="bench-encrypt-store-") as tmp:
            workdir = Path(tmp)
            store_s, crypto_s = measure_limit(records, workdir, today)
            seconds, stored = measure_portal(records, workdir)
            floor_s = measure_ciphertext_store(workdir)
    finally:
        crypto._cipher = previous_cipher
    limit = store_s + crypto_s
    return [result(
        "encrypt_store", seconds, limit, TARGET,
        f"{stored:,} cases, {stored / seconds:,.0f}/s; limit = sqlite3 in clear {store_s:.2f} s "
        f"+ AES-GCM {crypto_s:.2f} s; (sqlite3 of the ciphertext rows alone: {floor_s:.2f} s)",
    )]
