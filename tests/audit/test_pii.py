"""Debtor PII never appears in clear in the audit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from audit.log import REDACTED, SystemActor, record
from audit.models import AuditEntry
from tests.factories import make_agency, make_cases, place


def _log_text(db: Any) -> str:
    db.expire_all()
    rows = db.execute(select(AuditEntry.__table__)).all()
    return "\n".join(repr(tuple(row)) + repr(row._mapping.get("before")) + repr(row._mapping.get("after"))
                     for row in rows)


def _clear_values(case: Any) -> list[str]:
    phone = case.phone
    return [case.debtor_name, case.national_id, phone, phone[-8:], case.address]


def test_importing_and_placing_cases_logs_no_debtor_data(db):
    agency = make_agency(db)
    cases = make_cases(db, 5, debtor_name="李四光", phone="+86 139 8765 4321")
    cases += make_cases(db, 3)
    place(db, cases, agency)
    text = _log_text(db)
    assert "cases.inserted" in text and "placements.created" in text
    leaked = [v for case in cases for v in _clear_values(case) if v and v in text]
    assert leaked == []


def test_pii_passed_to_the_log_by_mistake_is_redacted_at_any_depth(db):
    entry = record(db, SystemActor("tests"), "case.updated", "case", "c-1",
                   before={"debtor_name": "王五", "contacts": [{"phone": "13800138000"}]},
                   after={"nested": {"national_id": "110105194912310021", "address": "北京"}, "dpd": 40})
    db.flush()
    text = _log_text(db)
    for secret in ("王五", "13800138000", "110105194912310021", "北京"):
        assert secret not in text
    assert entry.before == {"debtor_name": REDACTED, "contacts": [{"phone": REDACTED}]}
    assert entry.after["dpd"] == 40
