"""The state machine: each edge, its guard, refusals (named and audited) and four eyes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from audit.models import AuditEntry
from portal import clock
from portal.agencies import lifecycle
from portal.agencies import operations as ops
from portal.agencies.models import ACTIVE, APPROVED, CONTRACT_SIGNED, DRAFT, SUBMITTED, UNDER_REVIEW
from portal.errors import DomainError, NotAllowed, RuleBroken
from tests.agencies import builders as b


def test_the_whole_happy_path_reaches_active(db) -> None:
    cast = b.Cast(db)
    agency = b.active(db, cast)
    assert agency.status == ACTIVE
    assert agency.due_diligence_on == clock.today()


def test_an_incomplete_application_cannot_be_submitted_and_says_what_is_missing(db) -> None:
    cast = b.Cast(db)
    agency = ops.register_agency(db, cast.vm, name="空壳公司")
    with pytest.raises(lifecycle.TransitionRefused) as refused:
        ops.submit_application(db, cast.vm, agency.id)
    message = str(refused.value)
    assert "Draft" in message and "unified social credit code" in message and "licence number" in message
    assert agency.status == DRAFT


def test_an_illegal_jump_names_the_state_and_where_it_may_go(db) -> None:
    cast = b.Cast(db)
    agency = b.submitted(db, cast)
    with pytest.raises(lifecycle.TransitionRefused) as refused:
        ops.activate(db, cast.vm, agency.id)
    assert "Submitted" in str(refused.value) and "Under review" in str(refused.value)


def test_a_refused_transition_is_audited_after_the_rollback(db) -> None:
    cast = b.Cast(db)
    agency = b.submitted(db, cast)
    with pytest.raises(lifecycle.TransitionRefused) as refused:
        ops.activate(db, cast.vm, agency.id)
    lifecycle.record_refusal(db, cast.vm, refused.value)
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "agency.transition_refused")
                       .order_by(AuditEntry.seq.desc())).first()
    assert entry is not None and entry.object_id == str(agency.id)


def test_approval_needs_every_mandatory_item_passed(db) -> None:
    cast = b.Cast(db)
    agency = b.reviewed(db, cast)
    ops.set_verdict(db, cast.vm, agency.id, "call_recording", "fail", "Recordings kept 6 months only")
    with pytest.raises(RuleBroken, match="Call recording system"):
        ops.propose(db, cast.vm, agency.id, "approve", "ok")


def test_a_proposal_needs_a_verdict_on_every_item(db) -> None:
    cast = b.Cast(db)
    agency = b.submitted(db, cast)
    ops.start_review(db, cast.vm, agency.id)
    ops.set_verdict(db, cast.vm, agency.id, "legal_entity", "pass")
    with pytest.raises(RuleBroken, match="no verdict yet"):
        ops.propose(db, cast.vm, agency.id, "reject", "incomplete")


def test_the_reviewer_cannot_approve_and_the_server_refuses_self_approval(db) -> None:
    cast = b.Cast(db)
    agency = b.proposed(db, cast)
    with pytest.raises(NotAllowed):
        ops.decide(db, cast.vm, agency.id, APPROVED, "I approve my own review")
    # Even an approver account that recorded a verdict is refused (four eyes by person).
    cast.approver.role = "vendor_manager"
    ops.return_for_information(db, cast.vm, agency.id, "re-check")
    ops.submit_application(db, cast.vm, agency.id)
    ops.start_review(db, cast.vm, agency.id)
    ops.set_verdict(db, cast.approver, agency.id, "legal_entity", "pass")
    ops.propose(db, cast.vm, agency.id, "approve", "again")
    cast.approver.role = "approver"
    with pytest.raises(lifecycle.TransitionRefused, match="did not review"):
        ops.decide(db, cast.approver, agency.id, APPROVED, "looks fine")
    ops.decide(db, cast.approver2, agency.id, APPROVED, "looks fine")
    assert agency.status == APPROVED


def test_rejection_needs_a_reason(db) -> None:
    cast = b.Cast(db)
    agency = b.proposed(db, cast)
    with pytest.raises(lifecycle.TransitionRefused, match="a reason"):
        ops.decide(db, cast.approver, agency.id, "rejected", "  ")


def test_contract_needs_policy_retention_and_a_rate_per_bucket(db) -> None:
    cast = b.Cast(db)
    agency = b.approved(db, cast)
    t = b.terms(db, cast, agency, recording_retention_months=6, commission_bp={"M1": 800})
    with pytest.raises(RuleBroken) as refused:
        ops.record_contract(db, cast.vm, agency.id, t)
    assert "at least 12 months" in str(refused.value) and "commission rate for M2" in str(refused.value)
    assert agency.status == APPROVED


def test_termination_for_cause_refuses_the_same_uscc_and_names_the_entry(db) -> None:
    cast = b.Cast(db)
    agency = b.active(db, cast)
    entry = ops.terminate(db, cast.approver, agency.id, "Harassment complaints upheld", for_cause=True,
                          decision="Committee minute 2026-31")
    assert entry is not None
    with pytest.raises(RuleBroken) as refused:
        ops.register_agency(db, cast.vm, name="Same people, new name", uscc=agency.uscc)
    assert entry.number in str(refused.value)
    clock.advance(timedelta(days=3 * 366))
    ops.register_agency(db, cast.vm, name="After the refusal period", uscc=agency.uscc)


def test_suspend_and_reactivate_with_reasons(db) -> None:
    cast = b.Cast(db)
    agency = b.active(db, cast)
    ops.suspend(db, cast.vm, agency.id, "Complaint spike under investigation")
    ops.reactivate(db, cast.approver, agency.id, "Investigation closed")
    assert agency.status == ACTIVE


def test_agency_admin_fills_and_submits_only_their_own_application(db) -> None:
    from tests.factories import make_user

    cast = b.Cast(db)
    agency = ops.register_agency(db, cast.vm, name="自助申请公司")
    other = ops.register_agency(db, cast.vm, name="别人的公司")
    admin = make_user(db, "agency_admin", agency)
    ops.save_application(db, admin, agency.id, fields=b.application_fields(), clients=b.CLIENTS, contacts=b.CONTACTS)
    ops.submit_application(db, admin, agency.id)
    assert agency.status == SUBMITTED
    with pytest.raises(DomainError):
        ops.save_application(db, admin, other.id, fields={"name": "hijack"}, clients=[], contacts=[])


# -- the property: no path reaches active without every mandatory item passed and a ----
# -- decision by a second person -----------------------------------------------------
STEPS = ("fill", "submit", "start_review", "pass_all", "fail_one", "propose", "approve_self",
         "approve_other", "reject", "return", "contract", "activate", "suspend", "reactivate")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.sampled_from(STEPS), min_size=1, max_size=16))
def test_no_sequence_of_steps_reaches_active_without_mandatory_items_and_a_second_person(db, steps) -> None:
    cast = b.Cast(db)
    agency = ops.register_agency(db, cast.vm, name=f"Property {b.new_uscc()}")
    for step in steps:
        nested = db.begin_nested()
        try:
            _step(db, cast, agency, step)
        except DomainError:
            nested.rollback()
            db.refresh(agency)
        else:
            nested.commit()
        if agency.status == ACTIVE:
            assert lifecycle.mandatory_gaps(db, agency) == []
            decision = lifecycle.last_decision(db, agency)
            assert decision is not None and decision.decision == APPROVED
            assert decision.decided_by != decision.proposed_by
            assert decision.decided_by not in lifecycle._reviewers(db, agency)


def _step(db, cast, agency, step: str) -> None:  # noqa: C901 - a dispatch table in if-form
    from portal.agencies.checklist import active_items

    if step == "fill":
        ops.save_application(db, cast.vm, agency.id, fields=b.application_fields(), clients=b.CLIENTS,
                             contacts=b.CONTACTS)
    elif step == "submit":
        ops.submit_application(db, cast.vm, agency.id)
    elif step == "start_review":
        ops.start_review(db, cast.vm, agency.id)
    elif step == "pass_all":
        for item in active_items(db):
            ops.set_verdict(db, cast.vm, agency.id, item.code, "pass")
    elif step == "fail_one":
        ops.set_verdict(db, cast.vm, agency.id, "physical_security", "fail", "no access log")
    elif step == "propose":
        ops.propose(db, cast.vm, agency.id, "approve", "ok")
    elif step == "approve_self":
        cast.vm.role = "approver"  # the same person trying to take the approver's seat
        try:
            ops.decide(db, cast.vm, agency.id, APPROVED, "self")
        finally:
            cast.vm.role = "vendor_manager"
    elif step == "approve_other":
        ops.decide(db, cast.approver, agency.id, APPROVED, "second person")
    elif step == "reject":
        ops.decide(db, cast.approver, agency.id, "rejected", "no")
    elif step == "return":
        ops.return_for_information(db, cast.vm, agency.id, "more info")
    elif step == "contract":
        ops.record_contract(db, cast.vm, agency.id, b.terms(db, cast, agency))
    elif step == "activate":
        ops.activate(db, cast.vm, agency.id)
    elif step == "suspend":
        ops.suspend(db, cast.vm, agency.id, "check")
    elif step == "reactivate":
        ops.reactivate(db, cast.vm, agency.id, "ok")


def test_states_are_all_reachable_in_the_edge_table() -> None:
    reached = {to for (_f, to) in lifecycle.EDGES} | {DRAFT}
    assert {UNDER_REVIEW, CONTRACT_SIGNED, ACTIVE} <= reached


def test_the_property_steps_can_reach_active_on_the_honest_path(db) -> None:
    """Guards the property test against vacuity: its steps do reach `active`."""
    cast = b.Cast(db)
    agency = ops.register_agency(db, cast.vm, name="Honest path")
    for step in ("fill", "submit", "start_review", "pass_all", "propose", "approve_self", "approve_other",
                 "contract", "activate"):
        try:
            _step(db, cast, agency, step)
        except DomainError:
            assert step == "approve_self"  # four eyes: the only refusal on this path
    assert agency.status == ACTIVE
