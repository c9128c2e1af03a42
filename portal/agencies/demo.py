"""Demo data for agency vetting: the demo's active agencies get a complete file
(application, evidence, checklist verdicts, inspection, four-eyes decision, signed
contract document), and two new agencies give the desk work: one under review, one
submitted. Called by ``portal.demo.seed`` after it has created users and agencies.

The two active agencies were inserted directly as ``active`` by the demo loader, so their
history is back-filled as rows (marked in the audit log as demo back-fill) rather than
replayed through the state machine; the new agencies go through the real operations."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.log import record
from portal import clock
from portal.agencies import operations as ops
from portal.agencies.checklist import active_items, ensure_checklist
from portal.agencies.checks import uscc_check_digit, uscc_problem
from portal.agencies.documents import encrypt_content, sha256_hex
from portal.agencies.models import (
    Agency,
    AgencyDocument,
    Approval,
    ChecklistVerdict,
    Contract,
    FiClient,
    Inspection,
)
from portal.identity.models import User


def demo_pdf(title: str) -> bytes:
    """A small valid one-page PDF whose text is ``title`` (ASCII)."""
    text = title.encode("ascii", "replace")
    stream = b"BT /F1 14 Tf 50 750 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _valid_uscc(code: str | None, fallback_seed: int) -> str:
    if code and uscc_problem(code) is None:
        return code
    body = (code or f"91310000MA{fallback_seed:07d}")[:17].upper()
    return body + uscc_check_digit(body)


def _user(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise LookupError(f"demo user {username!r} is missing: seed the users first")
    return user


def _store(session: Session, agency: Agency, kind: str, title: str, item: str | None, by: User,
           expires_on: date | None = None) -> AgencyDocument:
    content = demo_pdf(f"{title} - {agency.uscc} - demo")
    doc_id = uuid.uuid4()
    doc = AgencyDocument(id=doc_id, agency_id=agency.id, kind=kind, item_code=item, title=title,
                         filename=f"{kind}.pdf", content_type="application/pdf", size_bytes=len(content),
                         sha256=sha256_hex(content), content_ct=encrypt_content(content, doc_id), version=1,
                         is_current=True, expires_on=expires_on, uploaded_by=by.id, uploaded_at=clock.now())
    session.add(doc)
    return doc


APPLICATION = {
    "registered_address": "上海市浦东新区陆家嘴环路1000号 20F",
    "licence_scope": "接受金融机构委托，从事信用卡及信贷业务逾期账款的提醒、催收及相关咨询服务（依法须经批准的项目除外）",
    "collection_system": "自建催收作业平台（案件分配、全量录音、质检、外呼），书面制度：《催收作业规范》《信息安全管理办法》",
}
CLIENTS = [("中国工商银行信用卡中心", 4 * 365), ("平安普惠融资担保", 3 * 365), ("招联消费金融", 2 * 365)]


def complete_active_agencies(session: Session, agencies: list[Agency], *, manager: str = "manager",
                             approver: str = "approver") -> None:
    """Back-fill the file of agencies the demo created as active."""
    ensure_checklist(session)
    vm, ap = _user(session, manager), _user(session, approver)
    today, now = clock.today(), clock.now()
    items = active_items(session)
    for n, agency in enumerate(agencies, start=1):
        agency.uscc = _valid_uscc(agency.uscc, n)
        agency.registered_on = today - timedelta(days=(5 + n) * 365)
        agency.registered_address = APPLICATION["registered_address"]
        agency.premises = agency.registered_address
        agency.licence_scope = APPLICATION["licence_scope"]
        agency.licence_number = agency.uscc
        # One licence expires soon so the expiry dashboard has something to show.
        agency.licence_expires_on = today + timedelta(days=20 if n == 1 else 900)
        agency.collection_system = APPLICATION["collection_system"]
        agency.contacts = [{"name": "王建国" if n == 1 else "Lin Mei 林梅", "role": "总经理", "phone": "021-6888 0000",
                            "email": f"gm@agency{n}.example.cn"}]
        agency.submitted_at = now - timedelta(days=120)
        agency.due_diligence_on = today - timedelta(days=90)
        session.add_all(FiClient(id=uuid.uuid4(), agency_id=agency.id, name=name, since=today - timedelta(days=days))
                        for name, days in CLIENTS)
        _store(session, agency, "licence", "营业执照 Business licence", "licence_document", vm,
               agency.licence_expires_on)
        _store(session, agency, "confidentiality", "保密协议 Confidentiality agreement", "confidentiality", vm)
        _store(session, agency, "system_screenshot", "催收系统截图 System screenshot", "collection_system", vm)
        _store(session, agency, "due_diligence", "尽职调查报告 Due-diligence report", "due_diligence_report", vm)
        session.add(Inspection(id=uuid.uuid4(), agency_id=agency.id, inspected_on=today - timedelta(days=100),
                               inspectors=["Wang Li 王丽", "Chen Jie 陈杰"],
                               findings={"physical_security": "机房独立，门禁记录完整", "call_recording": "全量录音，保存24个月"},
                               summary="现场检查未发现问题", recorded_by=vm.id, recorded_at=now - timedelta(days=100)))
        session.add_all(ChecklistVerdict(id=uuid.uuid4(), agency_id=agency.id, item_code=i.code, verdict="pass",
                                         note=None, reviewer_id=vm.id, decided_at=now - timedelta(days=95))
                        for i in items)
        session.add(Approval(id=uuid.uuid4(), agency_id=agency.id, proposal="approve",
                             proposal_note="全部准入条件符合，建议准入", proposed_by=vm.id,
                             proposed_at=now - timedelta(days=94), decision="approved",
                             reason="风险管理委员会 2026 第 9 次会议审议通过", decided_by=ap.id,
                             decided_at=now - timedelta(days=90)))
        contract = session.scalars(select(Contract).where(Contract.agency_id == agency.id)).first()
        if contract is not None:
            doc = _store(session, agency, "contract", f"委外催收合同 {contract.reference}", None, vm)
            session.flush()
            contract.signed_document_id = doc.id
            contract.recorded_by = vm.id
            contract.renewal_terms = contract.renewal_terms or "期满前 60 日经尽职调查合格可续签一年"
            contract.termination_terms = contract.termination_terms or "违反催收行为规范或保密义务的，银行可随时解除"
        session.flush()
        record(session, vm, "agency.demo_backfilled", "agency", agency.id,
               after={"uscc": agency.uscc, "items": len(items)}, reason="demo data")


def add_pipeline(session: Session, *, manager: str = "manager") -> list[Agency]:
    """One agency under review (some verdicts recorded) and one just submitted."""
    vm = _user(session, manager)
    today = clock.today()
    made: list[Agency] = []
    for n, (name, region, review) in enumerate((
            ("Jinghua Account Management Co. 京华账款管理有限公司", "Beijing", True),
            ("Xiling Credit Services 西陵信用服务有限公司", "Sichuan", False)), start=11):
        agency = ops.register_agency(session, vm, name=name, region=region)
        ops.save_application(session, vm, agency.id, fields={
            "uscc": _valid_uscc(None, 4_000_000 + n), "registered_on": today - timedelta(days=(n - 8) * 365),
            "registered_address": "北京市朝阳区建国路88号" if review else "成都市高新区天府大道100号",
            "licence_scope": APPLICATION["licence_scope"], "licence_number": f"1101050{n:08d}",
            "licence_expires_on": today + timedelta(days=1200), "collection_system": APPLICATION["collection_system"],
        }, clients=[{"name": c, "since": (today - timedelta(days=d)).isoformat()} for c, d in CLIENTS[:2]],
            contacts=[{"name": "赵强", "role": "运营总监", "phone": "010-5888 0000", "email": "ops@example.cn"}])
        for kind, title, item in (("licence", "营业执照 Business licence", "licence_document"),
                                  ("confidentiality", "保密协议 Confidentiality agreement", "confidentiality")):
            ops.upload_document(session, vm, agency.id, filename=f"{kind}.pdf",
                                content=demo_pdf(f"{title} {agency.uscc}"), kind=kind, title=title, item_code=item)
        ops.submit_application(session, vm, agency.id)
        if review:
            ops.start_review(session, vm, agency.id)
            for code in ("legal_entity", "licence_scope", "licence_document", "years_in_operation", "fi_clients"):
                ops.set_verdict(session, vm, agency.id, code, "pass")
            ops.set_verdict(session, vm, agency.id, "call_recording", "needs_info",
                            "请提供录音备份策略及 12 个月保存的证明")
        made.append(agency)
    return made


def seed_agencies(session: Session, agencies: list[Agency], **users: Any) -> list[Agency]:
    """Everything above, in order; returns the new pipeline agencies."""
    complete_active_agencies(session, agencies, **users)
    return add_pipeline(session, manager=users.get("manager", "manager"))
