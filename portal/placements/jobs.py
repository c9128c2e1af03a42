"""Recurring placement jobs: recall on term expiry (idempotent: a second run the same day
finds nothing left to recall)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from portal.jobs import scheduled
from portal.placements.recall import recall_expired


@scheduled("term_recall")
def term_recall(session: Session) -> dict[str, Any]:
    from portal.cli import system_actor

    return {"recalled": recall_expired(session, system_actor("job term_recall"))}
