"""Background imports: a large case or ledger file is imported by the queue's consumer,
writing progress to its TaskRecord (shown on /tasks/<id>). Huey tasks register by module
name, so the consumer must import this module (``portal.jobs.load_jobs`` does).

Recurring: ``refresh_dpd`` moves every open case's days past due and bucket on to today."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.cases.imports import ImportRejected, import_cases, import_ledger, record_refusal
from portal.cases.operations import refresh_dpd as refresh_dpd_of_open_cases
from portal.jobs import database, huey, in_app_context, scheduled
from portal.tasks.operations import Progress, run_guarded

IMPORTERS = {"cases": import_cases, "ledger": import_ledger}


def count_lines(path: Path) -> int:
    """A cheap total for the progress bar (CSV data lines; XLSX reports as it goes)."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return 0
    lines = 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            lines += chunk.count(b"\n")
    return max(lines - 1, 0)


def run_import(task_id: uuid.UUID, kind: str, path: Path, filename: str, user_id: uuid.UUID | None) -> dict[str, Any]:
    """Import ``path`` in one transaction; progress in short transactions of its own."""
    from portal.identity.models import User

    db = database()
    progress = Progress(db, task_id)

    def work() -> dict[str, Any]:
        try:
            with db.unit_of_work() as session:
                actor = session.get(User, user_id)
                result = IMPORTERS[kind](session, actor, path, filename,
                                         progress=lambda done, _m: progress.update(done))
                counts = result.counts()
        except ImportRejected as exc:
            with db.unit_of_work() as session:
                run = record_refusal(session, session.get(User, user_id), exc.result, filename)
                refused = {"import_id": str(run.id), **exc.result.counts()}
            progress.fail(str(exc.message), refused)
            return refused
        progress.finish(counts, filename)
        return counts

    try:
        progress.start(count_lines(path), filename)
        return run_guarded(progress, work, failed_code="import.failed", failed_message=_l(
            "The import failed unexpectedly; nothing was imported. The error was logged; try again or ask an "
            "administrator."))
    finally:
        # The uploaded file holds debtor PII in clear: it never outlives the task.
        path.unlink(missing_ok=True)


@huey.task()
@in_app_context
def import_in_background(task_id: str, kind: str, path: str, filename: str, user_id: str | None) -> dict[str, Any]:
    return run_import(uuid.UUID(task_id), kind, Path(path), filename, uuid.UUID(user_id) if user_id else None)


@scheduled("refresh_dpd")
def refresh_dpd(session: Session) -> dict[str, Any]:
    from portal.cli import system_actor

    return refresh_dpd_of_open_cases(session, system_actor("job refresh_dpd"))
