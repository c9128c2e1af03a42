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
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
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
from portal.agencies.queries import contract_in_force, latest_signed_contract
from portal.errors import Conflict, InvalidInput, RuleBroken
from portal.identity.models import ApiToken
from portal.placements.recall import recall_all_for_agency
from portal.policies.operations import value as policy

# Bounds of a contract's numbers: far beyond any real contract, and inside what the
# database stores (BIGINT) and the pages can show. A number outside is a typing error.
MAX_ACTIVE_CASES = 10_000_000
MAX_ACTIVE_AMOUNT_CENTS = 10**14  # one trillion yuan
MAX_RETENTION_MONTHS = 1200
MAX_INSTALMENT_MONTHS = 600
MAX_TERM_DAYS = 20 * 366


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
    elif (t.ends_on - t.starts_on).days > MAX_TERM_DAYS:
        problems.append(str(_l("a term of at most %(n)d years", n=MAX_TERM_DAYS // 366)))
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
    if any(not isinstance(bp, int) or not 0 <= bp <= 10_000 for bp in t.commission_bp.values()):
        problems.append(str(_l("commission rates between 0 and 100%")))
    if t.max_active_cases <= 0 or t.max_active_amount_cents <= 0:
        problems.append(str(_l("a capacity above zero (cases and amount)")))
    if t.max_active_cases > MAX_ACTIVE_CASES or t.max_active_amount_cents > MAX_ACTIVE_AMOUNT_CENTS:
        problems.append(str(_l("a capacity of at most %(c)s cases and %(a)s yuan", c=f"{MAX_ACTIVE_CASES:,}",
                               a=f"{MAX_ACTIVE_AMOUNT_CENTS // 100:,}")))
    minimum = int(policy(session, "recordings.retention_min_months"))
    if t.recording_retention_months < minimum:
        problems.append(str(_l("recording retention of at least %(n)d months (policy)", n=minimum)))
    elif t.recording_retention_months > MAX_RETENTION_MONTHS:
        problems.append(str(_l("recording retention of at most %(n)d months", n=MAX_RETENTION_MONTHS)))
    presets = list(policy(session, "contracts.conduct_presets"))
    if t.conduct_preset not in presets:
        problems.append(str(_l("a known conduct preset (%(p)s)", p=", ".join(presets))))
    if not 0 <= t.max_waiver_bp <= 10_000 or not 0 <= t.max_instalment_months <= MAX_INSTALMENT_MONTHS:
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
    diligence still valid (it is redone before renewal). A renewal does not end the
    contract in force: each governs its own dates (``queries.contract_in_force``), so a
    renewal signed ahead of time takes over on its start date."""
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
    previous = contract_in_force(session, agency.id, clock.today()) or latest_signed_contract(session, agency.id)
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
    session.add(contract)
    session.flush()
    record(session, actor, "agency.contract_recorded", "contract", contract.id,
           before={"previous": str(previous.id), "previous_ends_on": previous.ends_on} if previous else None,
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


def _recall_on_suspension(session: Session) -> bool:
    return bool(policy(session, "onboarding.recall_on_suspension"))


def suspend(session: Session, actor: Any, agency_id: uuid.UUID | str, reason: str) -> Agency:
    """Suspend; by policy (``onboarding.recall_on_suspension``) the agency's active
    placements are recalled in the same transaction."""
    agency = get_agency(session, actor, agency_id, "agency.suspend")
    lifecycle.transition(session, actor, agency, SUSPENDED, reason=reason)
    if _recall_on_suspension(session):
        recall_all_for_agency(session, actor, agency.id, "agency_suspended", reason)
    return agency


def reactivate(session: Session, actor: Any, agency_id: uuid.UUID | str, reason: str) -> Agency:
    agency = get_agency(session, actor, agency_id, "agency.suspend")
    return lifecycle.transition(session, actor, agency, ACTIVE, reason=reason)


def terminate(session: Session, actor: Any, agency_id: uuid.UUID | str, reason: str, *,
              for_cause: bool, decision: str | None = None) -> ExitEntry | None:
    """Terminate: the contracts still running (or signed to start) end, the agency is held
    from new placements, every active placement is recalled and its API tokens are revoked,
    all in this transaction. For cause, the agency goes on the exit register and its USCC
    is refused for the policy period (the refusal cites the entry's number)."""
    agency = get_agency(session, actor, agency_id, "agency.terminate")
    if for_cause and not (decision or "").strip():
        raise InvalidInput("exit.decision", _l("Cite the decision (committee minute, reference) for the exit register."))
    lifecycle.transition(session, actor, agency, TERMINATED, reason=reason)
    today, now = clock.today(), clock.now()
    running = list(session.scalars(select(Contract).where(
        Contract.agency_id == agency.id, Contract.status == "signed", Contract.ends_on >= today)))
    hold_before = {"placement_hold": agency.placement_hold, "placement_hold_reason": agency.placement_hold_reason}
    for contract in running:
        contract.status = "ended"
    agency.placement_hold = True
    agency.placement_hold_reason = str(_l("terminated"))
    record(session, actor, "agency.terminated", "agency", agency.id,
           before=hold_before | {"contracts": {str(c.id): "signed" for c in running}},
           after={"placement_hold": True, "placement_hold_reason": agency.placement_hold_reason,
                  "contracts": {str(c.id): "ended" for c in running}}, reason=reason)
    recall_all_for_agency(session, actor, agency.id, "agency_terminated", reason)
    _revoke_tokens(session, actor, agency, now)
    if not for_cause:
        return None
    years = int(policy(session, "onboarding.exit_refusal_years"))
    try:
        until = today.replace(year=today.year + years)
    except ValueError:  # 29 February
        until = today.replace(year=today.year + years, day=28)
    entry = _register_exit(session, actor, agency, reason, decision or "", today, until)
    record(session, actor, "agency.exit_registered", "agency", agency.id,
           after={"entry": entry.number, "uscc": agency.uscc, "refused_until": until}, reason=reason)
    return entry


def _revoke_tokens(session: Session, actor: Any, agency: Agency, now: Any) -> None:
    live = list(session.scalars(select(ApiToken.id).where(ApiToken.agency_id == agency.id,
                                                         ApiToken.revoked_at.is_(None))))
    if not live:
        return
    session.execute(update(ApiToken).where(ApiToken.id.in_(live), ApiToken.revoked_at.is_(None))
                    .values(revoked_at=now).execution_options(synchronize_session="fetch"))
    record(session, actor, "agency.api_tokens_revoked", "agency", agency.id,
           before={"live_tokens": sorted(str(t) for t in live)}, after={"live_tokens": []},
           reason="agency terminated")


EXIT_NUMBER_ATTEMPTS = 5


def _next_exit_number(session: Session, year: int) -> str:
    prefix = f"EX-{year}-"
    numbers = session.scalars(select(ExitEntry.number).where(ExitEntry.number.like(prefix + "%")))
    last = max((int(n[len(prefix):]) for n in numbers if n[len(prefix):].isdigit()), default=0)
    return f"{prefix}{last + 1:04d}"


def _register_exit(session: Session, actor: Any, agency: Agency, reason: str, decision: str, today: date,
                   until: date) -> ExitEntry:
    """The register's numbers run per year (EX-2026-0001, ...). The transition above wrote an
    audit entry, which holds the audit chain's head row until this transaction ends, so
    concurrent terminations number one after the other; should two still meet on the
    unique number (another door, a database without row locks), the loser takes the next."""
    for _attempt in range(EXIT_NUMBER_ATTEMPTS):
        entry = ExitEntry(id=uuid.uuid4(), number=_next_exit_number(session, today.year), agency_id=agency.id,
                          uscc=agency.uscc, reason=reason.strip(), decision=decision.strip(),
                          decided_by=actor.id, exited_on=today, refused_until=until)
        savepoint = session.begin_nested()
        session.add(entry)
        try:
            session.flush()
        except IntegrityError:
            savepoint.rollback()
            continue
        savepoint.commit()
        return entry
    raise Conflict("exit.number", _l("The exit register is busy; try again."))


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
