"""Migrations give exactly the models' schema: upgrading an empty database with Alembic,
then comparing it with the metadata, finds no difference (SQLite; and PostgreSQL when
``PORTAL_TEST_DATABASE_URL`` points at one)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.exc import DBAPIError

from audit.models import AuditHead
from portal.cli import upgrade_database
from portal.db import Database
from portal.schema import load_all_models

PG_URL = os.environ.get("PORTAL_TEST_DATABASE_URL", "")


def _sqlite(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path / 'migrated.db'}"


def _postgresql() -> Iterator[str]:
    name = f"portal_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' "
                "AND pid <> pg_backend_pid()")
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        admin.dispose()


# SQLite always; PostgreSQL in the run that has one (no skip: CI treats skips as failures).
DIALECTS = ["sqlite"] + (["postgresql"] if PG_URL.startswith("postgresql") else [])


@pytest.fixture(params=DIALECTS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    urls = _postgresql() if request.param == "postgresql" else _sqlite(tmp_path)
    url = next(urls)
    database = Database(url)
    try:
        yield database
    finally:
        database.engine.dispose()
        for _ in urls:  # run the generator's cleanup
            pass


def schema_differences(database: Database) -> list[Any]:
    metadata = load_all_models().metadata
    with database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
        return compare_metadata(context, metadata)


def describe(difference: Any) -> str:
    """One line per difference: what alembic would do, and to what."""
    if isinstance(difference, list):  # column modifications come grouped
        return "; ".join(describe(d) for d in difference)
    op, *rest = difference
    names = []
    for item in rest:
        name = getattr(item, "name", None)
        table = getattr(getattr(item, "table", None), "name", None)
        if name or table:
            names.append(f"{table}.{name}" if table and name and table != name else str(name or table))
        elif isinstance(item, str) and not names:
            names.append(item)
    return f"{op} {' '.join(names)}"


def test_upgrading_an_empty_database_gives_exactly_the_models_schema(empty_database):
    upgrade_database(empty_database)
    differences = schema_differences(empty_database)
    assert differences == [], (
        "migrations and models differ (write a migration, named for what it does):\n"
        + "\n".join(describe(d) for d in differences))


def test_upgraded_database_has_the_audit_head_triggers_and_policies(empty_database):
    from portal.policies.catalog import CATALOG

    upgrade_database(empty_database)
    with empty_database.engine.begin() as conn:
        assert conn.execute(select(AuditHead.seq)).scalar_one() == 0
        policies = set(conn.execute(text("SELECT key FROM policies")).scalars())
        assert {d.key for d in CATALOG} <= policies
        conn.execute(text(
            "INSERT INTO audit_log (seq, at, actor_label, action, object_type, prev_hash, entry_hash) "
            "VALUES (1, :at, 'x', 'x', 'x', :h, :h)"), {"at": "2026-01-01 00:00:00", "h": b"0" * 32})
    for statement in ("UPDATE audit_log SET action = 'y'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), empty_database.engine.begin() as conn:
            conn.execute(text(statement))


def test_upgrading_twice_changes_nothing(empty_database):
    upgrade_database(empty_database)
    assert not any(upgrade_database(empty_database).values())
    assert "alembic_version" in inspect(empty_database.engine).get_table_names()
