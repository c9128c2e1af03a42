"""The expiry watch (DOMAIN.md §1): licences, certificates, due diligence and contracts.

For a subject expiring on day E, with policy ``alert`` days, ``every`` days and ``grace``
days: the first alert is raised on E - alert, a reminder every ``every`` days after that
until expiry; the day after expiry starts the overdue notices (their own sequence, from
``OVERDUE_BASE``: E + 1, then every ``every`` days through the grace period), and from
E + grace + 1 the agency is held from new placements. Alerts are rows keyed (agency, subject, E, sequence): running the watch twice,
or on two hosts at once, inserts nothing new; a missed day is caught up (the sequence due
today is computed, not counted). A renewed subject has a new E and starts afresh; when no
subject is past its grace any more, a hold the watch set is released. A contract is
watched through ``queries.contract_to_watch``: the end of its cover, renewals included.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import CursorResult, Table, and_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

from audit.log import SystemActor, record
from portal import clock
from portal.agencies.models import (
    ACTIVE,
    APPROVED,
    CONTRACT_SIGNED,
    SUSPENDED,
    Agency,
    AgencyDocument,
    Contract,
    ExpiryAlert,
)
from portal.agencies.queries import contract_to_watch
from portal.policies.operations import value as policy

WATCHED_STATES = (APPROVED, CONTRACT_SIGNED, ACTIVE, SUSPENDED)
HOLD_MARK = "expiry_watch:"  # prefix of placement_hold_reason for holds this watch owns
# Overdue notices count from here, apart from the alert and reminders before expiry (so the
# first overdue notice is due the day after expiry, not whenever the reminder cycle says).
OVERDUE_BASE = 1000
HOLD_SEQUENCE = -1


@dataclass(frozen=True)
class Expiring:
    agency_id: uuid.UUID
    agency_name: str
    subject: str
    label: str
    expires_on: date


@dataclass(frozen=True)
class Rules:
    alert: int
    every: int
    grace: int

    @classmethod
    def load(cls, session: Session) -> Rules:
        return cls(int(policy(session, "expiry.alert_days_before")),
                   max(1, int(policy(session, "expiry.reminder_every_days"))),
                   int(policy(session, "expiry.grace_days")))

    def stage(self, expires_on: date, today: date) -> tuple[int, str] | None:
        """(sequence, kind) due on ``today``; None before the first alert."""
        days_left = (expires_on - today).days
        if days_left > self.alert:
            return None
        if days_left < -self.grace:
            return (HOLD_SEQUENCE, "hold")
        if days_left < 0:
            return (OVERDUE_BASE + (-days_left - 1) // self.every, "overdue")
        sequence = (self.alert - days_left) // self.every
        return (sequence, "alert" if sequence == 0 else "reminder")


def watched(session: Session) -> list[Expiring]:
    """Every dated subject of every agency the bank still works with (one query each)."""
    valid_days = int(policy(session, "onboarding.due_diligence_valid_days"))
    live = Agency.status.in_(WATCHED_STATES)
    out: list[Expiring] = []
    for aid, name, expires in session.execute(
            select(Agency.id, Agency.name, Agency.licence_expires_on)
            .where(live, Agency.licence_expires_on.is_not(None))):
        if expires is not None:
            out.append(Expiring(aid, name, "licence", str(_l("Business licence")), expires))
    for aid, name, done in session.execute(
            select(Agency.id, Agency.name, Agency.due_diligence_on)
            .where(live, Agency.due_diligence_on.is_not(None))):
        if done is not None:
            out.append(Expiring(aid, name, "due_diligence", str(_l("Due diligence")),
                                done + timedelta(days=valid_days)))
    by_agency: dict[uuid.UUID, tuple[str, list[Contract]]] = {}
    for aid, name, contract in session.execute(
            select(Agency.id, Agency.name, Contract)
            .join(Contract, and_(Contract.agency_id == Agency.id, Contract.status == "signed")).where(live)):
        by_agency.setdefault(aid, (name, []))[1].append(contract)
    today = clock.today()
    for aid, (name, contracts) in by_agency.items():
        # A renewal taking over keeps the cover going: only the end of the cover is watched.
        watched_contract = contract_to_watch(contracts, today)
        if watched_contract is not None:
            out.append(Expiring(aid, name, f"contract:{watched_contract.id}",
                                str(_l("Contract %(ref)s", ref=watched_contract.reference)), watched_contract.ends_on))
    for aid, name, did, title, expires in session.execute(
            select(Agency.id, Agency.name, AgencyDocument.id, AgencyDocument.title, AgencyDocument.expires_on)
            .join(AgencyDocument, and_(AgencyDocument.agency_id == Agency.id, AgencyDocument.is_current.is_(True),
                                       AgencyDocument.expires_on.is_not(None),
                                       # the licence is watched above, from the date the bank verified
                                       AgencyDocument.kind != "licence")).where(live)):
        if expires is not None:
            out.append(Expiring(aid, name, f"document:{did}", title, expires))
    return sorted(out, key=lambda e: (e.expires_on, e.agency_name, e.subject))


def _insert_ignoring_duplicates(session: Session, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    maker = pg_insert if dialect == "postgresql" else sqlite_insert
    table = cast(Table, ExpiryAlert.__table__)
    # One multi-row INSERT; RETURNING gives back only the rows that were new, so the count
    # is exact on both databases even when another host inserted the same alerts first.
    stmt = maker(table).on_conflict_do_nothing(
        index_elements=["agency_id", "subject", "expires_on", "sequence"]).returning(table.c.id)
    return len(session.connection().execute(stmt, rows).all())


def run_watch(session: Session, actor: Any | None = None) -> dict[str, Any]:
    """One pass of the watch; safe to repeat (see module doc). Returns counts."""
    actor = actor or SystemActor("expiry_watch")
    rules = Rules.load(session)
    today = clock.today()
    now = clock.now()
    rows: list[dict[str, Any]] = []
    overdue: dict[uuid.UUID, list[str]] = {}
    for e in watched(session):
        stage = rules.stage(e.expires_on, today)
        if stage is None:
            continue
        sequence, kind = stage
        if kind == "hold":
            overdue.setdefault(e.agency_id, []).append(f"{e.label} ({e.expires_on.isoformat()})")
        rows.append({"id": uuid.uuid4(), "agency_id": e.agency_id, "subject": e.subject, "label": e.label[:200],
                     "expires_on": e.expires_on, "sequence": sequence, "kind": kind, "raised_on": today,
                     "created_at": now})
    raised = _insert_ignoring_duplicates(session, rows)

    held: list[uuid.UUID] = []
    for agency_id, what in overdue.items():
        reason = HOLD_MARK + " " + str(_l("past the grace period: %(what)s", what="; ".join(what)))
        # The WHERE makes it idempotent and safe against a concurrent run: only the run that
        # flips the flag records it.
        result = cast(CursorResult[Any], session.execute(update(Agency).where(Agency.id == agency_id, Agency.placement_hold.is_(False))
                                 .values(placement_hold=True, placement_hold_reason=reason, updated_at=now)))
        if result.rowcount:
            held.append(agency_id)
            record(session, actor, "agency.placement_hold", "agency", agency_id,
                   before={"placement_hold": False}, after={"placement_hold": True}, reason=reason)
    released: list[uuid.UUID] = []
    stale = select(Agency.id).where(Agency.placement_hold.is_(True), Agency.placement_hold_reason.like(HOLD_MARK + "%"),
                                    Agency.status.in_(WATCHED_STATES))
    for agency_id in session.scalars(stale).all():
        if agency_id in overdue:
            continue
        # The same predicates again in the UPDATE: a concurrent run (or a person who set
        # another hold meanwhile) makes this a no-op, and only a real release is recorded.
        result = cast(CursorResult[Any], session.execute(
            update(Agency).where(Agency.id == agency_id, Agency.placement_hold.is_(True),
                                 Agency.placement_hold_reason.like(HOLD_MARK + "%"))
            .values(placement_hold=False, placement_hold_reason=None, updated_at=now)))
        if not result.rowcount:
            continue
        released.append(agency_id)
        record(session, actor, "agency.placement_hold_released", "agency", agency_id,
               before={"placement_hold": True}, after={"placement_hold": False},
               reason="expiry_watch: nothing past its grace period")
    session.expire_all()
    return {"alerts": raised, "held": len(held), "released": len(released)}


def alerts_for(session: Session, agency_id: uuid.UUID | None = None, limit: int = 200) -> list[ExpiryAlert]:
    stmt = select(ExpiryAlert).options(selectinload(ExpiryAlert.agency)).order_by(ExpiryAlert.raised_on.desc(), ExpiryAlert.created_at.desc()).limit(limit)
    if agency_id is not None:
        stmt = stmt.where(ExpiryAlert.agency_id == agency_id)
    return list(session.scalars(stmt))
