"""Recurring jobs of agency vetting, run by ``agency-portal jobs run``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from portal.agencies.expiry import run_watch
from portal.jobs import scheduled


@scheduled("expiry_watch")
def expiry_watch(session: Session) -> dict[str, Any]:
    """Alerts, reminders and placement holds for licences, certificates, due diligence and
    contracts (see ``portal.agencies.expiry``); idempotent."""
    return run_watch(session)
