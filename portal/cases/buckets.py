"""Buckets from days past due, on ladders that are policy rows (monthly M1–M4+, leasing
1–15/16–30/31–45/>45). A ladder is a list of [code, first day, last day or None]."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, case, literal
from sqlalchemy.orm import Session

from portal.policies.operations import value as policy

CURRENT = "C"  # not past due


@dataclass(frozen=True)
class Ladder:
    rungs: tuple[tuple[str, int, int | None], ...]

    @classmethod
    def from_policy(cls, raw: Sequence[Sequence[Any]]) -> Ladder:
        rungs = tuple((str(code), int(lo), None if hi is None else int(hi)) for code, lo, hi in raw)
        for (_c1, _lo1, hi1), (c2, lo2, _hi2) in zip(rungs, rungs[1:], strict=False):
            if hi1 is None or lo2 != hi1 + 1:
                raise ValueError(f"ladder has a gap or overlap before {c2}")
        return cls(rungs)

    def bucket(self, dpd: int) -> str:
        if dpd < self.rungs[0][1]:
            return CURRENT
        for code, lo, hi in self.rungs:
            if dpd >= lo and (hi is None or dpd <= hi):
                return code
        return self.rungs[-1][0]

    @property
    def codes(self) -> list[str]:
        return [code for code, _lo, _hi in self.rungs]

    def sql_whens(self, dpd: Any, when: Any = None) -> list[tuple[Any, str]]:
        """The ladder as CASE branches over a SQL ``dpd`` expression (rungs are contiguous,
        so each branch needs only its upper bound), each also under ``when``."""
        def both(cond: Any) -> Any:
            return cond if when is None else (when & cond)

        whens: list[tuple[Any, str]] = [(both(dpd < self.rungs[0][1]), CURRENT)]
        for code, _lo, hi in self.rungs:
            whens.append((both(dpd <= hi) if hi is not None else both(dpd >= 0), code))
        return whens


class Ladders:
    """The ladders in force, read once per operation (not once per row)."""

    def __init__(self, session: Session) -> None:
        self.monthly = Ladder.from_policy(policy(session, "buckets.monthly"))
        by_product = policy(session, "buckets.ladder_by_product")
        self.by_product = {p: Ladder.from_policy(policy(session, key)) for p, key in by_product.items()}

    def for_product(self, product: str) -> Ladder:
        return self.by_product.get(product, self.monthly)

    def bucket(self, product: str, dpd: int) -> str:
        return self.for_product(product).bucket(dpd)

    def sql_bucket(self, product: Any, dpd: Any) -> ColumnElement[str]:
        """The bucket as one SQL CASE over ``product`` and a ``dpd`` expression: each
        product's ladder, then the monthly ladder for every other product."""
        whens: list[tuple[Any, str]] = []
        for name, ladder in self.by_product.items():
            whens += ladder.sql_whens(dpd, product == name)
        whens += self.monthly.sql_whens(dpd)
        return case(*whens, else_=literal(self.monthly.rungs[-1][0]))

    def all_codes(self) -> list[str]:
        codes = list(self.monthly.codes)
        for ladder in self.by_product.values():
            codes += [c for c in ladder.codes if c not in codes]
        return codes


def dpd_on(overdue_since: date, today: date) -> int:
    return max(0, (today - overdue_since).days)
