"""Contracts (seed 001 第六条), activation, suspension, termination with the exit register,
and the agency's own public key."""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit.log import record
from portal import clock
from portal.agencies import lifecycle
from portal.agencies.models import (
    ACTIVE,
    APPROVED,
    CONTRACT_SIGNED,
    SUSPENDED,
    TERMINATED,
    Agency,
    AgencyDocument,
    Contract,
    ExitEntry,
)
from portal.agencies.operations.application import get_agency
from portal.errors import Conflict, InvalidInput, RuleBroken
from portal.policies.operations import value as policy


@dataclass
class ContractTerms:
    reference: str
    starts_on: date
    ends_on: date
    regions: list[str]
    buckets: list[str]
    max_active_cases: int
    max_active_amount_cents: int
    commission_bp: dict[str, int]
    recording_retention_months: int
    conduct_preset: str
    signed_document_id: uuid.UUID | None
    max_waiver_bp: int = 0
    max_instalment_months: int = 0
    renewal_terms: str | None = None
    termination_terms: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def known_buckets(session: Session) -> list[str]:
    codes: list[str] = []
    for key in ("buckets.monthly", "buckets.leasing"):
        codes += [str(row[0]) for row in policy(session, key)]
    return codes


def _validate(session: Session, agency: Agency, t: ContractTerms) -> list[str]:
    problems: list[str] = []
    if not t.reference.strip():
        problems.append(str(_l("a contract reference")))
    if t.ends_on <= t.starts_on:
        problems.append(str(_l("the term must end after it starts")))
    if not [r for r in t.regions if r.strip()]:
        problems.append(str(_l("at least one region")))
    valid = known_buckets(session)
    if not t.buckets:
        problems.append(str(_l("at least one bucket served")))
    unknown = [b for b in t.buckets if b not in valid]
    if unknown:
        problems.append(str(_l("unknown buckets %(b)s (known: %(k)s)", b=", ".join(unknown), k=", ".join(valid))))
    missing_rate = [b for b in t.buckets if b not in t.commission_bp]
    if missing_rate:
        problems.append(str(_l("a commission rate for %(b)s", b=", ".join(missing_rate))))
    if any(not 0 <= bp <= 10_000 for bp in t.commission_bp.values()):
        problems.append(str(_l("commission rates between 0 and 100%")))
    if t.max_active_cases <= 0 or t.max_active_amount_cents <= 0:
        problems.append(str(_l("a capacity above zero (cases and amount)")))
    minimum = int(policy(session, "recordings.retention_min_months"))
    if t.recording_retention_months < minimum:
        problems.append(str(_l("recording retention of at least %(n)d months (policy)", n=minimum)))
    presets = list(policy(session, "contracts.conduct_presets"))
    if t.conduct_preset not in presets:
        problems.append(str(_l("a known conduct preset (%(p)s)", p=", ".join(presets))))
    if not 0 <= t.max_waiver_bp <= 10_000 or t.max_instalment_months < 0:
        problems.append(str(_l("mandate limits within range")))
    if t.signed_document_id is None:
        problems.append(str(_l("the signed contract document")))
    else:
        doc = session.get(AgencyDocument, t.signed_document_id)
        if doc is None or doc.agency_id != agency.id or not doc.is_current:
            problems.append(str(_l("a signed contract document of this agency")))
    return problems


def record_contract(session: Session, actor: Any, agency_id: uuid.UUID | str, terms: ContractTerms) -> Contract:
    """Record a signed contract. For an approved agency this signs it into
    ``contract_signed``; for an active or suspended one it is a renewal, which needs a due
    diligence still valid (it is redone before renewal) and ends the previous contract."""
    agency = get_agency(session, actor, agency_id, "agency.contract")
    if agency.status not in (APPROVED, ACTIVE, SUSPENDED, CONTRACT_SIGNED):
        raise Conflict("contract.state", _l("The agency is %(state)s; a contract is recorded after approval.",
                                            state=lifecycle.STATE_LABELS[agency.status]))
    problems = _validate(session, agency, terms)
    if agency.status in (ACTIVE, SUSPENDED, CONTRACT_SIGNED):
        valid_days = int(policy(session, "onboarding.due_diligence_valid_days"))
        if agency.due_diligence_on is None or agency.due_diligence_on + timedelta(days=valid_days) < clock.today():
            problems.append(str(_l("a due diligence completed in the last %(n)d days (redo it before renewal)",
                                   n=valid_days)))
    if problems:
        raise RuleBroken("contract.terms", _l("The contract cannot be recorded; it needs %(p)s.", p="; ".join(problems)))
    previous = lifecycle.current_contract(session, agency)
    contract = Contract(
        id=uuid.uuid4(), agency_id=agency.id, reference=terms.reference.strip(), starts_on=terms.starts_on,
        ends_on=terms.ends_on, regions=[r.strip() for r in terms.regions if r.strip()], buckets=list(terms.buckets),
        max_active_cases=terms.max_active_cases, max_active_amount_cents=terms.max_active_amount_cents,
        commission_bp={b: int(terms.commission_bp[b]) for b in terms.buckets},
        recording_retention_months=terms.recording_retention_months, conduct_preset=terms.conduct_preset,
        max_waiver_bp=terms.max_waiver_bp, max_instalment_months=terms.max_instalment_months,
        renewal_terms=(terms.renewal_terms or "").strip() or None,
        termination_terms=(terms.termination_terms or "").strip() or None, extra=terms.extra,
        status="signed", created_at=clock.now(), signed_document_id=terms.signed_document_id,
        recorded_by=getattr(actor, "id", None),
    )
    if previous is not None:
        previous.status = "ended"
    session.add(contract)
    session.flush()
    record(session, actor, "agency.contract_recorded", "contract", contract.id,
           before={"previous": str(previous.id)} if previous else None,
           after={"agency": str(agency.id), "reference": contract.reference,
                  "starts_on": contract.starts_on, "ends_on": contract.ends_on, "regions": contract.regions,
                  "buckets": contract.buckets, "commission_bp": contract.commission_bp,
                  "max_active_cases": contract.max_active_cases,
                  "max_active_amount_cents": contract.max_active_amount_cents,
                  "recording_retention_months": contract.recording_retention_months,
                  "conduct_preset": contract.conduct_preset})
    if agency.status == APPROVED:
        lifecycle.transition(session, actor, agency, CONTRACT_SIGNED)
    return contract


def activate(session: Session, actor: Any, agency_id: uuid.UUID | str) -> Agency:
    agency = get_agency(session, actor, agency_id, "agency.contract")
    return lifecycle.transition(session, actor, agency, ACTIVE)


def suspend(session: Session, actor: Any, agency_id: uuid.UUID | str, reason: str) -> Agency:
    agency = get_agency(session, actor, agency_id, "agency.suspend")
    return lifecycle.transition(session, actor, agency, SUSPENDED, reason=reason)


def reactivate(session: Session, actor: Any, agency_id: uuid.UUID | str, reason: str) -> Agency:
    agency = get_agency(session, actor, agency_id, "agency.suspend")
    return lifecycle.transition(session, actor, agency, ACTIVE, reason=reason)


def terminate(session: Session, actor: Any, agency_id: uuid.UUID | str, reason: str, *,
              for_cause: bool, decision: str | None = None) -> ExitEntry | None:
    """Terminate; for cause, the agency goes on the exit register and its USCC is refused
    for the policy period (the refusal cites the entry's number)."""
    agency = get_agency(session, actor, agency_id, "agency.terminate")
    if for_cause and not (decision or "").strip():
        raise InvalidInput("exit.decision", _l("Cite the decision (committee minute, reference) for the exit register."))
    lifecycle.transition(session, actor, agency, TERMINATED, reason=reason)
    contract = lifecycle.current_contract(session, agency)
    if contract is not None:
        contract.status = "ended"
    agency.placement_hold = True
    agency.placement_hold_reason = str(_l("terminated"))
    if not for_cause:
        return None
    today = clock.today()
    years = int(policy(session, "onboarding.exit_refusal_years"))
    try:
        until = today.replace(year=today.year + years)
    except ValueError:  # 29 February
        until = today.replace(year=today.year + years, day=28)
    count = session.scalar(select(func.count()).select_from(ExitEntry)) or 0
    entry = ExitEntry(id=uuid.uuid4(), number=f"EX-{today.year}-{count + 1:04d}", agency_id=agency.id,
                      uscc=agency.uscc, reason=reason.strip(), decision=(decision or "").strip(),
                      decided_by=actor.id, exited_on=today, refused_until=until)
    session.add(entry)
    session.flush()
    record(session, actor, "agency.exit_registered", "agency", agency.id,
           after={"entry": entry.number, "uscc": agency.uscc, "refused_until": until}, reason=reason)
    return entry


def parse_public_key(text: str) -> bytes:
    """Raw 32-byte X25519 public key from base64 (raw) or PEM (SubjectPublicKeyInfo)."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput("key.missing", _l("Paste the public key."))
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode())
            if not isinstance(key, X25519PublicKey):
                raise InvalidInput("key.type", _l("That is not an X25519 public key."))
        else:
            raw = base64.b64decode(text, validate=True)
            if len(raw) != 32:
                raise InvalidInput("key.length", _l("An X25519 public key is 32 bytes; this is %(n)d.", n=len(raw)))
            key = X25519PublicKey.from_public_bytes(raw)
    except InvalidInput:
        raise
    except ValueError:
        raise InvalidInput("key.invalid", _l("That is not a valid X25519 public key (base64 or PEM).")) from None
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    if raw == bytes(32):
        raise InvalidInput("key.invalid", _l("That is not a valid X25519 public key (base64 or PEM)."))
    return raw


def key_fingerprint(b64: str) -> str:
    return hashlib.sha256(base64.b64decode(b64)).hexdigest()[:32]


def register_public_key(session: Session, actor: Any, agency_id: uuid.UUID | str, key_text: str) -> Agency:
    agency = get_agency(session, actor, agency_id, "agency.keys")
    raw = parse_public_key(key_text)
    new = base64.b64encode(raw).decode()
    if new == agency.public_key:
        raise Conflict("key.same", _l("That key is already registered."))
    before = {"fingerprint": key_fingerprint(agency.public_key)} if agency.public_key else None
    agency.public_key = new
    agency.public_key_registered_at = clock.now()
    record(session, actor, "agency.public_key_registered", "agency", agency.id, before=before,
           after={"fingerprint": key_fingerprint(new)})
    return agency
