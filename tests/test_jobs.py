"""Recurring jobs run as `agency-portal jobs run` runs them: in the application, with no
web request (translations must not need one), each once under its lease."""

from __future__ import annotations

from datetime import timedelta

from portal import clock
from portal.jobs import load_jobs, run_all
from tests.factories import make_agency, make_cases, place


def test_every_job_runs_outside_a_web_request_and_a_second_run_changes_nothing(app, committed_db):
    with committed_db.unit_of_work() as session:
        agency = make_agency(session)
        agency.licence_expires_on = clock.today() + timedelta(days=10)  # an alert to write
        case, = make_cases(session)
        place(session, [case], agency, term_days=1)
    clock.advance(timedelta(days=2))  # the placement's term is over: term recall has work
    with app.app_context():
        first = run_all(committed_db)
        second = run_all(committed_db)
    assert set(first) == set(load_jobs()) >= {"expiry_watch", "refresh_dpd", "term_recall", "payment_matching"}
    errors = {name: r for name, r in first.items() if "error" in r}
    assert not errors, errors
    assert not any("error" in r for r in second.values()), second
    assert first["expiry_watch"]["alerts"] == 1 and second["expiry_watch"]["alerts"] == 0
    assert first["term_recall"]["recalled"] == 1 and second["term_recall"]["recalled"] == 0
