"""Role-aware navigation: each capability lists its entries with the action that shows
them, so the menu and the access policy can never disagree."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, request
from flask_login import current_user

from portal.security.access import ROLE_INTROS, ROLE_LABELS, may


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: Any  # lazy string
    action: str
    order: int = 50


_items: list[NavItem] = []


def add(*items: NavItem) -> None:
    for item in items:
        if item not in _items:
            _items.append(item)


def visible_items() -> list[NavItem]:
    user = current_user if current_user.is_authenticated else None
    return sorted((i for i in _items if may(user, i.action)), key=lambda i: i.order)


def register_template_helpers(app: Flask) -> None:
    from portal.web import LANGUAGES
    from portal.web.format import register_filters

    @app.context_processor
    def _inject() -> dict[str, Any]:
        from flask_babel import get_locale

        return {
            "nav_items": visible_items,
            "may": lambda action, target=None: may(
                current_user if current_user.is_authenticated else None, action, target
            ),
            "languages": LANGUAGES,
            "current_locale": str(get_locale() or "en"),
            "current_endpoint": request.endpoint,
            "role_label": lambda role: ROLE_LABELS.get(role, role),
            "role_intro": lambda role: ROLE_INTROS.get(role, ""),
        }

    register_filters(app)
