"""The expiry watch around its boundaries: first alert 30 days before, reminders every 7
days, 30 days of grace, then a placement hold; idempotent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from portal import clock
from portal.agencies import operations as ops
from portal.agencies.expiry import OVERDUE_BASE, Rules, run_watch
from portal.agencies.models import ExpiryAlert
from portal.jobs import load_jobs
from tests.agencies import builders as b


def _licence_alerts(db, agency):
    return db.scalars(select(ExpiryAlert).where(ExpiryAlert.agency_id == agency.id,
                                                ExpiryAlert.subject == "licence")
                      .order_by(ExpiryAlert.raised_on)).all()


def _at(day) -> None:
    clock.freeze(datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC))


def test_alert_reminders_grace_then_hold(db) -> None:
    cast = b.Cast(db)
    agency = b.active(db, cast)
    expires = clock.today() + timedelta(days=60)
    agency.licence_expires_on = expires
    db.flush()

    _at(expires - timedelta(days=31))
    run_watch(db)
    assert _licence_alerts(db, agency) == []

    _at(expires - timedelta(days=30))
    run_watch(db)
    alerts = _licence_alerts(db, agency)
    assert [(a.sequence, a.kind) for a in alerts] == [(0, "alert")]

    _at(expires - timedelta(days=24))  # 6 days later: no reminder yet
    run_watch(db)
    assert len(_licence_alerts(db, agency)) == 1
    _at(expires - timedelta(days=23))  # 7 days after the alert
    run_watch(db)
    assert [a.kind for a in _licence_alerts(db, agency)] == ["alert", "reminder"]

    _at(expires)  # expiry day: the reminder cycle (E-30, -23, -16, -9, -2) raised E-2's already
    run_watch(db)
    assert [a.kind for a in _licence_alerts(db, agency)].count("overdue") == 0
    _at(expires + timedelta(days=1))  # the first overdue notice is the day after expiry
    run_watch(db)
    assert [(a.sequence, a.kind) for a in _licence_alerts(db, agency)][-1] == (OVERDUE_BASE, "overdue")
    _at(expires + timedelta(days=7))
    run_watch(db)
    assert [a.kind for a in _licence_alerts(db, agency)].count("overdue") == 1
    _at(expires + timedelta(days=8))  # then every 7 days through the grace period
    run_watch(db)
    assert [a.kind for a in _licence_alerts(db, agency)].count("overdue") == 2

    _at(expires + timedelta(days=30))  # last day of grace: still no hold
    run_watch(db)
    db.refresh(agency)
    assert not agency.placement_hold
    assert _licence_alerts(db, agency)[-1].kind == "overdue"

    _at(expires + timedelta(days=31))
    result = run_watch(db)
    db.refresh(agency)
    assert agency.placement_hold and "Business licence" in (agency.placement_hold_reason or "")
    assert result["held"] == 1


def test_running_twice_changes_nothing_the_second_time(db) -> None:
    cast = b.Cast(db)
    agency = b.active(db, cast)
    agency.licence_expires_on = clock.today() - timedelta(days=40)
    db.flush()
    first = run_watch(db)
    second = run_watch(db)
    assert first["held"] >= 1 and second == {"alerts": 0, "held": 0, "released": 0}


def test_a_missed_day_is_caught_up(db) -> None:
    cast = b.Cast(db)
    agency = b.active(db, cast)
    agency.licence_expires_on = clock.today() + timedelta(days=10)  # the 30-day alert was missed
    db.flush()
    run_watch(db)
    assert [(a.sequence, a.kind) for a in _licence_alerts(db, agency)] == [(2, "reminder")]


def test_renewal_releases_the_hold_the_watch_set(db) -> None:
    cast = b.Cast(db)
    agency = b.active(db, cast)
    agency.licence_expires_on = clock.today() - timedelta(days=31)  # time passed; the licence lapsed
    db.flush()
    run_watch(db)
    db.refresh(agency)
    assert agency.placement_hold
    ops.renew_licence(db, cast.vm, agency.id, "310000000999999", clock.today() + timedelta(days=700))
    assert run_watch(db)["released"] == 1
    db.refresh(agency)
    assert not agency.placement_hold


def test_the_overdue_notices_have_their_own_sequence() -> None:
    from datetime import date

    rules = Rules(alert=30, every=7, grace=30)
    e = date(2027, 3, 1)
    stages = {d: rules.stage(e, e + timedelta(days=d)) for d in range(-31, 33)}
    assert stages[-31] is None and stages[-30] == (0, "alert") and stages[-2] == (4, "reminder")
    assert stages[0] == (4, "reminder")
    assert stages[1] == (OVERDUE_BASE, "overdue") and stages[7] == (OVERDUE_BASE, "overdue")
    assert stages[8] == (OVERDUE_BASE + 1, "overdue") and stages[30] == (OVERDUE_BASE + 4, "overdue")
    assert stages[31] == (-1, "hold")


def test_releasing_a_hold_changes_only_a_hold_the_watch_still_owns(db, monkeypatch) -> None:
    """Between the watch reading its holds and releasing them, a person (or another run)
    may have changed the hold: the release must then do nothing and record nothing."""
    from sqlalchemy import update

    from audit.models import AuditEntry
    from portal.agencies.models import Agency

    cast = b.Cast(db)
    agency = b.active(db, cast)
    agency.licence_expires_on = clock.today() - timedelta(days=31)
    db.flush()
    run_watch(db)
    ops.renew_licence(db, cast.vm, agency.id, "310000000999999", clock.today() + timedelta(days=700))
    real = db.scalars

    def scalars(statement, *args, **kwargs):
        result = real(statement, *args, **kwargs)
        if "placement_hold_reason LIKE" in str(statement):
            rows = result.all()
            db.execute(update(Agency).where(Agency.id == agency.id)
                       .values(placement_hold_reason="manual: complaint investigation"))
            return _Rows(rows)
        return result

    monkeypatch.setattr(db, "scalars", scalars)
    assert run_watch(db)["released"] == 0
    monkeypatch.undo()
    db.refresh(agency)
    assert agency.placement_hold and agency.placement_hold_reason == "manual: complaint investigation"
    assert db.scalars(select(AuditEntry).where(AuditEntry.action == "agency.placement_hold_released")).first() is None


class _Rows:
    def __init__(self, rows):
        self.rows = rows

    def all(self):
        return self.rows


def test_contracts_and_due_diligence_are_watched(db) -> None:
    cast = b.Cast(db)
    agency = b.active(db, cast)
    _at(clock.today() + timedelta(days=365 - 30))  # due diligence (365 days) and contract both due
    run_watch(db)
    subjects = {a.subject.split(":")[0] for a in db.scalars(
        select(ExpiryAlert).where(ExpiryAlert.agency_id == agency.id))}
    assert {"due_diligence", "contract"} <= subjects


def test_the_job_is_registered_for_the_scheduler() -> None:
    assert "expiry_watch" in load_jobs()
