"""Demo data: every bank role, two active agencies with their staff, ~200 cases with
Chinese and English debtors, some placed with each agency. Loaded once; a second run
changes nothing. Everything goes through operations, so the audit log tells the story."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from typing import Any

from faker import Faker
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import clock
from portal.agencies.models import Agency, Contract
from portal.cases.models import Case
from portal.cases.operations import insert_cases
from portal.identity.models import User
from portal.identity.operations import create_user
from portal.placements.operations import place_cases

REGIONS = ["Shanghai", "Beijing", "Guangdong", "Zhejiang", "Sichuan"]
PRODUCTS = ["credit_card", "personal_loan", "small_business_loan", "lease"]
FLAGS = ["lost_contact", "poor_willingness", "high_risk", "complaint", "litigation"]

BANK_USERS = [
    ("manager", "Wang Li 王丽", "vendor_manager"),
    ("manager2", "Chen Jie 陈杰", "vendor_manager"),
    ("approver", "Zhao Min 赵敏", "approver"),
    ("admin", "Liu Yang 刘洋", "admin"),
    ("auditor", "Sun Hui 孙慧", "auditor"),
]
AGENCIES = [
    ("Huaxia Credit Services Co., Ltd. 华夏信用服务有限公司", "91310000MA1FL4XQ3A", "Shanghai", "huaxia"),
    ("Pacific Recovery Partners 太平洋催收服务有限公司", "91440300MA5G8KQ25T", "Guangdong", "pacific"),
]
DEMO_PASSWORD = "demo-password-2026"  # printed by `make demo`; demo only


def seed(session: Session, cases: int = 200, rng_seed: int = 2026) -> list[tuple[str, str, str]] | None:
    from portal.cli import system_actor

    if session.scalars(select(User.id).where(User.username == "manager")).first():
        return None
    system = system_actor("demo loader")
    rng = random.Random(rng_seed)
    logins: list[tuple[str, str, str]] = []
    for username, name, role in BANK_USERS:
        create_user(session, system, username=username, display_name=name, role=role,
                    password=DEMO_PASSWORD)
        logins.append((username, DEMO_PASSWORD, role))

    now = clock.now()
    agencies = []
    for name, uscc, region, slug in AGENCIES:
        agency = Agency(id=uuid.uuid4(), name=name, uscc=uscc, status="active", region=region,
                        created_at=now, updated_at=now)
        session.add(agency)
        session.flush()
        session.add(Contract(
            id=uuid.uuid4(), agency_id=agency.id, reference=f"OC-2026-{slug.upper()}",
            starts_on=clock.today() - timedelta(days=60), ends_on=clock.today() + timedelta(days=300),
            regions=[region, "Beijing"], buckets=["M1", "M2", "M3", "M4+"],
            max_active_cases=5000, max_active_amount_cents=50_000_000_00,
            commission_bp={"M1": 800, "M2": 1200, "M3": 1800, "M4+": 2500},
            recording_retention_months=24, conduct_preset="cn-cba-2026",
            max_waiver_bp=1000, max_instalment_months=12, created_at=now,
        ))
        for suffix, role, label in (("admin", "agency_admin", "supervisor"), ("staff", "agency_staff", "collector")):
            username = f"{slug}-{suffix}"
            create_user(session, system, username=username, display_name=f"{slug.title()} {label}",
                        role=role, password=DEMO_PASSWORD, agency_id=agency.id)
            logins.append((username, DEMO_PASSWORD, role))
        agencies.append(agency)

    records = list(_fake_cases(rng, cases))
    insert_cases(session, system, records, reason="demo data")
    ids = [r["id"] for r in records]
    eligible = session.scalars(select(Case.id).where(Case.id.in_(ids), Case.dpd >= 11)).all()
    eligible = sorted(eligible, key=lambda i: ids.index(i))
    third = len(eligible) // 3
    place_cases(session, system, agencies[0].id, eligible[:third])
    place_cases(session, system, agencies[1].id, eligible[third : 2 * third])
    # The agencies' full vetting files, plus one under review and one just submitted, so a
    # vendor manager and an approver find work waiting.
    from portal.agencies.demo import seed_agencies

    seed_agencies(session, agencies)
    # A batch of the remaining eligible M2/M3 cases, built by a vendor manager and waiting
    # for an approver's release (four eyes), so both find work on their first login.
    from portal.placements.operations import build_batch

    manager = session.scalars(select(User).where(User.username == "manager")).one()
    build_batch(session, manager, {"buckets": ["M2", "M3"]}, "capacity", seed=rng_seed,
                note="Demo: M2 and M3 cases for this month's rotation")
    return logins


def _fake_cases(rng: random.Random, count: int) -> Any:
    zh, en = Faker("zh_CN"), Faker("en_US")
    zh.seed_instance(rng.randint(0, 10**6))
    en.seed_instance(rng.randint(0, 10**6))
    today = clock.today()
    for i in range(count):
        chinese = rng.random() < 0.7
        fake = zh if chinese else en
        product = rng.choice(PRODUCTS)
        dpd = rng.choice([rng.randint(1, 10), rng.randint(11, 60), rng.randint(61, 200)])
        principal = rng.randint(3_000, 300_000) * 100
        yield {
            "id": uuid.uuid4(),
            "account_no": f"62220{today.year}{i:07d}",
            "product": product,
            "principal_cents": principal,
            "interest_cents": int(principal * rng.uniform(0.01, 0.12)),
            "fees_cents": rng.randint(0, 50_000),
            "overdue_since": today - timedelta(days=dpd),
            "region": rng.choice(REGIONS),
            "flags": rng.sample(FLAGS, k=rng.choice([0, 0, 0, 1, 2])),
            "debtor_name": fake.name(),
            "national_id": zh.ssn() if chinese else en.ssn(),
            "phone": zh.phone_number() if chinese else en.numerify("+1 ###-###-####"),
            "address": fake.address().replace("\n", ", "),
        }


def demo_date() -> date:
    return clock.today()
