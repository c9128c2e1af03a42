"""Factories for tests: real rows through real operations where an operation exists."""

from __future__ import annotations

import itertools
import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from portal import clock
from portal.agencies.models import Agency, Contract
from portal.cases.operations import insert_cases
from portal.cli import system_actor
from portal.identity.models import User
from portal.identity.operations import create_user
from portal.placements.operations import place_cases
from portal.security import mfa

PASSWORD = "correct horse battery staple"
_seq = itertools.count(1)
SYSTEM = None


def system() -> Any:
    return system_actor("tests")


def make_user(session: Session, role: str, agency: Agency | None = None, *, username: str | None = None,
              mfa_enrolled: bool | None = None) -> User:
    n = next(_seq)
    user = create_user(session, system(), username=username or f"{role}-{n}", display_name=f"{role} {n}",
                       role=role, password=PASSWORD, agency_id=agency.id if agency else None)
    if mfa_enrolled is None:
        mfa_enrolled = role in ("admin", "approver")
    if mfa_enrolled:
        user.totp_secret = mfa.new_secret()
        user.mfa_enabled = True
    session.flush()
    return user


def make_agency(session: Session, name: str | None = None, *, status: str = "active", region: str = "Shanghai",
                contract: bool = True, **contract_terms: Any) -> Agency:
    n = next(_seq)
    now = clock.now()
    agency = Agency(id=uuid.uuid4(), name=name or f"Agency {n}", uscc=None, status=status, region=region,
                    created_at=now, updated_at=now)
    session.add(agency)
    session.flush()
    if contract:
        terms: dict[str, Any] = dict(
            id=uuid.uuid4(), agency_id=agency.id, reference=f"OC-{n}",
            starts_on=clock.today() - timedelta(days=30), ends_on=clock.today() + timedelta(days=335),
            regions=[region], buckets=["M1", "M2", "M3", "M4+"], max_active_cases=1000,
            max_active_amount_cents=10**12, commission_bp={"M1": 800, "M2": 1200, "M3": 1800, "M4+": 2500},
            recording_retention_months=12, conduct_preset="cn-cba-2026", created_at=now,
        )
        terms.update(contract_terms)
        session.add(Contract(**terms))
        session.flush()
    return agency


def case_record(**overrides: Any) -> dict[str, Any]:
    n = next(_seq)
    rec: dict[str, Any] = {
        "id": uuid.uuid4(), "account_no": f"ACC{n:010d}", "product": "credit_card",
        "principal_cents": 1_000_000, "interest_cents": 50_000, "fees_cents": 0,
        "overdue_since": clock.today() - timedelta(days=45), "region": "Shanghai", "flags": [],
        "debtor_name": f"张三{n}", "national_id": f"11010519491231{n:04d}"[:18], "phone": f"138{n:08d}",
        "address": f"上海市浦东新区{n}号",
    }
    rec.update(overrides)
    return rec


def make_cases(session: Session, count: int = 1, **overrides: Any) -> list[Any]:
    from portal.cases.models import Case

    records = [case_record(**overrides) for _ in range(count)]
    insert_cases(session, system(), records)
    return [session.get(Case, r["id"]) for r in records]


def place(session: Session, cases: list[Any], agency: Agency, term_days: int | None = None) -> None:
    place_cases(session, system(), agency.id, [c.id for c in cases], term_days=term_days)
    session.expire_all()


def days_ago(n: int) -> date:
    return clock.today() - timedelta(days=n)
