"""Reconciliation and commission (DOMAIN.md §2: money goes to the bank, never through the
agency).

* An agency reports a payment on a case it holds (``report_payment``, scoped path).
* ``match_payments`` pairs reports with the bank's ledger payments on the same case: same
  amount, dates within ``reconciliation.match_window_days``, and stores the pair on the
  report (``ledger_payment_id``, unique): each ledger payment pairs at most once, across
  agencies, and a statement reads the same however often it is run. ``reconcile`` reads the
  pairs and lists what stays unpaired on either side.
* Commission is earned only on *reconciled* recoveries paid *inside the placement term*
  (``in_term``: the debtor's local days from placement to recall or term end, the
  hand-over day going to the later placement), at the contract's rate for the case's
  bucket at placement (basis points).
"""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit.log import record
from portal import clock
from portal.agencies.models import Agency, Contract
from portal.cases.models import Case, LedgerPayment
from portal.errors import InvalidInput, NotFound
from portal.placements.models import ACTIVE, PaymentReport, Placement
from portal.policies.operations import value as policy
from portal.security.access import AGENCY_ROLES, require
from portal.security.scoping import active_placement_of, get_case

CHUNK = 5000
DEFAULT_ZONE = "Asia/Shanghai"


def report_payment(session: Session, actor: Any, case_id: uuid.UUID, paid_on: date, amount_cents: int,
                   reference: str | None = None) -> PaymentReport:
    """An agency user reports a payment the debtor says they made to the bank. The case is
    reached only through the scoped path: another agency's case is "not found"."""
    require(actor, "payment.report")
    case = get_case(session, actor, case_id)
    placement = active_placement_of(session, actor, case)
    if placement is None:
        raise NotFound("case.not_found", _l("No such case."))
    if amount_cents <= 0:
        raise InvalidInput("payment.bad_amount", _l("The amount must be more than zero."))
    if amount_cents > int(policy(session, "imports.max_amount_cents")):
        raise InvalidInput("payment.too_large", _l("The amount is larger than any the bank accepts."))
    if paid_on > clock.today() or paid_on < placement.placed_at.date():
        raise InvalidInput("payment.bad_date", _l("The payment date must lie between the placement and today."))
    report = PaymentReport(id=uuid.uuid4(), agency_id=placement.agency_id, case_id=case.id, placement_id=placement.id,
                           paid_on=paid_on, amount_cents=amount_cents, reference=(reference or "").strip()[:100] or None,
                           reported_by=getattr(actor, "id", None), reported_at=clock.now())
    session.add(report)
    session.flush()
    record(session, actor, "payment.reported", "case", case.id, after={"amount_cents": amount_cents, "paid_on": paid_on})
    match_payments(session, [case.id])
    return report


def month_bounds(year: int, month: int) -> tuple[date, date]:
    if not 1 <= month <= 12 or not 2000 <= year <= 2100:
        raise InvalidInput("statement.bad_month", _l("Choose a month between 2000 and 2100."))
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


@dataclass
class Match:
    report: PaymentReport
    ledger: LedgerPayment


@dataclass
class Reconciliation:
    start: date
    end: date
    matched: list[Match] = field(default_factory=list)
    unmatched_reports: list[PaymentReport] = field(default_factory=list)
    unmatched_ledger: list[LedgerPayment] = field(default_factory=list)
    matched_total: int = 0
    unmatched_reports_total: int = 0
    unmatched_ledger_total: int = 0


def _local_day(at: datetime, zone: str) -> date:
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo(DEFAULT_ZONE)
    return at.astimezone(tz).date()


def _term_days(placement: Placement, zone: str) -> tuple[date, date]:
    """The placement's first and last day, as days of the debtor's calendar (the ledger's
    ``paid_on`` is the debtor's day, not UTC's)."""
    ends: datetime = placement.term_ends_at
    if placement.status != ACTIVE and placement.recalled_at is not None:
        ends = min(ends, placement.recalled_at)
    return _local_day(placement.placed_at, zone), _local_day(ends, zone)


def in_term(placement: Placement, paid_on: date, zone: str, handed_over_on: set[date] | frozenset[date] = frozenset()) -> bool:
    """Was ``paid_on`` inside the placement's term? The term is [placed, ended) in time; a
    payment has only a day. The last day belongs to the placement, unless the case was
    handed to another placement that same day: the hand-over day goes to the later
    placement (``handed_over_on``: the days later placements of the case began), so one
    payment never earns two agencies commission."""
    first, last = _term_days(placement, zone)
    if paid_on == last and last in handed_over_on:
        return False
    return first <= paid_on <= last


def _handovers(placements: list[Placement], zone: str) -> dict[uuid.UUID, set[date]]:
    """For each placement, the local days on which a later placement of the same case began."""
    out: dict[uuid.UUID, set[date]] = {}
    for p in placements:
        out[p.id] = {_local_day(q.placed_at, zone) for q in placements if q.placed_at > p.placed_at}
    return out


def match_payments(session: Session, case_ids: Iterable[uuid.UUID] | None = None) -> int:
    """Pair agency reports with the bank's ledger payments and store the pairs (same case,
    same amount, dates within ``reconciliation.match_window_days``). A stored pair is never
    undone, except that a payment paired with a report outside its placement's term (no
    commission) passes to a report inside its term when one arrives (the later placement
    after a hand-over). Each ledger payment pairs with at most one report (unique column).
    Called by report_payment, the ledger import and the ``payment_matching`` job."""
    window = int(policy(session, "reconciliation.match_window_days"))
    now = clock.now()
    unmatched = select(PaymentReport.case_id).where(PaymentReport.ledger_payment_id.is_(None)).distinct()
    if case_ids is None:
        scope = list(session.scalars(unmatched))
    else:
        ids = list(set(case_ids))
        scope = []
        for i in range(0, len(ids), CHUNK):
            scope += session.scalars(unmatched.where(PaymentReport.case_id.in_(ids[i:i + CHUNK]))).all()
    paired = 0
    for i in range(0, len(scope), CHUNK):
        paired += _match_cases(session, scope[i:i + CHUNK], window, now)
    return paired


def _match_cases(session: Session, case_ids: list[uuid.UUID], window: int, now: datetime) -> int:
    reports = list(session.scalars(select(PaymentReport).where(PaymentReport.case_id.in_(case_ids))
                                   .order_by(PaymentReport.reported_at, PaymentReport.id)))
    ledger = list(session.scalars(select(LedgerPayment).where(LedgerPayment.case_id.in_(case_ids))
                                  .order_by(LedgerPayment.paid_on, LedgerPayment.reference)))
    placements = list(session.scalars(select(Placement).where(Placement.case_id.in_(case_ids))))
    zones = dict(session.execute(select(Case.id, Case.debtor_timezone).where(Case.id.in_(case_ids))).all())
    by_id = {p.id: p for p in placements}
    per_case: dict[uuid.UUID, list[Placement]] = {}
    for p in placements:
        per_case.setdefault(p.case_id, []).append(p)
    handovers: dict[uuid.UUID, set[date]] = {}
    for case_placements in per_case.values():
        handovers.update(_handovers(case_placements, zones.get(case_placements[0].case_id, DEFAULT_ZONE)))

    def covers(report: PaymentReport, payment: LedgerPayment) -> bool:
        placement = by_id.get(report.placement_id)
        return placement is not None and in_term(placement, payment.paid_on, zones.get(report.case_id, DEFAULT_ZONE),
                                                 handovers.get(placement.id, set()))

    def fits(report: PaymentReport, payment: LedgerPayment) -> bool:
        return (report.case_id == payment.case_id and report.amount_cents == payment.amount_cents
                and abs((payment.paid_on - report.paid_on).days) <= window)

    holder = {r.ledger_payment_id: r for r in reports if r.ledger_payment_id is not None}
    free = [r for r in reports if r.ledger_payment_id is None]
    paired = 0
    for payment in ledger:
        current = holder.get(payment.id)
        if current is not None and covers(current, payment):
            continue  # paired inside a term: final
        candidates = [r for r in free if fits(r, payment) and (current is None or covers(r, payment))]
        if not candidates:
            continue
        best = min(candidates, key=lambda r: (not covers(r, payment), abs((payment.paid_on - r.paid_on).days),
                                              r.reported_at, str(r.id)))
        if current is not None:
            current.ledger_payment_id = None
            current.matched_at = None
            session.flush()  # free the unique payment id before the new pair takes it
            free.append(current)
        best.ledger_payment_id = payment.id
        best.matched_at = now
        free.remove(best)
        holder[payment.id] = best
        paired += 1
    session.flush()
    return paired


def reconcile(session: Session, actor: Any, start: date, end: date, agency_id: uuid.UUID | None = None, *,
              limit: int | None = None, offset: int = 0) -> Reconciliation:
    """The stored pairs of a period (by the ledger's payment day), the agency reports no
    payment matched, and the ledger payments no report matched; ``limit``/``offset`` page
    each of the three lists, their ``*_total`` count all."""
    if actor.role in AGENCY_ROLES:
        # An agency sees its own side only (for its statement), never the bank's whole ledger.
        require(actor, "statement.view")
        agency_id = actor.agency_id
    else:
        require(actor, "reconciliation.view")
    result = Reconciliation(start, end)

    def page(stmt: Any) -> Any:
        return stmt.limit(limit).offset(offset) if limit is not None else stmt

    def total(stmt: Any) -> int:
        return session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0

    matched = (select(PaymentReport, LedgerPayment).join(LedgerPayment, LedgerPayment.id == PaymentReport.ledger_payment_id)
               .where(LedgerPayment.paid_on.between(start, end)))
    reports = select(PaymentReport).where(PaymentReport.ledger_payment_id.is_(None),
                                          PaymentReport.paid_on.between(start, end))
    taken = select(PaymentReport.id).where(PaymentReport.ledger_payment_id == LedgerPayment.id)
    ledger = select(LedgerPayment).where(LedgerPayment.paid_on.between(start, end), ~taken.exists())
    if agency_id is not None:
        matched = matched.where(PaymentReport.agency_id == agency_id)
        reports = reports.where(PaymentReport.agency_id == agency_id)
        # The agency's side of the ledger: payments on cases it held at some time.
        ledger = ledger.where(LedgerPayment.case_id.in_(select(Placement.case_id).where(Placement.agency_id == agency_id)))
    matched = matched.order_by(LedgerPayment.paid_on, LedgerPayment.reference)
    reports = reports.order_by(PaymentReport.paid_on, PaymentReport.reported_at, PaymentReport.id)
    ledger = ledger.order_by(LedgerPayment.paid_on, LedgerPayment.reference)
    result.matched = [Match(r, p) for r, p in session.execute(page(matched)).all()]
    result.unmatched_reports = list(session.scalars(page(reports)))
    result.unmatched_ledger = list(session.scalars(page(ledger)))
    if limit is None:
        result.matched_total = len(result.matched)
        result.unmatched_reports_total = len(result.unmatched_reports)
        result.unmatched_ledger_total = len(result.unmatched_ledger)
    else:
        result.matched_total = total(matched)
        result.unmatched_reports_total = total(reports)
        result.unmatched_ledger_total = total(ledger)
    return result


@dataclass
class StatementLine:
    account_no: str
    paid_on: date
    amount_cents: int
    bucket: str
    rate_bp: int
    commission_cents: int
    reference: str


@dataclass
class Statement:
    agency: Agency
    start: date
    end: date
    lines: list[StatementLine] = field(default_factory=list)
    outside_term: int = 0

    @property
    def recovered_cents(self) -> int:
        return sum(line.amount_cents for line in self.lines)

    @property
    def commission_cents(self) -> int:
        return sum(line.commission_cents for line in self.lines)


def statement(session: Session, actor: Any, agency_id: uuid.UUID, year: int, month: int) -> Statement:
    """The monthly commission statement of one agency (its own only, for agency users)."""
    require(actor, "statement.view")
    if actor.role in AGENCY_ROLES and agency_id != actor.agency_id:
        raise NotFound("agency.not_found", _l("No such agency."))
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise NotFound("agency.not_found", _l("No such agency."))
    start, end = month_bounds(year, month)
    rec = reconcile(session, actor, start, end, agency_id)
    contracts = list(session.scalars(select(Contract).where(Contract.agency_id == agency_id)))
    case_ids = list({m.report.case_id for m in rec.matched})
    # Every placement of these cases (any agency's): the hand-over days decide the term's last day.
    all_placements = list(session.scalars(select(Placement).where(Placement.case_id.in_(case_ids))))
    placements = {p.id: p for p in all_placements}
    cases = {cid: (account, zone) for cid, account, zone in session.execute(
        select(Case.id, Case.account_no, Case.debtor_timezone).where(Case.id.in_(case_ids))).all()}
    per_case: dict[uuid.UUID, list[Placement]] = {}
    for p in all_placements:
        per_case.setdefault(p.case_id, []).append(p)
    handovers: dict[uuid.UUID, set[date]] = {}
    for cid, case_placements in per_case.items():
        handovers.update(_handovers(case_placements, cases.get(cid, ("", DEFAULT_ZONE))[1]))
    result = Statement(agency, start, end)
    for match in rec.matched:
        placement = placements[match.report.placement_id]
        paid = match.ledger.paid_on
        account, zone = cases.get(match.report.case_id, ("", DEFAULT_ZONE))
        if not in_term(placement, paid, zone, handovers.get(placement.id, set())):
            result.outside_term += 1  # no commission on money recovered after recall
            continue
        contract = next((c for c in contracts if c.starts_on <= paid <= c.ends_on), None)
        rate = int((contract.commission_bp or {}).get(placement.bucket_at_placement, 0)) if contract else 0
        result.lines.append(StatementLine(
            account_no=account, paid_on=paid, amount_cents=match.ledger.amount_cents,
            bucket=placement.bucket_at_placement, rate_bp=rate,
            # Integer cents, rounded half up: the same figure on every database and report.
            commission_cents=(match.ledger.amount_cents * rate + 5000) // 10000, reference=match.ledger.reference))
    return result


def statement_rows(st: Statement) -> list[list[Any]]:
    """The statement as rows for CSV (headers first); cents shown as yuan with 2 decimals."""
    def yuan(c: int) -> str:
        return f"{c / 100:.2f}"

    rows: list[list[Any]] = [["account_no", "paid_on", "amount", "bucket", "rate_bp", "commission", "reference"]]
    rows += [[line.account_no, line.paid_on.isoformat(), yuan(line.amount_cents), line.bucket, line.rate_bp,
              yuan(line.commission_cents), line.reference] for line in st.lines]
    rows.append(["TOTAL", "", yuan(st.recovered_cents), "", "", yuan(st.commission_cents), ""])
    return rows
