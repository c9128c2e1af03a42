"""The one clock. Everything asks it for "now" so tests can freeze and move time.

Storage is timezone-aware UTC; debtor-local time appears only where a rule needs it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

_frozen: datetime | None = None


def now() -> datetime:
    return _frozen if _frozen is not None else datetime.now(UTC)


def today() -> date:
    return now().date()


def freeze(at: datetime) -> None:
    global _frozen
    if at.tzinfo is None:
        raise ValueError("the clock only holds timezone-aware times")
    _frozen = at.astimezone(UTC)


def advance(delta: timedelta) -> None:
    global _frozen
    _frozen = now() + delta


def unfreeze() -> None:
    global _frozen
    _frozen = None


@contextmanager
def frozen(at: datetime) -> Iterator[None]:
    previous = _frozen
    freeze(at)
    try:
        yield
    finally:
        globals()["_frozen"] = previous
