"""What a review rests on stays true: verdicts judged an application that may change
afterwards (stale verdicts), four eyes counts everyone who took part (verdict history,
inspections, returns), and a rejected agency may apply again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from audit.models import AuditEntry
from portal import clock
from portal.agencies import lifecycle
from portal.agencies import operations as ops
from portal.agencies.checklist import active_items
from portal.agencies.models import APPROVED, REJECTED, ChecklistVerdict
from portal.errors import Conflict, RuleBroken
from tests.agencies import builders as b
from tests.factories import make_user


def _returned_and_edited(db, cast, **fields):
    agency = b.reviewed(db, cast)
    assert lifecycle.mandatory_gaps(db, agency) == []
    ops.return_for_information(db, cast.vm, agency.id, "Send the current licence")
    admin = make_user(db, "agency_admin", agency)
    ops.save_application(db, admin, agency.id, fields=fields, clients=b.CLIENTS, contacts=b.CONTACTS)
    return agency


@pytest.mark.parametrize("field,value,item,title", [
    ("licence_scope", "餐饮服务；食品销售", "licence_scope", "Licence scope covers collection"),
    ("licence_expires_on", "2026-12-31", "licence_document", "Licence document and expiry"),
    ("uscc", None, "legal_entity", "Legal entity"),
])
def test_a_pass_no_longer_counts_once_the_applicant_changes_what_it_judged(db, field, value, item, title) -> None:
    cast = b.Cast(db)
    agency = _returned_and_edited(db, cast, **{field: value if value is not None else b.new_uscc()})
    gaps = lifecycle.mandatory_gaps(db, agency)
    assert len(gaps) == 1 and title in gaps[0] and "reviewed again" in gaps[0]
    verdict = db.scalars(select(ChecklistVerdict).where(ChecklistVerdict.agency_id == agency.id,
                                                        ChecklistVerdict.item_code == item,
                                                        ChecklistVerdict.is_current.is_(True))).one()
    assert verdict.verdict == "pass" and verdict.stale_at is not None and field in (verdict.stale_reason or "")
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "agency.checklist_verdicts_stale",
                                                AuditEntry.object_id == str(agency.id))).one()
    assert item in entry.after

    # Back under review, approval cannot even be proposed until the item is judged again.
    ops.submit_application(db, cast.vm, agency.id)
    ops.start_review(db, cast.vm, agency.id)
    with pytest.raises(RuleBroken, match="no verdict yet on " + title):
        ops.propose(db, cast.vm, agency.id, "approve", "ok")
    ops.set_verdict(db, cast.vm, agency.id, item, "pass")
    assert lifecycle.mandatory_gaps(db, agency) == []
    ops.propose(db, cast.vm, agency.id, "approve", "re-checked")
    ops.decide(db, cast.approver, agency.id, APPROVED, "ok")


def test_an_unchanged_resave_and_unrelated_fields_leave_the_verdicts_standing(db) -> None:
    cast = b.Cast(db)
    agency = _returned_and_edited(db, cast, region="Shanghai")
    assert lifecycle.mandatory_gaps(db, agency) == []


def test_new_evidence_from_the_applicant_on_an_item_marks_its_verdict_stale(db) -> None:
    cast = b.Cast(db)
    agency = b.reviewed(db, cast)
    ops.return_for_information(db, cast.vm, agency.id, "confidentiality agreement unsigned")
    admin = make_user(db, "agency_admin", agency)
    ops.upload_document(db, admin, agency.id, filename="nda.pdf", content=b.pdf(), kind="confidentiality",
                        item_code="confidentiality")
    gaps = lifecycle.mandatory_gaps(db, agency)
    assert len(gaps) == 1 and "Confidentiality" in gaps[0]


# -- four eyes counts everyone who took part ------------------------------------------------
def _acting_as_vendor_manager(user, work):
    user.role = "vendor_manager"
    try:
        work()
    finally:
        user.role = "approver"


def _complete_review_and_propose(db, cast, agency) -> None:
    for item in active_items(db):
        ops.set_verdict(db, cast.vm, agency.id, item.code, "pass")
    ops.propose(db, cast.vm, agency.id, "approve", "complete")


def test_a_reviewer_whose_verdict_was_overwritten_still_cannot_decide(db) -> None:
    cast = b.Cast(db)
    agency = b.submitted(db, cast)
    ops.start_review(db, cast.vm, agency.id)
    _acting_as_vendor_manager(cast.approver2, lambda: ops.set_verdict(
        db, cast.approver2, agency.id, "legal_entity", "needs_info", "annual inspection?"))
    _complete_review_and_propose(db, cast, agency)  # overwrites approver2's verdict
    history = db.scalars(select(ChecklistVerdict).where(ChecklistVerdict.agency_id == agency.id,
                                                        ChecklistVerdict.item_code == "legal_entity")).all()
    assert len(history) == 2 and [v.reviewer_id for v in history if v.is_current] == [cast.vm.id]
    with pytest.raises(lifecycle.TransitionRefused, match="did not review"):
        ops.decide(db, cast.approver2, agency.id, APPROVED, "fine")
    ops.decide(db, cast.approver, agency.id, APPROVED, "fine")


def test_an_inspector_cannot_decide(db) -> None:
    cast = b.Cast(db)
    agency = b.submitted(db, cast)
    ops.start_review(db, cast.vm, agency.id)
    _acting_as_vendor_manager(cast.approver2, lambda: ops.record_inspection(
        db, cast.approver2, agency.id, inspected_on=clock.today(), inspectors=["Wang"], findings={},
        summary="clean"))
    _complete_review_and_propose(db, cast, agency)
    with pytest.raises(lifecycle.TransitionRefused, match="did not review"):
        ops.decide(db, cast.approver2, agency.id, APPROVED, "fine")


def test_whoever_returned_the_application_cannot_decide_it_later(db) -> None:
    cast = b.Cast(db)
    agency = b.submitted(db, cast)
    ops.start_review(db, cast.vm, agency.id)
    _acting_as_vendor_manager(cast.approver2, lambda: ops.return_for_information(
        db, cast.approver2, agency.id, "incomplete"))
    ops.submit_application(db, cast.vm, agency.id)
    ops.start_review(db, cast.vm, agency.id)
    _complete_review_and_propose(db, cast, agency)
    with pytest.raises(lifecycle.TransitionRefused, match="did not review"):
        ops.decide(db, cast.approver2, agency.id, APPROVED, "fine")


# -- a rejected agency may apply again -----------------------------------------------------
def test_a_rejected_agency_can_reapply_and_the_new_application_points_back(db) -> None:
    cast = b.Cast(db)
    agency = b.reviewed(db, cast)
    ops.propose(db, cast.vm, agency.id, "reject", "too few clients")
    ops.decide(db, cast.approver, agency.id, REJECTED, "too few clients")
    assert agency.status == REJECTED
    clock.advance(timedelta(days=200))
    again = ops.register_agency(db, cast.vm, name=agency.name, uscc=agency.uscc)
    assert again.previous_application_id == agency.id
    registered = db.scalars(select(AuditEntry).where(AuditEntry.action == "agency.registered",
                                                     AuditEntry.object_id == str(again.id))).one()
    assert registered.after["previous_application"] == str(agency.id)
    # ... but only once: two live applications for one company are still one too many.
    with pytest.raises(Conflict, match="already registered"):
        ops.register_agency(db, cast.vm, name="Third try", uscc=agency.uscc)


def test_the_exit_register_still_refuses_a_terminated_for_cause_agency(db) -> None:
    cast = b.Cast(db)
    agency = b.active(db, cast)
    entry = ops.terminate(db, cast.approver, agency.id, "Harassment", for_cause=True, decision="Minute 7")
    assert entry is not None
    with pytest.raises(RuleBroken, match=entry.number):
        ops.register_agency(db, cast.vm, name="New name", uscc=agency.uscc)
