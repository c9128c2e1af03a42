"""Engine, sessions and the declarative base.

One session per request or job, one transaction per session: operations never commit,
the door that called them does (``unit_of_work``). On SQLite a write transaction takes the
database's write lock at BEGIN (``BEGIN IMMEDIATE``) so two writers queue instead of one
failing half way; readers never wait for writers (WAL).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    TypeDecorator,
    create_engine,
    event,
    insert,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, on SQLite (which keeps no zone) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use portal.clock")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # BIGINT everywhere, but INTEGER on SQLite, where only "INTEGER PRIMARY KEY" is the
    # auto-numbered rowid.
    type_annotation_map = {datetime: UTCDateTime(), int: BigInteger().with_variant(
        Integer(), "sqlite")}


def new_id() -> uuid.UUID:
    return uuid.uuid4()


Money = BigInteger  # amounts are integer cents (fen): exact on every database
ShortText = String(200)


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (so BEGIN
        # IMMEDIATE below is honoured), and turn on what SQLite leaves off by default.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if ":memory:" not in str(engine.url):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = "IMMEDIATE" if conn.get_execution_options().get("sqlite_write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """An engine and its session factory; one per application (or per CLI run)."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessionmaker = sessionmaker(bind=self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def session(self, *, write: bool = False) -> Session:
        session = self.sessionmaker()
        if write:
            mark_for_write(session)
        return session

    @contextmanager
    def unit_of_work(self, *, write: bool = True) -> Iterator[Session]:
        """One transaction: committed if the block finishes, rolled back if it raises."""
        session = self.session(write=write)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


def mark_for_write(session: Session) -> None:
    """Begin the session's transaction as a writer (SQLite: take the write lock now)."""
    bind = session.get_bind()
    if bind.dialect.name == "sqlite" and not session.in_transaction():
        session.connection(execution_options={"sqlite_write": True})


def bulk_insert(connection: Any, table: Any, rows: Sequence[Mapping[str, Any]]) -> int:
    """INSERT many rows with one driver-level executemany.

    SQLAlchemy's executemany converts every value of every row through its type (UUIDs,
    UTC datetimes, JSON); for bulk loads that dominates. Here each column's converter is
    looked up once, and a value identical to the previous row's (the batch's timestamp,
    an empty flag list) is converted once, not once per row. Same SQL, same stored values.
    """
    if not rows:
        return 0
    keys = list(rows[0])
    compiled = insert(table).compile(dialect=connection.dialect, column_keys=keys)
    processors = compiled._bind_processors
    names: list[str] = list(compiled.positiontup) if compiled.positional else keys
    columns = table.c
    # bytes need no conversion on either driver (SQLAlchemy would wrap each in a buffer).
    procs = [None if isinstance(columns[name].type, LargeBinary) else processors.get(name)
             for name in names]
    json_memo: dict[tuple[Any, ...], Any] = {}
    width = len(names)
    marker = object()
    last_in: list[Any] = [marker] * width
    last_out: list[Any] = [None] * width
    converted: list[Any] = []
    for row in rows:
        out = [None] * width
        for i in range(width):
            value = row[names[i]]
            proc = procs[i]
            if proc is None or value is None:
                out[i] = value
            elif value is last_in[i]:
                out[i] = last_out[i]
            elif type(value) is list:
                # Short JSON lists (flags) repeat across rows: encode each distinct one once.
                key = tuple(value)
                cached = json_memo.get(key)
                if cached is None:
                    cached = json_memo[key] = proc(value)
                out[i] = cached
            else:
                out[i] = last_out[i] = proc(value)
                last_in[i] = value
        converted.append(tuple(out) if compiled.positional else dict(zip(names, out, strict=True)))
    connection.exec_driver_sql(str(compiled), converted)
    return len(converted)
