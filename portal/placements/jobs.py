"""Recurring placement jobs: recall on term expiry (idempotent: a second run the same day
finds nothing left to recall). Days past due are brought to today first (the cases job
``refresh_dpd``, idempotent), so whatever term recall hands back in-house carries today's
bucket, whichever order the scheduler runs the jobs in."""

from __future__ import annotations

import uuid
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.cases.operations import refresh_dpd
from portal.jobs import database, huey, in_app_context, scheduled
from portal.placements.operations import release
from portal.placements.recall import recall_expired
from portal.placements.reconciliation import match_payments
from portal.tasks.operations import Progress, run_guarded


@scheduled("term_recall")
def term_recall(session: Session) -> dict[str, Any]:
    from portal.cli import system_actor

    actor = system_actor("job term_recall")
    refreshed = refresh_dpd(session, actor)
    return {"dpd_refreshed": refreshed["updated"], "recalled": recall_expired(session, actor)}


@scheduled("payment_matching")
def payment_matching(session: Session) -> dict[str, Any]:
    """Pairs what the imports and reports left unpaired (e.g. after the match window was
    widened); idempotent."""
    return {"matched": match_payments(session)}


def run_release(task_id: uuid.UUID, batch_id: uuid.UUID, user_id: uuid.UUID, digest: str) -> dict[str, Any]:
    """Release a large batch in one transaction of the consumer; the task shows the outcome
    (the batch row's lock and status make a second, concurrent run a refusal)."""
    from portal.identity.models import User

    db = database()
    progress = Progress(db, task_id)
    progress.start(0, "")

    def work() -> dict[str, Any]:
        with db.unit_of_work() as session:
            counts = release(session, session.get(User, user_id), batch_id, digest=digest)
        progress.finish(counts, str(_l("%(placed)s cases placed.", placed=counts["placed"])))
        return counts

    return run_guarded(progress, work, failed_code="release.failed", failed_message=_l(
        "The release failed unexpectedly; nothing was placed. The error was logged; try again or ask an "
        "administrator."))


@huey.task()
@in_app_context
def release_in_background(task_id: str, batch_id: str, user_id: str, digest: str) -> dict[str, Any]:
    return run_release(uuid.UUID(task_id), uuid.UUID(batch_id), uuid.UUID(user_id), digest)
