"""Eligibility for outsourcing as data (seed 001 第九条): a case may be placed from
``eligibility.min_dpd`` days past due, or earlier when it carries one of the
``eligibility.early_flags`` (lost contact, poor willingness, high risk). Only open cases
qualify, and never one carrying an ``eligibility.blocking_flags`` flag (deceased,
litigation, complaint, do not contact): those stay in-house whatever their DPD. The rule
is one SQL condition so that a batch filter of a million cases stays one query."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, String, cast, false, not_, or_
from sqlalchemy.orm import Session

from portal.cases.models import Case
from portal.policies.operations import value as policy


@dataclass(frozen=True)
class Rule:
    min_dpd: int
    early_flags: list[str]
    blocking_flags: list[str]


def rule(session: Session) -> Rule:
    return Rule(int(policy(session, "eligibility.min_dpd")), list(policy(session, "eligibility.early_flags")),
                list(policy(session, "eligibility.blocking_flags")))


def is_eligible(case: Any, rule_: Rule) -> bool:
    flags = set(case.flags or [])
    return (case.status == "open" and not flags & set(rule_.blocking_flags)
            and (case.dpd >= rule_.min_dpd or bool(flags & set(rule_.early_flags))))


def flag_condition(flags: list[str]) -> ColumnElement[bool]:
    """Cases carrying any of ``flags``. Flags are a JSON list; matching its text form with
    the quoted flag works on SQLite and PostgreSQL alike (flag names are plain words)."""
    if not flags:
        return false()
    text_form = cast(Case.flags, String)
    return or_(*[text_form.like(f'%"{flag}"%') for flag in flags])


def condition(session: Session) -> ColumnElement[bool]:
    r = rule(session)
    cond = (Case.status == "open") & or_(Case.dpd >= r.min_dpd, flag_condition(r.early_flags))
    if r.blocking_flags:
        cond = cond & not_(flag_condition(r.blocking_flags))
    return cond
