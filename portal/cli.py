"""The ``agency-portal`` command. Capabilities add their own sub-commands in a ``cli``
module with ``register(main)``: cases import, ...

Every command runs inside the application (settings, keyring, translations) and does its
work through operations, as the pages do, acting as the system or as a named user.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

console = Console()


def progress_bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), console=console)


class AppContext:
    def __init__(self) -> None:
        self._app: Any = None

    @property
    def app(self) -> Any:
        if self._app is None:
            from portal import create_app

            self._app = create_app()
            self._app.app_context().push()
        return self._app

    @property
    def database(self) -> Any:
        return self.app.extensions["portal.db"]


pass_ctx = click.make_pass_decorator(AppContext, ensure=True)


@click.group()
def main() -> None:
    """agency-portal: the bank's outsourced-collection portal."""


# -- database ----------------------------------------------------------------------------
@main.group()
def db() -> None:
    """Database schema."""


def alembic_config() -> Any:
    from alembic.config import Config

    from portal.config import PROJECT_ROOT

    cfg = Config()
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    return cfg


def upgrade_database(database: Any) -> dict[str, int]:
    """Migrate to the newest schema, then write reference rows (policies, checklist)."""
    from alembic import command

    from portal.schema import ensure_reference_data

    cfg = alembic_config()
    with database.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")
    with database.unit_of_work() as session:
        return ensure_reference_data(session)


@db.command("upgrade")
@pass_ctx
def db_upgrade(ctx: AppContext) -> None:
    """Apply every migration (Alembic) and write default policy rows."""
    added = upgrade_database(ctx.database)
    written = ", ".join(f"{n} {what}" for what, n in added.items())
    console.print(f"[green]database at the newest schema[/]; default rows written: {written}")


# -- keys --------------------------------------------------------------------------------
@main.group()
def keys() -> None:
    """The field-encryption keyring."""


@keys.command("init")
def keys_init() -> None:
    """Create the keyring file (PORTAL_KEYRING) if there is none."""
    from portal.config import Settings
    from portal.security.crypto import Keyring

    path = Settings.from_env().keyring_path
    if path.exists():
        console.print(f"keyring already at {path}")
        return
    Keyring.generate().save(path)
    console.print(f"[green]keyring created at {path}[/] (mode 600; back it up apart from the database)")


@main.command("rotate-keys")
@click.option("--batch-size", default=2000, show_default=True)
@click.option("--no-new-key", is_flag=True, help="Only re-encrypt what is not under the active key.")
@pass_ctx
def rotate_keys(ctx: AppContext, batch_size: int, no_new_key: bool) -> None:
    """Add a new active key, then re-encrypt every field in batches while the portal runs."""
    from audit.log import record
    from portal.security import rotation

    app = ctx.app
    if not no_new_key:
        key_id = rotation.add_active_key(app.extensions["portal.settings"].keyring_path)
        console.print(f"new active key [bold]{key_id}[/]")
        with ctx.database.unit_of_work() as session:
            record(session, system_actor("cli rotate-keys"), "keys.active_key_added", "keyring", key_id)
    with progress_bar() as bar:
        task = bar.add_task("re-encrypting", total=None)

        def report(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        counts = rotation.reencrypt_all(ctx.database, batch_size=batch_size, progress=report)
    with ctx.database.unit_of_work() as session:
        record(session, system_actor("cli rotate-keys"), "keys.reencrypted", "keyring",
               crypto_active_id(), after={"rows_reencrypted": counts})
    console.print(f"[green]re-encrypted[/] {counts}")


def crypto_active_id() -> str:
    from portal.security import crypto

    return crypto.cipher().active_id


# -- users -------------------------------------------------------------------------------
@main.command("create-user")
@click.option("--username", required=True)
@click.option("--role", required=True)
@click.option("--name", "display_name", default="")
@click.option("--agency", "agency_name", default=None, help="Agency name, for agency roles.")
@click.password_option()
@pass_ctx
def create_user(ctx: AppContext, username: str, role: str, display_name: str,
                agency_name: str | None, password: str) -> None:
    """Create a user (the first admin, or anybody) as the system."""
    from sqlalchemy import select

    from audit.log import SystemActor
    from portal.agencies.models import Agency
    from portal.errors import DomainError
    from portal.identity.operations import create_user as create
    from portal.security.access import SYSTEM

    system = _system_actor(SYSTEM, SystemActor("cli create-user"))
    with ctx.database.unit_of_work() as session:
        agency_id = None
        if agency_name:
            agency_id = session.scalars(select(Agency.id).where(Agency.name == agency_name)).first()
            if agency_id is None:
                raise click.ClickException(f"no agency named {agency_name!r}")
        try:
            create(session, system, username=username, display_name=display_name or username,
                   role=role, password=password, agency_id=agency_id)
        except DomainError as exc:
            raise click.ClickException(str(exc)) from exc
    console.print(f"[green]created[/] {username} ({role})")


def _system_actor(role: str, base: Any) -> Any:
    class _System:
        def __init__(self) -> None:
            self.role = role
            self.agency_id = None
            self.id = None
            self.audit_id = base.audit_id
            self.audit_label = base.audit_label

    return _System()


def system_actor(label: str) -> Any:
    """The portal acting on its own (CLI, jobs): may do anything, audited by that name."""
    from audit.log import SystemActor
    from portal.security.access import SYSTEM

    return _system_actor(SYSTEM, SystemActor(label))


# -- audit -------------------------------------------------------------------------------
@main.command("verify-audit")
@pass_ctx
def verify_audit(ctx: AppContext) -> None:
    """Verify the audit log's hash chain end to end; exit 1 naming the first bad entry."""
    from audit.verify import verify_chain

    with progress_bar() as bar:
        task = bar.add_task("verifying", total=None)
        with ctx.database.unit_of_work(write=False) as session:
            verdict = verify_chain(session, lambda d, t: bar.update(task, completed=d, total=t))
    if verdict.ok:
        console.print(f"[green]chain intact[/]: {verdict.checked} entries, head {verdict.head_seq} "
                      f"{verdict.head_hash}")
        return
    console.print(f"[red]chain broken at entry {verdict.first_bad_seq}[/]: {verdict.problem}")
    sys.exit(1)


# -- jobs --------------------------------------------------------------------------------
@main.group()
def jobs() -> None:
    """Recurring jobs (expiry watch, term recall, ...)."""


@jobs.command("run")
@click.argument("names", nargs=-1)
@pass_ctx
def jobs_run(ctx: AppContext, names: tuple[str, ...]) -> None:
    """Run every recurring job once (safe from cron on several hosts at once)."""
    from portal.jobs import run_all

    results = run_all(ctx.database, list(names) or None)
    for name, result in results.items():
        console.print(f"[bold]{name}[/]: {result}")
    if any(isinstance(r, dict) and "error" in r for r in results.values()):
        sys.exit(1)


# -- demo --------------------------------------------------------------------------------
@main.command("seed-demo")
@click.option("--cases", default=200, show_default=True)
@click.option("--logins-file", type=click.Path(path_type=Path), default=None)
@pass_ctx
def seed_demo(ctx: AppContext, cases: int, logins_file: Path | None) -> None:
    """Load demo data (users of every role, agencies, cases, placements) once."""
    from portal.demo import seed

    with ctx.database.unit_of_work() as session:
        logins = seed(session, cases=cases)
    if logins is None:
        console.print("demo data already loaded")
    if logins_file is not None and logins:
        # `make serve` prints them from this file each time the portal starts.
        logins_file.write_text("\n".join(f"{u}\t{p}\t{r}" for u, p, r in logins) + "\n")
        console.print(f"demo logins written to {logins_file}")


def print_logins(logins_file: Path | None) -> None:
    from rich.table import Table

    if logins_file is None or not logins_file.exists():
        return
    table = Table(title="Demo logins (http://127.0.0.1:5000)")
    for column in ("username", "password", "role"):
        table.add_column(column)
    for line in logins_file.read_text().splitlines():
        table.add_row(*line.split("\t"))
    console.print(table)


@main.command("demo-logins")
@click.argument("logins_file", type=click.Path(path_type=Path))
def demo_logins(logins_file: Path) -> None:
    """Print the demo logins again."""
    print_logins(logins_file)


def _register_capability_commands() -> None:
    import portal

    for module in pkgutil.iter_modules(portal.__path__):
        name = f"portal.{module.name}.cli"
        if module.ispkg and importlib.util.find_spec(name) is not None:
            importlib.import_module(name).register(main)


_register_capability_commands()
