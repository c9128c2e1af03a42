"""Template filters: money, dates and times shown in the reader's language."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Flask
from flask_babel import format_date, format_datetime, format_decimal


def money(cents: int | None, currency: str = "CNY") -> str:
    if cents is None:
        return "—"
    symbol = {"CNY": "¥", "USD": "$"}.get(currency, currency + " ")
    return symbol + format_decimal(cents / 100, format="#,##0.00")


def when(value: datetime | date | None, style: str = "medium") -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return format_datetime(value, style)
    return format_date(value, style)


def register_filters(app: Flask) -> None:
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["short_id"] = lambda v: str(v)[:8] if v else ""

    def number(value: Any) -> str:
        return format_decimal(value or 0, format="#,##0")

    app.jinja_env.filters["number"] = number
