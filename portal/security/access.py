"""The one place that decides whether an actor may do an action to a target.

Pages, the vendor API, the CLI and jobs all ask ``may``; operations call ``require``
before they change anything. Roles are those of DOMAIN.md. Agency isolation of *rows* is
not decided here but by ``security.scoping`` (the only path to agency-scoped data); this
module decides what kind of thing each role may do at all.
"""

from __future__ import annotations

from typing import Any, Protocol

from flask_babel import lazy_gettext as _l

from portal.errors import NotAllowed

VENDOR_MANAGER = "vendor_manager"
APPROVER = "approver"
ADMIN = "admin"
AUDITOR = "auditor"
AGENCY_ADMIN = "agency_admin"
AGENCY_STAFF = "agency_staff"
SYSTEM = "system"

ROLE_LABELS = {
    VENDOR_MANAGER: _l("Vendor manager"),
    APPROVER: _l("Approver"),
    ADMIN: _l("Administrator"),
    AUDITOR: _l("Auditor"),
    AGENCY_ADMIN: _l("Agency administrator"),
    AGENCY_STAFF: _l("Agency collector"),
}
ROLE_INTROS = {
    VENDOR_MANAGER: _l("Vet and onboard agencies, import cases, build placement batches and recall cases."),
    APPROVER: _l("Approve what a vendor manager prepared: agencies, contracts and placement batches. Never your own."),
    ADMIN: _l("Manage users, policies and keys. Debtor data is not shown to administrators."),
    AUDITOR: _l("Read everything, change nothing. Verify the audit log and download reports."),
    AGENCY_ADMIN: _l("Your agency's cases, staff accounts and API tokens."),
    AGENCY_STAFF: _l("The cases currently placed with your agency."),
}

BANK_ROLES = (VENDOR_MANAGER, APPROVER, ADMIN, AUDITOR)
AGENCY_ROLES = (AGENCY_ADMIN, AGENCY_STAFF)
ROLES = BANK_ROLES + AGENCY_ROLES


class Actor(Protocol):
    role: str
    agency_id: Any

    @property
    def audit_id(self) -> str | None: ...

    @property
    def audit_label(self) -> str: ...


# action -> roles that may do it. Reads of debtor data are deliberately absent for
# `admin` (bank IT manages the system, not the debts).
RULES: dict[str, frozenset[str]] = {
    # identity
    "user.manage": frozenset({ADMIN}),
    "user.manage_own_agency": frozenset({AGENCY_ADMIN}),
    "token.manage_own_agency": frozenset({AGENCY_ADMIN}),
    "policy.view": frozenset({ADMIN, VENDOR_MANAGER, APPROVER, AUDITOR}),
    "policy.manage": frozenset({ADMIN}),
    "keys.rotate": frozenset({ADMIN}),
    # audit
    "audit.view": frozenset({AUDITOR, ADMIN}),
    "audit.verify": frozenset({AUDITOR, ADMIN}),
    # agencies (DOMAIN.md §1)
    "agency.list": frozenset({VENDOR_MANAGER, APPROVER, AUDITOR, ADMIN}),
    "agency.view": frozenset({VENDOR_MANAGER, APPROVER, AUDITOR, ADMIN, AGENCY_ADMIN}),
    "agency.register": frozenset({VENDOR_MANAGER}),
    "agency.apply": frozenset({VENDOR_MANAGER, AGENCY_ADMIN}),
    "agency.review": frozenset({VENDOR_MANAGER}),
    "agency.approve": frozenset({APPROVER}),
    "agency.contract": frozenset({VENDOR_MANAGER}),
    "agency.suspend": frozenset({VENDOR_MANAGER, APPROVER}),
    "agency.terminate": frozenset({APPROVER}),
    "agency.document.view": frozenset({VENDOR_MANAGER, APPROVER, AUDITOR, AGENCY_ADMIN}),
    "agency.document.upload": frozenset({VENDOR_MANAGER, AGENCY_ADMIN}),
    "agency.keys": frozenset({AGENCY_ADMIN}),
    "expiry.view": frozenset({VENDOR_MANAGER, APPROVER, AUDITOR}),
    "agency.checklist.manage": frozenset({VENDOR_MANAGER, ADMIN}),
    # cases and placements (DOMAIN.md §2)
    "case.list": frozenset({VENDOR_MANAGER, APPROVER, AUDITOR, AGENCY_ADMIN, AGENCY_STAFF}),
    "case.view": frozenset({VENDOR_MANAGER, APPROVER, AUDITOR, AGENCY_ADMIN, AGENCY_STAFF}),
    "case.import": frozenset({VENDOR_MANAGER}),
    "case.update": frozenset({VENDOR_MANAGER}),
    "ledger.import": frozenset({VENDOR_MANAGER}),
    "placement.build": frozenset({VENDOR_MANAGER}),
    "placement.release": frozenset({APPROVER}),
    "placement.view": frozenset({VENDOR_MANAGER, APPROVER, AUDITOR}),
    "placement.recall": frozenset({VENDOR_MANAGER}),
    "placement.acknowledge": frozenset({AGENCY_ADMIN, AGENCY_STAFF}),
    "reconciliation.view": frozenset({VENDOR_MANAGER, APPROVER, AUDITOR}),
    "statement.view": frozenset({VENDOR_MANAGER, APPROVER, AUDITOR, AGENCY_ADMIN}),
    "payment.report": frozenset({AGENCY_ADMIN, AGENCY_STAFF}),
    "task.view": frozenset({VENDOR_MANAGER, APPROVER, AUDITOR, ADMIN}),
}


def may(actor: Actor | None, action: str, target: Any = None) -> bool:
    if actor is None or not getattr(actor, "role", None):
        return False
    if getattr(actor, "role", None) == SYSTEM:
        return True
    roles = RULES.get(action)
    if roles is None:
        raise KeyError(f"unknown action {action!r}: add it to security.access.RULES")
    if actor.role not in roles:
        return False
    if actor.role in AGENCY_ROLES:
        # Agency users act on their own agency only; a target from another agency is
        # treated as if it were not there (the caller turns it into a 404).
        target_agency = _agency_of(target)
        if target_agency is not None and target_agency != actor.agency_id:
            return False
    return True


def require(actor: Actor | None, action: str, target: Any = None) -> None:
    if not may(actor, action, target):
        raise NotAllowed("not_allowed", f"not allowed: {action}", action=action)


def _agency_of(target: Any) -> Any:
    if target is None:
        return None
    if hasattr(target, "agency_id"):
        return target.agency_id
    if type(target).__name__ == "Agency":
        return target.id
    return None


def is_bank(actor: Actor | None) -> bool:
    return actor is not None and actor.role in BANK_ROLES


def is_agency(actor: Actor | None) -> bool:
    return actor is not None and actor.role in AGENCY_ROLES
