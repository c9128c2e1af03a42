"""Recall for every trigger: the agency loses the case at once, history stays, and the
agency must acknowledge."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import clock
from portal.cases.imports import import_ledger
from portal.cases.models import Case
from portal.errors import Conflict, InvalidInput, NotFound
from portal.placements import recall
from portal.placements.models import ACTIVE, Placement
from portal.security.scoping import cases_for, get_case
from tests.factories import make_agency, make_cases, make_user, place


@pytest.fixture
def setup(db: Session) -> dict[str, Any]:
    agency = make_agency(db)
    cases = make_cases(db, 2)
    place(db, cases, agency, term_days=90)
    return {"agency": agency, "cases": cases, "staff": make_user(db, "agency_staff", agency),
            "manager": make_user(db, "vendor_manager")}


def visible(db: Session, actor: Any) -> set[Any]:
    return set(db.scalars(cases_for(actor)).all())


def assert_recalled(db: Session, s: dict[str, Any], case: Any, trigger: str) -> None:
    db.expire_all()
    placement = db.scalars(select(Placement).where(Placement.case_id == case.id)).one()
    assert placement.status == "recalled" and placement.recall_trigger == trigger
    assert case.id not in {c.id for c in visible(db, s["staff"])}
    with pytest.raises(NotFound):
        get_case(db, s["staff"], case.id)


@pytest.mark.parametrize("trigger,status", [("complaint", "open"), ("litigation", "litigation"),
                                            ("restructuring", "restructured"), ("manager", "open")])
def test_manual_triggers(db: Session, setup: dict[str, Any], trigger: str, status: str) -> None:
    case = setup["cases"][0]
    recall.recall_case(db, setup["manager"], case.id, trigger, "reason given")
    assert_recalled(db, setup, case, trigger)
    assert db.get(Case, case.id).status == status
    assert setup["cases"][1].id in {c.id for c in visible(db, setup["staff"])}
    if trigger == "complaint":
        assert "complaint" in db.get(Case, case.id).flags


def test_manager_recall_needs_a_reason_and_a_placement(db: Session, setup: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        recall.recall_case(db, setup["manager"], setup["cases"][0].id, "manager", "  ")
    recall.recall_case(db, setup["manager"], setup["cases"][0].id, "manager", "quality")
    with pytest.raises(Conflict):
        recall.recall_case(db, setup["manager"], setup["cases"][0].id, "manager", "again")


def test_term_expiry_job(db: Session, setup: dict[str, Any]) -> None:
    from portal.placements.jobs import term_recall

    assert term_recall(db)["recalled"] == 0
    clock.freeze(clock.now() + timedelta(days=91))
    assert term_recall(db)["recalled"] == 2
    assert term_recall(db) == {"recalled": 0, "dpd_refreshed": 0}
    assert_recalled(db, setup, setup["cases"][0], "term_expiry")


@pytest.mark.parametrize("trigger", ["agency_suspended", "agency_terminated"])
def test_agency_suspension_or_termination_recalls_everything(db: Session, setup: dict[str, Any], trigger: str) -> None:
    # This proves the placements side (recall_all_for_agency). That suspending or terminating
    # an agency actually calls it is the agencies capability's lifecycle (onboarding.
    # recall_on_suspension), proven in tests/agencies.
    other = make_agency(db)
    other_case = make_cases(db, 1)
    place(db, other_case, other)
    approver = make_user(db, "approver")
    assert recall.recall_all_for_agency(db, approver, setup["agency"].id, trigger, "licence lapsed") == 2
    for case in setup["cases"]:
        assert_recalled(db, setup, case, trigger)
    assert visible(db, setup["staff"]) == set()
    assert db.scalars(select(Placement.status).where(Placement.case_id == other_case[0].id)).one() == ACTIVE


@pytest.mark.parametrize("kind,trigger,status", [("payoff", "repaid", "repaid"), ("settlement", "settled", "settled")])
def test_ledger_payoff_or_settlement_recalls(db: Session, setup: dict[str, Any], tmp_path: Path, kind: str, trigger: str,
                                            status: str) -> None:
    case = setup["cases"][0]
    path = tmp_path / "ledger.csv"
    path.write_text(f"reference,account_no,paid_on,amount,kind\nT1,{case.account_no},2026-11-01,10500.00,{kind}\n"
                    f"T2,{setup['cases'][1].account_no},2026-11-01,100,payment\n")
    result = import_ledger(db, setup["manager"], path, "ledger.csv")
    assert result.inserted == 2 and result.extra["recalled"] == 1
    assert_recalled(db, setup, case, trigger)
    assert db.get(Case, case.id).status == status
    again = import_ledger(db, setup["manager"], path, "ledger.csv")
    assert (again.inserted, again.unchanged) == (0, 2)


def test_history_stays_and_the_agency_acknowledges(db: Session, setup: dict[str, Any]) -> None:
    case = setup["cases"][0]
    recall.recall_case(db, setup["manager"], case.id, "complaint", "debtor complained")
    pending = recall.unacknowledged(db, setup["staff"])
    assert [p.case_id for p in pending] == [case.id]
    stranger = make_user(db, "agency_staff", make_agency(db))
    with pytest.raises(NotFound):
        recall.acknowledge(db, stranger, pending[0].id)
    recall.acknowledge(db, setup["staff"], pending[0].id)
    with pytest.raises(Conflict):
        recall.acknowledge(db, setup["staff"], pending[0].id)
    assert recall.unacknowledged(db, setup["staff"]) == []
    assert db.scalars(select(Placement).where(Placement.case_id == case.id)).one().acknowledged_at is not None


def test_agency_pages_lose_the_case_at_once(db: Session, client: Any, setup: dict[str, Any]) -> None:
    from tests.conftest import login

    case = setup["cases"][0]
    login(client, setup["staff"])
    assert client.get(f"/cases/{case.id}").status_code == 200
    recall.recall_case(db, setup["manager"], case.id, "litigation", "court")
    assert client.get(f"/cases/{case.id}").status_code == 404
    assert case.account_no not in client.get("/cases/").get_data(as_text=True)


def test_the_manual_recall_accepts_only_manual_triggers_and_always_a_reason(db: Session, setup: dict[str, Any]) -> None:
    case = setup["cases"][0]
    for trigger in ("repaid", "settled", "term_expiry", "agency_suspended", "agency_terminated"):
        with pytest.raises(InvalidInput):
            recall.recall_case(db, setup["manager"], case.id, trigger, "the form said so")
    with pytest.raises(InvalidInput):
        recall.recall_case(db, setup["manager"], case.id, "complaint", " ")
    db.expire_all()
    assert db.get(Case, case.id).status == "open"
    assert db.scalars(select(Placement.status).where(Placement.case_id == case.id)).one() == ACTIVE


def _entries(db: Session, since: int) -> list[Any]:
    from audit.models import AuditEntry

    return list(db.scalars(select(AuditEntry).where(AuditEntry.action == "placements.recalled", AuditEntry.seq > since)
                           .order_by(AuditEntry.seq)))


def _last_seq(db: Session) -> int:
    from sqlalchemy import func

    from audit.models import AuditEntry

    return db.scalar(select(func.max(AuditEntry.seq))) or 0


def test_recall_audit_names_placements_and_cases_per_agency(db: Session, setup: dict[str, Any]) -> None:
    case = setup["cases"][0]
    placement_id = db.scalars(select(Placement.id).where(Placement.case_id == case.id)).one()
    since = _last_seq(db)
    recall.recall_case(db, setup["manager"], case.id, "manager", "quality")
    [entry] = _entries(db, since)
    assert entry.object_type == "agency" and str(entry.object_id) == str(setup["agency"].id)
    assert entry.after["placements"]["first"] == [str(placement_id)]
    assert entry.after["cases"]["first"] == [str(case.id)] and entry.after["count"] == 1
    assert case.national_id not in str(entry.after) and case.debtor_name not in str(entry.after)


def test_term_expiry_audits_per_agency_with_ids(db: Session, setup: dict[str, Any]) -> None:
    other = make_agency(db)
    other_case = make_cases(db, 1)
    place(db, other_case, other, term_days=90)
    since = _last_seq(db)
    clock.freeze(clock.now() + timedelta(days=91))
    assert recall.recall_expired(db, make_user(db, "vendor_manager")) == 3
    entries = _entries(db, since)
    by_agency = {str(e.object_id): e.after for e in entries}
    assert set(by_agency) == {str(setup["agency"].id), str(other.id)}
    assert set(by_agency[str(setup["agency"].id)]["cases"]["first"]) == {str(c.id) for c in setup["cases"]}
    assert by_agency[str(other.id)]["cases"]["first"] == [str(other_case[0].id)]
    assert all(e["trigger"] == "term_expiry" for e in by_agency.values())


def test_reimporting_a_ledger_recalls_nothing_a_second_time(db: Session, setup: dict[str, Any], tmp_path: Path) -> None:
    case = setup["cases"][0]
    path = tmp_path / "ledger.csv"
    path.write_text(f"reference,account_no,paid_on,amount,kind\nP1,{case.account_no},2026-11-01,10500.00,payoff\n")
    assert import_ledger(db, setup["manager"], path, "ledger.csv").extra["recalled"] == 1
    db.get(Case, case.id).status = "open"  # reopened (e.g. the payment bounced) and placed again
    db.flush()
    place(db, [case], setup["agency"])
    again = import_ledger(db, setup["manager"], path, "ledger.csv")
    assert again.extra["recalled"] == 0
    db.expire_all()
    assert db.scalars(select(Placement.status).where(Placement.case_id == case.id, Placement.status == ACTIVE)).one()
