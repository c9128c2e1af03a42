"""The expiry watch around its boundaries: first alert 30 days before, reminders every 7
days, 30 days of grace, then a placement hold; idempotent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from portal import clock
from portal.agencies.expiry import run_watch
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
    agency.licence_expires_on = clock.today() - timedelta(days=31)
    db.flush()
    run_watch(db)
    db.refresh(agency)
    assert agency.placement_hold
    agency.licence_expires_on = clock.today() + timedelta(days=700)
    db.flush()
    assert run_watch(db)["released"] == 1
    db.refresh(agency)
    assert not agency.placement_hold


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
