"""The state machine: each edge, its guard, refusals (named and audited) and four eyes."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, currently_in_test_context, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from audit.models import AuditEntry
from portal import clock
from portal.agencies import lifecycle
from portal.agencies import operations as ops
from portal.agencies.models import (
    ACTIVE,
    APPROVED,
    CONTRACT_SIGNED,
    DRAFT,
    REJECTED,
    SUBMITTED,
    SUSPENDED,
    UNDER_REVIEW,
)
from portal.agencies.verdicts import current_verdicts
from portal.errors import DomainError, NotAllowed, RuleBroken
from tests.agencies import builders as b
from tests.factories import make_user


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
    cast = b.Cast(db)
    agency = ops.register_agency(db, cast.vm, name="自助申请公司")
    other = ops.register_agency(db, cast.vm, name="别人的公司")
    admin = make_user(db, "agency_admin", agency)
    ops.save_application(db, admin, agency.id, fields=b.application_fields(), clients=b.CLIENTS, contacts=b.CONTACTS)
    ops.submit_application(db, admin, agency.id)
    assert agency.status == SUBMITTED
    with pytest.raises(DomainError):
        ops.save_application(db, admin, other.id, fields={"name": "hijack"}, clients=[], contacts=[])


# -- the property: no path reaches active without every mandatory item freshly passed ----
# -- and a decision by a person who neither proposed nor took part in the review --------
#
# A state machine over the real operations. One rule, ``advance``, takes the honest next
# step from wherever the agency is, by a person drawn at random (so the same person often
# acts in two roles: a verdict as a vendor manager, then a decision as an approver). The
# other rules are the ways a review goes wrong: a failed or re-done verdict, an inspection,
# a return for information, an edited application, an early proposal, a rejection,
# suspension. They draw on a budget chosen per example, so every example also gets far
# enough for the property to bite: the invariant compares the system, after every step,
# against the test's own account of who took part and which items hold a fresh pass, and
# the run must have reached `active` in a good share of its examples.
PEOPLE = ("vm1", "vm2", "approver1", "approver2")
ITEMS_OF_FIELD = {"licence_scope": {"licence_scope"}, "licence_expires_on": {"licence_document"},
                  "uscc": {"legal_entity"}, "collection_system": {"collection_system"}, "region": set()}
REACHED_ACTIVE: list[int] = []
anyone = st.sampled_from(PEOPLE)


class Onboarding(RuleBasedStateMachine):
    db: Any = None
    people: dict[str, Any] = {}

    def __init__(self) -> None:
        super().__init__()
        from portal.agencies.checklist import active_items

        self.items = {i.code: i.mandatory for i in active_items(self.db)}
        self.agency = ops.register_agency(self.db, self.people["vm1"], name=f"Property {b.new_uscc()}")
        ops.save_application(self.db, self.people["vm1"], self.agency.id, fields=b.application_fields(),
                             clients=b.CLIENTS, contacts=b.CONTACTS)
        self.took_part: set[Any] = set()   # verdicts, inspections, returns, proposals: anyone, any round
        self.fresh_pass: set[str] = set()  # items whose current verdict is a pass given after the last edit
        self.proposal_open = False
        self.returned = False
        self.noise = 0
        self.counted = False

    @initialize(noise=st.integers(min_value=0, max_value=8))
    def budget(self, noise: int) -> None:
        self.noise = noise

    # -- helpers ---------------------------------------------------------------------
    def _try(self, work: Callable[[], Any], person: str | None = None, role: str | None = None) -> bool:
        """Run one step in a savepoint, as ``person`` acting in ``role``; False if refused."""
        user = self.people[person] if person else None
        original = user.role if user is not None else None
        nested = self.db.begin_nested()
        try:
            if user is not None and role:
                user.role = role
            work()
        except DomainError:
            if user is not None:
                user.role = original
            nested.rollback()
            self.db.refresh(self.agency)
            return False
        if user is not None:
            user.role = original
        nested.commit()
        return True

    @property
    def status(self) -> str:
        return self.agency.status

    def _to_review(self) -> list[str]:
        current = current_verdicts(self.db, self.agency.id)
        return sorted(code for code in self.items
                      if code not in current or current[code].verdict != "pass" or current[code].stale_at is not None)

    def _edit(self, field: str) -> None:
        value = {"licence_scope": "受托对信用卡逾期账款进行催收（修订）", "uscc": b.new_uscc(),
                 "licence_expires_on": clock.today() + timedelta(days=900), "collection_system": "CollectPro 6",
                 "region": "Jiangsu"}[field]
        # Saving the value a field already holds changes nothing the reviewers judged, and
        # the system rightly keeps their verdicts: only a real change makes them stale.
        before = getattr(self.agency, field, None)
        if self._try(lambda: ops.save_application(self.db, self.people["vm2"], self.agency.id,
                                                  fields={field: value}, clients=b.CLIENTS, contacts=b.CONTACTS)):
            if before != value:
                self.fresh_pass -= ITEMS_OF_FIELD[field]

    def _spend(self) -> None:
        self.noise -= 1

    def _verdict(self, person: str, item: str, verdict: str) -> None:
        if self._try(lambda: ops.set_verdict(self.db, self.people[person], self.agency.id, item, verdict,
                                             None if verdict == "pass" else "why"), person, "vendor_manager"):
            self.took_part.add(self.people[person].id)
            (self.fresh_pass.add if verdict == "pass" else self.fresh_pass.discard)(item)

    def _propose(self, person: str) -> None:
        if self._try(lambda: ops.propose(self.db, self.people[person], self.agency.id, "approve", "ok"),
                     person, "vendor_manager"):
            self.took_part.add(self.people[person].id)
            self.proposal_open = True

    def _decide(self, person: str, decision: str) -> None:
        if self._try(lambda: ops.decide(self.db, self.people[person], self.agency.id, decision, "committee"),
                     person, "approver"):
            self.proposal_open = False

    # -- the honest next step ----------------------------------------------------------
    @rule(person=anyone, field=st.sampled_from(sorted(ITEMS_OF_FIELD)))
    def advance(self, person: str, field: str) -> None:
        """(Once active, rejected or suspended there is no honest next step: nothing happens.)"""
        status, db, agency = self.status, self.db, self.agency
        if status == DRAFT and self.returned:
            # Returned for information: the applicant corrects the application first.
            self.returned = False
            self._edit(field)
        elif status == DRAFT:
            self._try(lambda: ops.submit_application(db, self.people["vm1"], agency.id))
        elif status == SUBMITTED:
            self._try(lambda: ops.start_review(db, self.people[person], agency.id), person, "vendor_manager")
        elif status == UNDER_REVIEW and not self.proposal_open and self._to_review():
            # The honest reviewer re-does what the review page shows as not (or no longer)
            # passed: the system, not the model, says which, so a verdict the system wrongly
            # keeps counting is caught by the invariant.
            for code in self._to_review():
                self._verdict(person, code, "pass")
        elif status == UNDER_REVIEW and not self.proposal_open:
            self._propose(person)
        elif status == UNDER_REVIEW:
            self._decide(person, APPROVED)
        elif status == APPROVED:
            vm = self.people["vm1"]
            self._try(lambda: ops.record_contract(db, vm, agency.id, b.terms(db, None, agency, uploader=vm)))
        elif status == CONTRACT_SIGNED:
            self._try(lambda: ops.activate(db, self.people["vm1"], agency.id))

    # -- what goes wrong ---------------------------------------------------------------
    @precondition(lambda self: self.noise > 0 and self.status == UNDER_REVIEW and not self.proposal_open)
    @rule(person=anyone, item=st.sampled_from(["physical_security", "licence_scope", "due_diligence_report"]),
          verdict=st.sampled_from(["pass", "fail", "needs_info"]))
    def one_verdict(self, person: str, item: str, verdict: str) -> None:
        self._spend()
        self._verdict(person, item, verdict)

    @precondition(lambda self: self.noise > 0 and self.status in (SUBMITTED, UNDER_REVIEW))
    @rule(person=anyone)
    def inspect(self, person: str) -> None:
        self._spend()
        if self._try(lambda: ops.record_inspection(self.db, self.people[person], self.agency.id,
                                                   inspected_on=clock.today(), inspectors=["Wang"], findings={},
                                                   summary="clean"), person, "vendor_manager"):
            self.took_part.add(self.people[person].id)

    @precondition(lambda self: self.noise > 0 and self.status == UNDER_REVIEW)
    @rule(person=anyone)
    def return_for_information(self, person: str) -> None:
        self._spend()
        if self._try(lambda: ops.return_for_information(self.db, self.people[person], self.agency.id, "more"),
                     person, "vendor_manager"):
            self.took_part.add(self.people[person].id)
            self.proposal_open = False
            self.returned = True

    @precondition(lambda self: self.noise > 0 and self.status == DRAFT)
    @rule(field=st.sampled_from(sorted(ITEMS_OF_FIELD)))
    def edit_application(self, field: str) -> None:
        self._spend()
        self._edit(field)

    @precondition(lambda self: self.noise > 0 and self.status == UNDER_REVIEW and not self.proposal_open)
    @rule(person=anyone)
    def propose_early(self, person: str) -> None:
        self._spend()
        self._propose(person)

    @precondition(lambda self: self.noise > 0 and self.status == UNDER_REVIEW)
    @rule(person=anyone, decision=st.sampled_from([APPROVED, REJECTED]))
    def decide_any(self, person: str, decision: str) -> None:
        self._spend()
        self._decide(person, decision)

    @precondition(lambda self: self.noise > 0 and self.status in (ACTIVE, SUSPENDED))
    @rule(suspend=st.booleans())
    def suspend_or_reactivate(self, suspend: bool) -> None:
        self._spend()
        work = ops.suspend if suspend else ops.reactivate
        self._try(lambda: work(self.db, self.people["approver1"], self.agency.id, "check"))

    # -- the property --------------------------------------------------------------------
    @invariant()
    def active_only_with_fresh_passes_and_a_second_person(self) -> None:
        if self.status != ACTIVE:
            return
        if not self.counted:
            self.counted = True
            REACHED_ACTIVE.append(1)
            if currently_in_test_context():
                event("reached active")
        assert {code for code, mandatory in self.items.items() if mandatory} <= self.fresh_pass
        assert lifecycle.mandatory_gaps(self.db, self.agency) == []
        decision = lifecycle.last_decision(self.db, self.agency)
        assert decision is not None and decision.decision == APPROVED
        assert decision.decided_by != decision.proposed_by
        assert decision.decided_by not in self.took_part


EXAMPLES = int(os.environ.get("PORTAL_PROPERTY_EXAMPLES", "40"))


def test_no_sequence_of_steps_reaches_active_without_mandatory_items_and_a_second_person(db) -> None:
    Onboarding.db = db
    Onboarding.people = {name: make_user(db, "approver" if name.startswith("approver") else "vendor_manager")
                         for name in PEOPLE}
    REACHED_ACTIVE.clear()
    run_state_machine_as_test(Onboarding, settings=settings(
        max_examples=EXAMPLES, stateful_step_count=40, deadline=None, database=None,
        # No shrinking: a failure prints its (longer) example at once instead of spending
        # minutes of CI time making it shorter.
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                               HealthCheck.filter_too_much]))
    # Not vacuous: the invariant's assertions ran on agencies that did become active.
    assert len(REACHED_ACTIVE) >= EXAMPLES // 4, f"only {len(REACHED_ACTIVE)} of {EXAMPLES} examples reached active"


def test_states_are_all_reachable_in_the_edge_table() -> None:
    reached = {to for (_f, to) in lifecycle.EDGES} | {DRAFT}
    assert {UNDER_REVIEW, CONTRACT_SIGNED, ACTIVE} <= reached


def test_the_property_steps_can_reach_active_on_the_honest_path(db) -> None:
    """Guards the property test against vacuity from the other side: its steps, in the
    honest order, reach `active`."""
    Onboarding.db = db
    Onboarding.people = {name: make_user(db, "approver" if name.startswith("approver") else "vendor_manager")
                         for name in PEOPLE}
    machine = Onboarding()
    for person in ("vm1", "vm1", "vm2", "vm1", "vm2"):  # submit, start, pass all, propose, decide
        machine.advance(person, "region")
    assert machine.status == UNDER_REVIEW  # vm2 took part: four eyes refused the decision
    for person in ("approver1", "vm1", "vm1"):  # decide, contract, activate
        machine.advance(person, "region")
    assert machine.status == ACTIVE
    machine.active_only_with_fresh_passes_and_a_second_person()
