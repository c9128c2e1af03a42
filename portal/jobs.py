"""The task queue (huey) and the schedule of recurring jobs.

* Long work started from a page or the API is a huey task: ``enqueue(...)`` writes a
  TaskRecord and returns at once; a consumer (``huey_consumer portal.jobs.huey``) does the
  work and writes progress. Storage: SQLite beside the demo database, Redis in production
  (``PORTAL_QUEUE_URL=redis://...``); in tests, in memory and immediate.
* Recurring jobs (expiry watch, term recall, ...) register with ``@scheduled``.
  ``agency-portal jobs run`` runs each once under a lease in the database, so cron may
  start it on several hosts at once: one runs each job, the others skip it. Every job is
  idempotent: running it twice in a day changes nothing the second time.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey
from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import clock
from portal.config import INSTANCE_DIR
from portal.db import Database
from portal.tasks.models import JobRun


def _make_huey() -> Huey:
    url = os.environ.get("PORTAL_QUEUE_URL", f"sqlite:///{INSTANCE_DIR / 'queue.db'}")
    if url.startswith("memory"):
        return MemoryHuey("agency-portal", immediate=True)
    if url.startswith("redis"):
        return RedisHuey("agency-portal", url=url)
    path = url.removeprefix("sqlite:///")
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    return SqliteHuey("agency-portal", filename=path)


huey = _make_huey()


def database() -> Database:
    """The database a task uses: the running app's if there is one (tests), else one made
    from the environment (the consumer process)."""
    from flask import current_app, has_app_context

    if has_app_context():
        return current_app.extensions["portal.db"]
    return _consumer_app().extensions["portal.db"]


_app_cache: dict[str, Any] = {}


def _consumer_app() -> Any:
    if "app" not in _app_cache:
        from portal import create_app

        _app_cache["app"] = create_app()
    return _app_cache["app"]


def in_app_context(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run a task inside an application context (translations, settings), creating the
    app once per consumer process."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from flask import has_app_context

        if has_app_context():
            return func(*args, **kwargs)
        with _consumer_app().app_context():
            return func(*args, **kwargs)

    return wrapper


# -- recurring jobs ----------------------------------------------------------------------
@dataclass(frozen=True)
class Job:
    name: str
    func: Callable[[Session], dict[str, Any]]
    lease: timedelta


JOBS: dict[str, Job] = {}


def scheduled(name: str, lease_minutes: int = 30) -> Callable[[Callable[[Session], dict[str, Any]]], Callable[[Session], dict[str, Any]]]:
    def register(func: Callable[[Session], dict[str, Any]]) -> Callable[[Session], dict[str, Any]]:
        JOBS[name] = Job(name, func, timedelta(minutes=lease_minutes))
        return func

    return register


def load_jobs() -> dict[str, Job]:
    """Import every capability's ``jobs`` module so its @scheduled jobs register."""
    import importlib
    import pkgutil

    import portal

    for module in pkgutil.iter_modules(portal.__path__):
        name = f"portal.{module.name}.jobs"
        if module.ispkg and importlib.util.find_spec(name) is not None:
            importlib.import_module(name)
    return JOBS


def _take_lease(database: Database, job: Job, holder: str) -> bool:
    now = clock.now()
    with database.unit_of_work() as session:
        try:
            with session.begin_nested():
                session.execute(insert(JobRun).values(name=job.name))
        except IntegrityError:
            pass
        taken = session.execute(  # type: ignore[attr-defined]
            update(JobRun)
            .where(JobRun.name == job.name)
            .where(or_(JobRun.leased_until.is_(None), JobRun.leased_until < now))
            .values(leased_until=now + job.lease, holder=holder, last_started_at=now)
        ).rowcount
    return bool(taken)


def run_all(database: Database, only: list[str] | None = None) -> dict[str, Any]:
    """Run every registered job (or ``only`` these) once, each in its own transaction."""
    holder = f"{socket.gethostname()}:{os.getpid()}"
    results: dict[str, Any] = {}
    for job in load_jobs().values():
        if only and job.name not in only:
            continue
        if not _take_lease(database, job, holder):
            results[job.name] = {"skipped": "another process holds the lease"}
            continue
        try:
            with database.unit_of_work() as session:
                results[job.name] = job.func(session)
        except Exception as exc:  # one failing job must not stop the others
            results[job.name] = {"error": f"{type(exc).__name__}: {exc}"}
        with database.unit_of_work() as session:
            # Only the holder releases: a job that overran its lease must not clear the
            # lease of the host that took over.
            session.execute(
                update(JobRun).where(JobRun.name == job.name, JobRun.holder == holder).values(
                    leased_until=None, last_finished_at=clock.now(), last_result=results[job.name]
                )
            )
    return results


def last_runs(session: Session) -> list[JobRun]:
    return list(session.scalars(select(JobRun).order_by(JobRun.name)))


@huey.periodic_task(__import__("huey").crontab(minute="7", hour="*"))
@in_app_context
def hourly_jobs() -> dict[str, Any]:
    """The consumer runs the schedule every hour; cron may also run `jobs run`."""
    return run_all(database())


# The consumer finds a task by its module: import every capability's jobs module now, so
# tasks enqueued from the web (imports, allocations) are known to the consumer process.
load_jobs()
