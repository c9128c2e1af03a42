"""Agencies walked through the real operations to each state of the lifecycle."""

from __future__ import annotations

import io
import uuid
from datetime import date, timedelta
from typing import Any

from PIL import Image  # noqa: F401  (pillow is a dependency of the PDF reports; optional here)
from sqlalchemy.orm import Session

from portal import clock
from portal.agencies import operations as ops
from portal.agencies.checklist import active_items
from portal.agencies.checks import uscc_check_digit
from portal.agencies.models import Agency
from portal.agencies.operations.contracts import ContractTerms
from tests.factories import make_user

_n = iter(range(1, 10**6))


def new_uscc() -> str:
    body = f"91310000{next(_n):09d}"
    return body + uscc_check_digit(body)


def pdf(text: str = "") -> bytes:
    """A small real PDF, distinct per call."""
    return (b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n% " + (text or uuid.uuid4().hex).encode()
            + b"\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (4, 4), (int(uuid.uuid4().int % 255), 10, 10)).save(buf, "PNG")
    return buf.getvalue()


def application_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "uscc": new_uscc(), "region": "Shanghai", "registered_on": clock.today() - timedelta(days=3 * 365),
        "registered_address": "上海市浦东新区世纪大道100号", "premises": "同注册地址 12F",
        "licence_scope": "受金融机构委托，对信用卡及信贷逾期账款进行提醒、催收服务",
        "licence_number": "310000000123456", "licence_expires_on": clock.today() + timedelta(days=3 * 365),
        "collection_system": "CollectPro 5 with call recording",
    }
    fields.update(overrides)
    return fields


CLIENTS = [{"name": "招商银行上海分行", "since": "2022-03-01"}, {"name": "平安消费金融", "since": "2023-06-01"}]
CONTACTS = [{"name": "王经理", "role": "总经理", "phone": "021-5555 0000", "email": "wang@example.cn"}]


class Cast:
    """The people of one onboarding."""

    def __init__(self, db: Session) -> None:
        self.vm = make_user(db, "vendor_manager")
        self.approver = make_user(db, "approver")
        self.approver2 = make_user(db, "approver")


def drafted(db: Session, cast: Cast, **overrides: Any) -> Agency:
    agency = ops.register_agency(db, cast.vm, name=f"上海测试催收{next(_n)}有限公司", region="Shanghai")
    ops.save_application(db, cast.vm, agency.id, fields=application_fields(**overrides),
                         clients=CLIENTS, contacts=CONTACTS)
    return agency


def submitted(db: Session, cast: Cast, **overrides: Any) -> Agency:
    agency = drafted(db, cast, **overrides)
    ops.submit_application(db, cast.vm, agency.id)
    return agency


def reviewed(db: Session, cast: Cast, verdict: str = "pass") -> Agency:
    agency = submitted(db, cast)
    ops.start_review(db, cast.vm, agency.id)
    for item in active_items(db):
        ops.set_verdict(db, cast.vm, agency.id, item.code, verdict, None if verdict == "pass" else "why")
    return agency


def proposed(db: Session, cast: Cast) -> Agency:
    agency = reviewed(db, cast)
    ops.propose(db, cast.vm, agency.id, "approve", "All criteria met; inspection clean.")
    return agency


def approved(db: Session, cast: Cast) -> Agency:
    agency = proposed(db, cast)
    ops.decide(db, cast.approver, agency.id, "approved", "Committee minute 2026-11")
    return agency


def terms(db: Session, cast: Cast | None, agency: Agency, *, uploader: Any = None, **overrides: Any) -> ContractTerms:
    by = uploader if uploader is not None else cast.vm  # type: ignore[union-attr]
    doc = ops.upload_document(db, by, agency.id, filename="contract.pdf", content=pdf(), kind="contract")
    t = ContractTerms(reference=f"OC-{next(_n)}", starts_on=clock.today() - timedelta(days=1),
                      ends_on=clock.today() + timedelta(days=365), regions=["Shanghai"], buckets=["M1", "M2"],
                      max_active_cases=500, max_active_amount_cents=10**10, commission_bp={"M1": 800, "M2": 1200},
                      recording_retention_months=12, conduct_preset="cn-cba-2026", signed_document_id=doc.id)
    for k, v in overrides.items():
        setattr(t, k, v)
    return t


def active(db: Session, cast: Cast) -> Agency:
    agency = approved(db, cast)
    ops.record_contract(db, cast.vm, agency.id, terms(db, cast, agency))
    ops.activate(db, cast.vm, agency.id)
    return agency


__all__ = ["date"]
