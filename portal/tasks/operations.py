"""Creating tasks and reporting their progress.

Progress is written in its own short transactions (``progress``), separate from the
task's work, so a page polling the task sees it move while the work is still running.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal import clock
from portal.db import Database
from portal.errors import DomainError, NotFound
from portal.security.access import AGENCY_ROLES
from portal.tasks.models import TaskRecord

log = logging.getLogger(__name__)


def create(session: Session, actor: Any, kind: str, params: dict[str, Any], total: int = 0) -> TaskRecord:
    task = TaskRecord(
        id=uuid.uuid4(), kind=kind, status="queued", params=params, total=total,
        created_by=getattr(actor, "id", None), agency_id=getattr(actor, "agency_id", None),
        created_at=clock.now(),
    )
    session.add(task)
    session.flush()
    return task


def get_for(session: Session, actor: Any, task_id: uuid.UUID) -> TaskRecord:
    """A task is visible to whoever started it, and to bank roles; never across agencies."""
    task = session.get(TaskRecord, task_id)
    if task is None:
        raise NotFound("task.not_found", "no such task")
    if actor.role in AGENCY_ROLES and task.created_by != actor.id:
        raise NotFound("task.not_found", "no such task")
    return task


def recent(session: Session, actor: Any, kind: str | None = None, limit: int = 10) -> list[TaskRecord]:
    stmt = select(TaskRecord).order_by(TaskRecord.created_at.desc()).limit(limit)
    if kind:
        stmt = stmt.where(TaskRecord.kind == kind)
    if actor.role in AGENCY_ROLES:
        stmt = stmt.where(TaskRecord.created_by == actor.id)
    return list(session.scalars(stmt))


class Progress:
    """Writes a task's progress through its own sessions (never the work's transaction)."""

    def __init__(self, database: Database, task_id: uuid.UUID) -> None:
        self.database = database
        self.task_id = task_id

    def _set(self, **values: Any) -> None:
        with self.database.unit_of_work() as session:
            session.execute(update(TaskRecord).where(TaskRecord.id == self.task_id).values(**values))

    def start(self, total: int = 0, message: str = "") -> None:
        self._set(status="running", started_at=clock.now(), total=total, message=message)

    def update(self, done: int, total: int | None = None, message: str | None = None) -> None:
        values: dict[str, Any] = {"done": done}
        if total is not None:
            values["total"] = total
        if message is not None:
            values["message"] = message
        self._set(**values)

    def finish(self, result: dict[str, Any], message: str = "") -> None:
        self._set(status="done", finished_at=clock.now(), result=result, message=message)

    def fail(self, message: str, result: dict[str, Any] | None = None) -> None:
        self._set(status="failed", finished_at=clock.now(), message=message, result=result)


def run_guarded(progress: Progress, work: Callable[[], dict[str, Any]], *, failed_code: str,
                failed_message: Any) -> dict[str, Any]:
    """Run a task's ``work`` (which finishes its own progress). A refusal fails the task
    with the refusal's message; anything unexpected fails it with ``failed_message`` and
    goes to the log: a task is never left "running", and a user never sees internals (a
    database error can quote a row of debtor data)."""
    try:
        return work()
    except DomainError as exc:
        progress.fail(str(exc.message))
        return {"error": exc.code}
    except Exception:
        log.exception("task %s failed", progress.task_id)
        progress.fail(str(failed_message))
        return {"error": failed_code}
