"""Database objects the audit log needs beyond its tables: the genesis head row and the
append-only triggers. Used by the first migration and by the test database."""

from __future__ import annotations

from sqlalchemy import LargeBinary, bindparam, text
from sqlalchemy.engine import Connection

GENESIS = b"\x00" * 32


def install(connection: Connection) -> None:
    connection.execute(
        text("INSERT INTO audit_head (id, seq, entry_hash) VALUES (1, 0, :h)").bindparams(
            bindparam("h", GENESIS, type_=LargeBinary)
        )
    )
    # Append-only in the database too: nobody, the portal included, updates or deletes an
    # entry. Whoever owns the database can drop these; the hash chain catches them then.
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(
            "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$"
        )
        connection.exec_driver_sql(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            connection.exec_driver_sql(
                f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )


def drop_protection(connection: Connection) -> None:
    """What an attacker with the database owner's rights does first (tests use it)."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
    else:
        connection.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_update")
        connection.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_delete")
