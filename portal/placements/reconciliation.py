"""Reconciliation and commission (DOMAIN.md §2: money goes to the bank, never through the
agency).

* An agency reports a payment on a case it holds (``report_payment``, scoped path).
* ``reconcile`` pairs reports with the bank's ledger payments on the same case: same
  amount, dates within ``reconciliation.match_window_days``; each ledger payment pairs at
  most once. What stays unpaired on either side is listed.
* Commission is earned only on *reconciled* recoveries paid *inside the placement term*
  (placed_at ≤ paid ≤ recall or term end), at the contract's rate for the case's bucket at
  placement (basis points).
"""

from __future__ import annotations

import calendar
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
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
    if paid_on > clock.today() or paid_on < placement.placed_at.date():
        raise InvalidInput("payment.bad_date", _l("The payment date must lie between the placement and today."))
    report = PaymentReport(id=uuid.uuid4(), agency_id=placement.agency_id, case_id=case.id, placement_id=placement.id,
                           paid_on=paid_on, amount_cents=amount_cents, reference=(reference or "").strip()[:100] or None,
                           reported_by=getattr(actor, "id", None), reported_at=clock.now())
    session.add(report)
    session.flush()
    record(session, actor, "payment.reported", "case", case.id, after={"amount_cents": amount_cents, "paid_on": paid_on})
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


def reconcile(session: Session, actor: Any, start: date, end: date, agency_id: uuid.UUID | None = None) -> Reconciliation:
    if actor.role in AGENCY_ROLES:
        # An agency sees its own side only (for its statement), never the bank's whole ledger.
        require(actor, "statement.view")
        agency_id = actor.agency_id
    else:
        require(actor, "reconciliation.view")
    window = timedelta(days=int(policy(session, "reconciliation.match_window_days")))
    reports_q = select(PaymentReport).where(PaymentReport.paid_on.between(start - window, end + window))
    if agency_id is not None:
        reports_q = reports_q.where(PaymentReport.agency_id == agency_id)
    reports = list(session.scalars(reports_q.order_by(PaymentReport.paid_on, PaymentReport.reported_at)))
    ledger_q = select(LedgerPayment).where(LedgerPayment.paid_on.between(start - window, end + window))
    if agency_id is not None:
        # The agency's side of the ledger: payments on cases it held at some time.
        ledger_q = ledger_q.where(LedgerPayment.case_id.in_(
            select(Placement.case_id).where(Placement.agency_id == agency_id)))
    ledger = list(session.scalars(ledger_q.order_by(LedgerPayment.paid_on, LedgerPayment.reference)))
    by_case: dict[uuid.UUID | None, list[LedgerPayment]] = {}
    for payment in ledger:
        by_case.setdefault(payment.case_id, []).append(payment)
    used: set[uuid.UUID] = set()
    result = Reconciliation(start, end)
    for report in reports:
        best = None
        for payment in by_case.get(report.case_id, []):
            if payment.id in used or payment.amount_cents != report.amount_cents:
                continue
            gap = abs((payment.paid_on - report.paid_on).days)
            if gap <= window.days and (best is None or gap < abs((best.paid_on - report.paid_on).days)):
                best = payment
        if best is not None:
            used.add(best.id)
            if start <= best.paid_on <= end:
                result.matched.append(Match(report, best))
        elif start <= report.paid_on <= end:
            result.unmatched_reports.append(report)
    result.unmatched_ledger = [p for p in ledger if p.id not in used and start <= p.paid_on <= end]
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


def _in_term(placement: Placement, paid_on: date) -> bool:
    ends: datetime = placement.term_ends_at
    if placement.status != ACTIVE and placement.recalled_at is not None:
        ends = min(ends, placement.recalled_at)
    return placement.placed_at.date() <= paid_on <= ends.date()


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
    placements = {p.id: p for p in session.scalars(select(Placement).where(
        Placement.id.in_([m.report.placement_id for m in rec.matched])))}
    accounts = dict(session.execute(select(Case.id, Case.account_no).where(
        Case.id.in_([m.report.case_id for m in rec.matched]))).all())
    result = Statement(agency, start, end)
    for match in rec.matched:
        placement = placements[match.report.placement_id]
        paid = match.ledger.paid_on
        if not _in_term(placement, paid):
            result.outside_term += 1  # no commission on money recovered after recall
            continue
        contract = next((c for c in contracts if c.starts_on <= paid <= c.ends_on), None)
        rate = int((contract.commission_bp or {}).get(placement.bucket_at_placement, 0)) if contract else 0
        result.lines.append(StatementLine(
            account_no=accounts.get(match.report.case_id, ""), paid_on=paid, amount_cents=match.ledger.amount_cents,
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
