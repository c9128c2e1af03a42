"""Alembic environment: the portal's metadata, the connection `agency-portal db upgrade`
hands over (or one from PORTAL_DATABASE_URL when alembic is run directly)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from portal.config import Settings
from portal.schema import load_all_models

target_metadata = load_all_models().metadata
config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url
    engine = engine_from_config({"sqlalchemy.url": url}, prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.begin() as conn:
        _run(conn)


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
