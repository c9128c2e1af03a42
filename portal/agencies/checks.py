"""Rules about an application that need no person: the unified social credit code's
format and check digit (GB 32100-2015), and the automatic checks that inform (never
replace) the reviewer's verdict on a checklist item. Every threshold is a policy row."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal import clock
from portal.agencies.models import Agency
from portal.policies.operations import value as policy

# GB 32100-2015: 31 characters; I, O, Z, S and V are not used (they read like digits).
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
# First character: the registering authority (1 机构编制, 5 民政, 9 工商, Y 其他 ...).
USCC_AUTHORITIES = frozenset("123456789ABCDEFGY")


def uscc_check_digit(first17: str) -> str:
    total = sum(USCC_CHARSET.index(ch) * w for ch, w in zip(first17, _WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def uscc_problem(code: str) -> str | None:
    """Why ``code`` is not a valid unified social credit code, or None if it is."""
    code = code.strip().upper()
    if len(code) != 18:
        return str(_l("A unified social credit code has 18 characters; this one has %(n)d.", n=len(code)))
    bad = sorted({ch for ch in code if ch not in USCC_CHARSET})
    if bad:
        return str(_l("A unified social credit code cannot contain %(chars)s.", chars=", ".join(bad)))
    if code[0] not in USCC_AUTHORITIES:
        return str(_l("The first character (registering authority) %(c)s is not a known authority.", c=code[0]))
    if not code[2:8].isdigit():
        return str(_l("Characters 3 to 8 must be the six-digit administrative division code."))
    expected = uscc_check_digit(code[:17])
    if code[17] != expected:
        return str(_l("The check digit is %(got)s but should be %(want)s: the code is mistyped.",
                      got=code[17], want=expected))
    return None


def normalise_uscc(code: str) -> str:
    return code.strip().upper()


def years_between(start: date, end: date) -> int:
    years = end.year - start.year
    if (end.month, end.day) < (start.month, start.day):
        years -= 1
    return years


@dataclass(frozen=True)
class CheckResult:
    passed: bool
    detail: str


def check_years_in_operation(session: Session, agency: Agency) -> CheckResult:
    need = int(policy(session, "onboarding.min_years_in_operation"))
    if agency.registered_on is None:
        return CheckResult(False, str(_l("No registration date given.")))
    years = years_between(agency.registered_on, clock.today())
    if years < need:
        return CheckResult(False, str(_l("Registered %(d)s: %(y)d full years, %(n)d required.",
                                         d=agency.registered_on.isoformat(), y=years, n=need)))
    return CheckResult(True, str(_l("Registered %(d)s: %(y)d full years (%(n)d required).",
                                    d=agency.registered_on.isoformat(), y=years, n=need)))


def check_fi_clients(session: Session, agency: Agency) -> CheckResult:
    need = int(policy(session, "onboarding.min_fi_clients"))
    today = clock.today()
    current = [c for c in agency.clients if c.since <= today]
    if len(current) < need:
        return CheckResult(False, str(_l("%(n)d financial-institution clients named, %(need)d required.",
                                         n=len(current), need=need)))
    return CheckResult(True, str(_l("%(n)d financial-institution clients named (%(need)d required).",
                                    n=len(current), need=need)))


def check_licence_valid(session: Session, agency: Agency) -> CheckResult:
    if not agency.licence_number or agency.licence_expires_on is None:
        return CheckResult(False, str(_l("No licence number or expiry date given.")))
    if agency.licence_expires_on < clock.today():
        return CheckResult(False, str(_l("The licence expired on %(d)s.", d=agency.licence_expires_on.isoformat())))
    return CheckResult(True, str(_l("Licence %(no)s valid until %(d)s.", no=agency.licence_number,
                                    d=agency.licence_expires_on.isoformat())))


def check_scope_mentions_collection(session: Session, agency: Agency) -> CheckResult:
    # Words in a business scope (经营范围) that show it covers collection work: a policy row
    # (``onboarding.scope_words``). Matching is on the text as registered, so a reviewer
    # still reads it: this only flags a missing mention.
    words = [str(w) for w in policy(session, "onboarding.scope_words") if str(w).strip()]
    scope = (agency.licence_scope or "").lower()
    found = [w for w in words if w.lower() in scope]
    if not found and not agency.is_law_firm:
        return CheckResult(False, str(_l("The licence scope does not mention collection (催收).")))
    return CheckResult(True, str(_l("The licence scope mentions: %(w)s.", w=", ".join(found) or _l("law firm"))))


AUTOMATIC: dict[str, Callable[[Session, Agency], CheckResult]] = {
    "years_in_operation": check_years_in_operation,
    "fi_clients": check_fi_clients,
    "licence_valid": check_licence_valid,
    "scope_collection": check_scope_mentions_collection,
}


def run_automatic(session: Session, agency: Agency, check: str | None) -> CheckResult | None:
    func = AUTOMATIC.get(check or "")
    return func(session, agency) if func else None


# -- is the application complete enough to submit? -----------------------------------
def application_gaps(session: Session, agency: Agency) -> list[str]:
    """What an application still lacks before it can be submitted (human sentences)."""
    gaps: list[str] = []
    if not agency.name.strip():
        gaps.append(str(_l("legal name")))
    if not agency.uscc:
        gaps.append(str(_l("unified social credit code")))
    else:
        problem = uscc_problem(agency.uscc)
        if problem:
            gaps.append(problem)
    for attr, label in (
        ("registered_on", _l("registration date")),
        ("registered_address", _l("registered address")),
        ("licence_scope", _l("licence scope")),
        ("licence_number", _l("licence number")),
        ("licence_expires_on", _l("licence expiry date")),
        ("collection_system", _l("collection system")),
    ):
        if not getattr(agency, attr):
            gaps.append(str(label))
    need = int(policy(session, "onboarding.min_fi_clients"))
    if len(agency.clients) < need:
        gaps.append(str(_l("at least %(n)d financial-institution clients", n=need)))
    if not agency.contacts:
        gaps.append(str(_l("a contact person")))
    return gaps
