"""Eligibility for outsourcing as data (seed 001 第九条): a case may be placed from
``eligibility.min_dpd`` days past due, or earlier when it carries one of the
``eligibility.early_flags`` (lost contact, poor willingness, high risk). Only open cases
qualify; the rule is one SQL condition so that a batch filter of a million cases stays
one query."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, String, cast, false, or_
from sqlalchemy.orm import Session

from portal.cases.models import Case
from portal.policies.operations import value as policy


def rule(session: Session) -> tuple[int, list[str]]:
    return int(policy(session, "eligibility.min_dpd")), list(policy(session, "eligibility.early_flags"))


def is_eligible(case: Any, min_dpd: int, early_flags: list[str]) -> bool:
    return case.status == "open" and (case.dpd >= min_dpd or bool(set(case.flags or []) & set(early_flags)))


def flag_condition(flags: list[str]) -> ColumnElement[bool]:
    """Cases carrying any of ``flags``. Flags are a JSON list; matching its text form with
    the quoted flag works on SQLite and PostgreSQL alike (flag names are plain words)."""
    if not flags:
        return false()
    text_form = cast(Case.flags, String)
    return or_(*[text_form.like(f'%"{flag}"%') for flag in flags])


def condition(session: Session) -> ColumnElement[bool]:
    min_dpd, early = rule(session)
    return (Case.status == "open") & or_(Case.dpd >= min_dpd, flag_condition(early))
