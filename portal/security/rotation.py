"""Key rotation: add a new active key, then re-encrypt every encrypted field in batches.

The portal keeps running throughout: old keys stay in the keyring (so everything stays
readable), running processes pick up the new keyring file within seconds, and each batch
is a short transaction whose UPDATE only applies where the ciphertext is still the one that
was read, so a value the portal changed meanwhile is never overwritten with a stale one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Table, and_, bindparam, func, select, update

from portal.db import Database
from portal.schema import load_all_models
from portal.security import crypto


@dataclass(frozen=True)
class EncryptedColumns:
    table: Table
    columns: tuple[str, ...]  # logical names, bound into each ciphertext's associated data
    db_columns: tuple[str, ...]  # where they are stored
    binary: bool = False  # documents: megabytes a row, so few rows a batch


def encrypted_columns() -> list[EncryptedColumns]:
    base = load_all_models()
    found = []
    for mapper in base.registry.mappers:
        cls = mapper.class_
        fields = [a for a in vars(cls).values() if isinstance(a, crypto.EncryptedField)]
        names = tuple(f.column for f in fields)
        if names:
            stored = tuple(mapper.get_property(f"{n}_ct").columns[0].name for n in names)  # type: ignore[attr-defined]
            found.append(EncryptedColumns(mapper.local_table, names, stored,  # type: ignore[arg-type]
                                          any(f.binary for f in fields)))
    return sorted(found, key=lambda e: e.table.name)


def add_active_key(keyring_path: Path) -> str:
    keyring = crypto.Keyring.load(keyring_path).with_new_active_key()
    keyring.save(keyring_path)
    crypto.cipher().refresh(force=True)
    return keyring.active_id


def _batches(database: Database, spec: EncryptedColumns, size: int) -> Iterator[Sequence[Any]]:
    table = spec.table
    cols = [table.c.id] + [table.c[name] for name in spec.db_columns]
    last = None
    while True:
        stmt = select(*cols).order_by(table.c.id).limit(size)
        if last is not None:
            stmt = stmt.where(table.c.id > last)
        with database.unit_of_work(write=False) as session:
            rows = session.execute(stmt).all()
        if not rows:
            return
        last = rows[-1][0]
        yield rows


def reencrypt_all(
    database: Database, batch_size: int = 2000,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    cipher = crypto.cipher()
    cipher.refresh(force=True)
    active = cipher.active_id
    specs = encrypted_columns()
    with database.unit_of_work(write=False) as session:
        total = sum(session.scalar(select(func.count()).select_from(s.table)) or 0 for s in specs)
    done = 0
    counts: dict[str, int] = {}
    for spec in specs:
        table = spec.table
        changed = 0
        for rows in _batches(database, spec, 10 if spec.binary else batch_size):
            for name, stored in zip(spec.columns, spec.db_columns, strict=True):
                column = table.c[stored]
                params = []
                for row in rows:
                    blob = row._mapping[stored]
                    if blob is None or cipher.key_id_of(blob) == active:
                        continue
                    aad = crypto.aad_for(table.name, name, row.id)
                    params.append({"row_id": row.id, "old": blob,
                                   "new": cipher.encrypt_bytes(cipher.decrypt_bytes(blob, aad), aad)})
                if params:
                    stmt = (
                        update(table)
                        .where(and_(table.c.id == bindparam("row_id"), column == bindparam("old")))
                        .values({stored: bindparam("new")})
                    )
                    with database.unit_of_work() as session:
                        session.connection().execute(stmt, params)
                    changed += len(params)
            done += len(rows)
            if progress:
                progress(done, total)
        counts[table.name] = changed
    return counts
