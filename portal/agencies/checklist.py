"""The default vetting checklist: every criterion of DOMAIN.md §1 (seed 001 准入条件) as
data. ``ensure_checklist`` adds the missing defaults (it never changes or removes a row a
bank edited); a bank's own criteria are further rows (``operations.review.add_item``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from portal import clock
from portal.agencies.models import ChecklistItem


@dataclass(frozen=True)
class ItemDef:
    code: str
    title: str
    title_zh: str
    description: str
    description_zh: str = ""
    mandatory: bool = True
    automatic: str | None = None


DEFAULT_ITEMS: tuple[ItemDef, ...] = (
    ItemDef("legal_entity", "Legal entity", "法人资格",
            "Registered company with legal-person status; annual inspection done; taxes paid; "
            "unified social credit code valid."),
    ItemDef("licence_scope", "Licence scope covers collection", "经营范围含催收",
            "Business scope explicitly covers entrusted notification, reminder or collection for "
            "credit cards and credit products (or a law firm approved by the authority).",
            automatic="scope_collection"),
    ItemDef("licence_document", "Licence document and expiry", "营业执照及有效期",
            "Business licence scan uploaded; licence number and expiry date recorded.",
            automatic="licence_valid"),
    ItemDef("years_in_operation", "Years in operation", "成立年限",
            "In operation at least the policy minimum since registration.",
            automatic="years_in_operation"),
    ItemDef("premises_equipment", "Fixed premises and office equipment", "固定场所及办公设备",
            "Fixed business premises at the stated address with basic office equipment."),
    ItemDef("collection_system", "Collection system and written rules", "催收系统及内部制度",
            "A collection system platform in place; written internal rules and processes."),
    ItemDef("fi_clients", "Existing financial-institution clients", "现有金融机构客户",
            "At least the policy minimum of financial-institution clients with real current business.",
            automatic="fi_clients"),
    ItemDef("physical_security", "Physical security", "物理安全",
            "Independent secure server room; archive and recording rooms with access control that "
            "logs every entry; the bank may inspect on site."),
    ItemDef("endpoint_security", "Endpoint security", "终端安全",
            "Password-controlled workstations on a closed LAN; no exposed storage ports (USB etc.)."),
    ItemDef("call_recording", "Call recording system", "录音系统",
            "Every agent phone recorded; recordings backed up, kept at least the policy minimum and "
            "retrievable in real time for audit or dispute."),
    ItemDef("confidentiality", "Confidentiality agreement and data protection", "保密协议及数据保护",
            "Signed confidentiality agreement (保密协议); data-protection measures described."),
    ItemDef("onsite_inspection", "On-site inspection", "现场检查",
            "On-site inspection recorded (date, inspectors, findings)."),
    ItemDef("due_diligence_report", "Due-diligence report", "尽职调查报告",
            "Due-diligence report on the agency's standing, litigation and complaints.",
            mandatory=False),
)


# Simplified Chinese descriptions of the default items (the titles carry their own).
DESCRIPTIONS_ZH: dict[str, str] = {'legal_entity': '依法注册并具有法人资格；年检已完成；依法纳税；统一社会信用代码有效。',
    'licence_scope': '经营范围明确包含接受委托从事信用卡及信贷业务的通知、提醒或催收（或为经司法行政机关批准的律师事务所）。',
    'licence_document': '已上传营业执照扫描件；已登记执照号码及有效期。',
    'years_in_operation': '自成立之日起经营年限不少于政策要求。',
    'premises_equipment': '在所述地址有固定经营场所，具备基本办公设备。',
    'collection_system': '具备催收系统平台；有书面的内部制度和流程。',
    'fi_clients': '现有金融机构客户不少于政策要求，且有真实的在办业务。',
    'physical_security': '有独立安全的机房；客户档案室和录音室设门禁并记录每次进出；银行可现场检查。',
    'endpoint_security': '工作站设密码控制并处于封闭局域网；不开放 USB 等存储接口。',
    'call_recording': '每部坐席电话均录音；录音有备份，保存不少于政策要求，可随时从系统调取用于稽核或争议处理。',
    'confidentiality': '已签署保密协议；有数据保护措施。',
    'onsite_inspection': '已登记现场检查（日期、检查人员、检查发现）。',
    'due_diligence_report': '关于机构资信、诉讼及投诉情况的尽职调查报告。'}


def ensure_checklist(session: Session) -> int:
    """Insert the default items that are missing; returns how many were added."""
    have = set(session.scalars(select(ChecklistItem.code)))
    now = clock.now()
    missing = [
        {"code": d.code, "title": d.title, "title_zh": d.title_zh, "description": d.description,
         "description_zh": d.description_zh or DESCRIPTIONS_ZH.get(d.code),
         "mandatory": d.mandatory, "automatic": d.automatic, "position": (i + 1) * 10,
         "active": True, "created_at": now}
        for i, d in enumerate(DEFAULT_ITEMS) if d.code not in have
    ]
    if missing:
        session.execute(insert(ChecklistItem), missing)
    return len(missing)


def active_items(session: Session) -> list[ChecklistItem]:
    return list(session.scalars(
        select(ChecklistItem).where(ChecklistItem.active.is_(True)).order_by(ChecklistItem.position)
    ))
