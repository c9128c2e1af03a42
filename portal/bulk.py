"""Bulk writes of prepared rows: one driver-level executemany per batch, no ORM object per
row, for every capability (case and ledger imports, placements, demo and benchmarks)."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import insert


def row_writer(connection: Any, table: Any, *, stmt: Any = None, sqlite_suffix: str = "") -> Callable[[list[dict[str, Any]]], None]:
    """An executemany INSERT of prepared rows. On SQLite the rows go to the driver as
    tuples already in SQLite's storage form (what SQLAlchemy's type processors would
    produce), which halves the cost of a million-row import; elsewhere, Core's insert."""
    if connection.dialect.name != "sqlite":
        core = stmt if stmt is not None else insert(table)
        return lambda rows: connection.execute(core, rows) and None
    from sqlalchemy import JSON, Date, Uuid

    from portal.db import UTCDateTime

    def _uuid(v: Any) -> Any:
        return v if v is None or isinstance(v, str) else v.hex

    def _date(v: Any) -> Any:
        return None if v is None else v.isoformat()

    def _json(v: Any) -> Any:
        return None if v is None else ("[]" if v == [] else json.dumps(v))

    seen_dt: dict[datetime, str] = {}

    def _dt(v: Any) -> Any:
        # An import stamps every row with the same instant: format it once.
        if v is None:
            return None
        text_ = seen_dt.get(v)
        if text_ is None:
            text_ = seen_dt[v] = f"{v.astimezone(UTC):%Y-%m-%d %H:%M:%S.%f}"
        return text_

    columns = list(table.columns)
    statements: dict[tuple[str, ...], tuple[str, Any, list[tuple[int, Callable[[Any], Any]]]]] = {}

    def plan(keys: tuple[str, ...]) -> tuple[str, Any, list[tuple[int, Callable[[Any], Any]]]]:
        # Only the columns the rows carry: the others take their database default (NULL).
        names = [c.name for c in columns if c.name in keys]
        converters: list[tuple[int, Callable[[Any], Any]]] = []
        for i, name in enumerate(names):
            kind = table.columns[name].type
            if isinstance(kind, Uuid):
                converters.append((i, _uuid))
            elif isinstance(kind, UTCDateTime):
                converters.append((i, _dt))
            elif isinstance(kind, Date):
                converters.append((i, _date))
            elif isinstance(kind, JSON):
                converters.append((i, _json))
        sql = (f"INSERT INTO {table.name} ({', '.join(names)}) "
               f"VALUES ({', '.join('?' * len(names))}){sqlite_suffix}")
        return sql, itemgetter(*names), converters

    def write(rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        keys = tuple(sorted(rows[0]))
        planned = statements.get(keys)
        if planned is None:
            planned = statements[keys] = plan(keys)
        sql, get, converters = planned
        prepared = []
        for row in rows:
            values = list(get(row))
            for i, fn in converters:
                values[i] = fn(values[i])
            prepared.append(tuple(values))
        connection.exec_driver_sql(sql, prepared)

    return write


def new_ids(count: int, dialect: str) -> Iterator[Any]:
    """``count`` fresh version-4 ids: UUID objects, or on SQLite directly the 32-digit text
    it stores (building a million UUID objects only to format them again is wasted)."""
    if dialect != "sqlite":
        return (uuid.uuid4() for _ in range(count))
    variant = "89ab"

    def text_ids() -> Iterator[str]:
        for _ in range(count):
            h = os.urandom(16).hex()
            yield f"{h[:12]}4{h[13:16]}{variant[int(h[16], 16) & 3]}{h[17:]}"

    return text_ids()
