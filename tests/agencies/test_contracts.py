"""Contracts by their dates (a renewal takes over on its start date), keeping the file
current after approval (renewed licence, redone due diligence), and termination with
everything that goes with it (contracts ended, placements recalled, tokens revoked, the
exit register numbered per year)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from audit.models import AuditEntry
from portal import clock
from portal.agencies import lifecycle
from portal.agencies import operations as ops
from portal.agencies.expiry import run_watch
from portal.agencies.models import ACTIVE, Agency, ExpiryAlert
from portal.agencies.queries import contract_in_force, contract_to_watch
from portal.errors import DomainError, InvalidInput, RuleBroken
from portal.placements.models import Placement
from portal.placements.operations import receiving_agencies
from portal.policies.operations import set_value
from tests.agencies import builders as b
from tests.conftest import login, post_form
from tests.factories import make_agency, make_cases, make_user, place


def _renewal(db, cast, agency, starts_in: int, days: int = 365):
    return ops.record_contract(db, cast.vm, agency.id, b.terms(
        db, cast, agency, starts_on=clock.today() + timedelta(days=starts_in),
        ends_on=clock.today() + timedelta(days=starts_in + days)))


# -- the contract in force is chosen by date -----------------------------------------------
def test_a_renewal_signed_ahead_of_time_leaves_the_current_contract_in_force(db) -> None:
    cast = b.Cast(db)
    agency = b.active(db, cast)
    current = lifecycle.current_contract(db, agency)
    assert current is not None
    renewal = _renewal(db, cast, agency, starts_in=365)  # the day after the current one ends
    assert current.status == "signed"
    assert contract_in_force(db, agency.id, clock.today()) == current
    assert agency.id in {a.id for a, _c in receiving_agencies(db)}
    ops.suspend(db, cast.vm, agency.id, "check")
    ops.reactivate(db, cast.approver, agency.id, "checked")  # needs a contract in force today
    assert agency.status == ACTIVE
    assert contract_in_force(db, agency.id, clock.today() + timedelta(days=365)) == renewal
    assert contract_in_force(db, agency.id, clock.today() + timedelta(days=364)) == current


def test_the_expiry_watch_follows_the_cover_through_a_renewal(db) -> None:
    cast = b.Cast(db)
    agency = b.active(db, cast)
    current = lifecycle.current_contract(db, agency)
    renewal = _renewal(db, cast, agency, starts_in=365)
    ops.record_due_diligence(db, cast.vm, agency.id, clock.today(), "fine")
    day = clock.today() + timedelta(days=350)  # 15 days before the first contract ends
    clock.freeze(datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC))
    run_watch(db)
    subjects = {a.subject for a in db.scalars(select(ExpiryAlert).where(ExpiryAlert.agency_id == agency.id))}
    assert f"contract:{current.id}" not in subjects
    assert contract_to_watch([current, renewal], clock.today()) == renewal


def test_without_a_renewal_the_lapsed_contract_is_still_watched() -> None:
    from portal.agencies.models import Contract

    today = date(2027, 6, 1)
    old = Contract(starts_on=date(2026, 1, 1), ends_on=date(2027, 5, 1), status="signed")
    gap = Contract(starts_on=date(2027, 8, 1), ends_on=date(2028, 8, 1), status="signed")
    assert contract_to_watch([old, gap], today) == old
    assert contract_to_watch([gap], today) is None


# -- keeping the file current after approval -------------------------------------------------
def test_a_suspended_agency_is_reactivated_after_its_licence_is_renewed(db) -> None:
    cast = b.Cast(db)
    agency = b.active(db, cast)
    agency.licence_expires_on = clock.today() - timedelta(days=1)  # time passed; the licence lapsed
    db.flush()
    ops.suspend(db, cast.vm, agency.id, "licence lapsed")
    with pytest.raises(lifecycle.TransitionRefused, match="unexpired licence"):
        ops.reactivate(db, cast.approver, agency.id, "renewed?")
    scan = ops.upload_document(db, cast.vm, agency.id, filename="licence-2029.pdf", content=b.pdf(), kind="licence",
                               expires_on=clock.today() + timedelta(days=1000))
    ops.renew_licence(db, cast.vm, agency.id, "310000000777777", clock.today() + timedelta(days=1000), scan.id)
    ops.reactivate(db, cast.approver, agency.id, "licence renewed")
    assert agency.status == ACTIVE and agency.licence_number == "310000000777777"
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "agency.licence_renewed")).one()
    assert entry.before["licence_expires_on"] == (clock.today() - timedelta(days=1)).isoformat()
    assert entry.after["document"] == str(scan.id)


def test_a_contract_is_renewed_after_a_year_once_due_diligence_is_redone(db) -> None:
    cast = b.Cast(db)
    agency = b.active(db, cast)
    clock.advance(timedelta(days=400))
    with pytest.raises(RuleBroken, match="due diligence"):
        ops.record_contract(db, cast.vm, agency.id, b.terms(db, cast, agency))
    report = ops.upload_document(db, cast.vm, agency.id, filename="dd.pdf", content=b.pdf(), kind="due_diligence")
    ops.record_due_diligence(db, cast.vm, agency.id, clock.today(), "No litigation; complaints within norm",
                             report.id)
    assert agency.due_diligence_on == clock.today()
    ops.record_contract(db, cast.vm, agency.id, b.terms(db, cast, agency))
    assert contract_in_force(db, agency.id, clock.today()) is not None


@pytest.mark.parametrize("on_date,summary,message", [
    (1, "fine", "before it is done"),
    (-400, "fine", "no longer valid"),
    (0, "  ", "Summarise"),
])
def test_due_diligence_is_dated_and_summarised(db, on_date, summary, message) -> None:
    cast = b.Cast(db)
    agency = b.active(db, cast)
    with pytest.raises(InvalidInput, match=message):
        ops.record_due_diligence(db, cast.vm, agency.id, clock.today() + timedelta(days=on_date), summary)


def test_renewals_are_for_approved_agencies_and_vendor_managers(db) -> None:
    cast = b.Cast(db)
    draft = b.drafted(db, cast)
    with pytest.raises(DomainError, match="after approval"):
        ops.renew_licence(db, cast.vm, draft.id, "1", clock.today() + timedelta(days=10))
    agency = b.active(db, cast)
    with pytest.raises(DomainError):
        ops.record_due_diligence(db, make_user(db, "agency_admin", agency), agency.id, clock.today(), "self-assessed")
    with pytest.raises(InvalidInput, match="after today"):
        ops.renew_licence(db, cast.vm, agency.id, "1", clock.today())


def test_the_renewals_page_records_a_renewed_licence_with_its_scan(client, db) -> None:
    cast = b.Cast(db)
    agency = b.active(db, cast)
    login(client, cast.vm)
    page = f"/agencies/{agency.id}/renewals"
    assert client.get(page).status_code == 200
    response = post_form(client, f"/agencies/{agency.id}/renewals/licence",
                         {"licence_number": "310000000555555", "licence_expires_on": "2030-01-31",
                          "licence_scan": (io.BytesIO(b.pdf()), "licence.pdf")},
                         page=page, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.refresh(agency)
    assert agency.licence_expires_on == date(2030, 1, 31)
    response = post_form(client, f"/agencies/{agency.id}/renewals/due-diligence",
                         {"done_on": "2026-11-02", "summary": "Standing good"}, page=page,
                         content_type="multipart/form-data")
    assert response.status_code == 302
    assert "Standing good" in client.get(page).get_data(as_text=True)
    bad = post_form(client, f"/agencies/{agency.id}/renewals/due-diligence",
                    {"done_on": "2030-01-01", "summary": "from the future"}, page=page,
                    content_type="multipart/form-data")
    assert bad.status_code == 422 and "before it is done" in bad.get_data(as_text=True)


# -- termination -----------------------------------------------------------------------------
def test_termination_ends_contracts_recalls_placements_and_revokes_tokens_audited(db) -> None:
    from portal.identity.models import ApiToken
    from portal.identity.operations import create_api_token

    cast = b.Cast(db)
    agency = make_agency(db, "To be terminated")
    cases = make_cases(db, 3)
    place(db, cases, agency)
    admin = make_user(db, "agency_admin", agency)
    token, _secret = create_api_token(db, admin, "collection platform")
    ops.terminate(db, cast.approver, agency.id, "Contract breach", for_cause=False)
    placements = db.scalars(select(Placement).where(Placement.agency_id == agency.id)).all()
    assert placements and {p.status for p in placements} == {"recalled"}
    assert {p.recall_trigger for p in placements} == {"agency_terminated"}
    db.refresh(token)
    assert token.revoked_at is not None
    assert db.scalars(select(ApiToken).where(ApiToken.agency_id == agency.id,
                                             ApiToken.revoked_at.is_(None))).first() is None
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "agency.terminated",
                                                AuditEntry.object_id == str(agency.id))).one()
    assert entry.before["placement_hold"] is False and entry.after["placement_hold"] is True
    assert set(entry.before["contracts"].values()) == {"signed"} and set(entry.after["contracts"].values()) == {"ended"}
    assert db.scalars(select(AuditEntry).where(AuditEntry.action == "agency.api_tokens_revoked")).one()


def test_termination_ends_a_renewal_signed_to_start_later_too(db) -> None:
    cast = b.Cast(db)
    agency = b.active(db, cast)
    renewal = _renewal(db, cast, agency, starts_in=365)
    ops.terminate(db, cast.approver, agency.id, "Exit", for_cause=False)
    assert renewal.status == "ended" and contract_in_force(db, agency.id, renewal.starts_on) is None


def test_suspension_recalls_placements_as_the_policy_says(db) -> None:
    cast = b.Cast(db)
    admin = make_user(db, "admin")
    recalled, kept = make_agency(db), make_agency(db)
    place(db, make_cases(db, 2), recalled)
    ops.suspend(db, cast.vm, recalled.id, "Complaint spike")
    assert {p.recall_trigger for p in db.scalars(select(Placement).where(Placement.agency_id == recalled.id))} == {
        "agency_suspended"}
    set_value(db, admin, "onboarding.recall_on_suspension", False, "contracts let suspended agencies finish")
    place(db, make_cases(db, 2), kept)
    ops.suspend(db, cast.vm, kept.id, "Audit")
    assert {p.status for p in db.scalars(select(Placement).where(Placement.agency_id == kept.id))} == {"active"}


def test_exit_register_numbers_run_per_year(db) -> None:
    cast = b.Cast(db)
    numbers = []
    for n in range(3):
        if n == 2:
            clock.freeze(datetime(2027, 1, 3, 2, 0, tzinfo=UTC))
        agency = make_agency(db, f"Exit {n}")
        entry = ops.terminate(db, cast.approver, agency.id, "for cause", for_cause=True, decision=f"Minute {n}")
        assert entry is not None
        numbers.append(entry.number)
    assert numbers == ["EX-2026-0001", "EX-2026-0002", "EX-2027-0001"]
    assert db.get(Agency, agency.id).status == "terminated"
