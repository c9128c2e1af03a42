"""``agency-portal cases import FILE`` and ``agency-portal cases import-ledger FILE``:
the same operations as the import page, acting as the system, with a progress bar."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click


def register(main: click.Group) -> None:
    from portal.cli import AppContext, console, pass_ctx, progress_bar, system_actor

    @main.group()
    def cases() -> None:
        """Cases: imports of case files and of the bank's ledger."""

    def run(ctx: AppContext, kind: str, file: Path) -> None:
        from portal.cases.imports import ImportRejected, import_cases, import_ledger, record_refusal
        from portal.cases.jobs import count_lines
        from portal.errors import DomainError

        importer = import_cases if kind == "cases" else import_ledger
        actor = system_actor(f"cli {kind} import")
        database = ctx.database
        with progress_bar() as bar:
            task = bar.add_task(f"importing {file.name}", total=count_lines(file) or None)

            def report(done: int, _message: str) -> None:
                bar.update(task, completed=done)

            try:
                with database.unit_of_work() as session:
                    result = importer(session, actor, file, file.name, progress=report)
            except ImportRejected as exc:
                with database.unit_of_work() as session:
                    run_ = record_refusal(session, actor, exc.result, file.name)
                bar.stop()
                for row, column, value, reason in (e.as_list() for e in exc.result.errors[:50]):
                    console.print(f"  row {row} [bold]{column}[/] {value!r}: {reason}")
                if exc.result.error_count > 50:
                    console.print(f"  ... {exc.result.error_count - 50} more (import {run_.id})")
                raise click.ClickException(str(exc.message)) from None
            except DomainError as exc:
                raise click.ClickException(str(exc.message)) from None
        counts: dict[str, Any] = result.counts()
        console.print(f"[green]imported[/] {counts['rows']} rows: {counts['inserted']} new, "
                      f"{counts['updated']} updated, {counts['unchanged']} unchanged")

    @cases.command("import")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @pass_ctx
    def import_(ctx: AppContext, file: Path) -> None:
        """Import a case file (CSV UTF-8/GB18030 or XLSX; docs/formats/cases.md)."""
        run(ctx, "cases", file)

    @cases.command("import-ledger")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @pass_ctx
    def import_ledger_(ctx: AppContext, file: Path) -> None:
        """Import the bank's ledger of payments received (docs/formats/ledger.md)."""
        run(ctx, "ledger", file)
