"""The web shell: extensions, the request's database session, navigation, error pages.

Capabilities bring their own blueprints; this package wires them in and keeps the
cross-cutting parts (login, CSRF, language, security headers) in one place.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, g, request, session
from flask_babel import Babel
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

from portal.config import PROJECT_ROOT

LANGUAGES = {"en": "English", "zh_Hans": "简体中文"}

csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()


def translation_directories() -> list[str]:
    """Each capability keeps its own catalogue beside its code."""
    portal_dir = PROJECT_ROOT / "portal"
    dirs = sorted(str(p) for p in portal_dir.glob("*/translations") if p.is_dir())
    extra = [PROJECT_ROOT / "audit" / "translations", PROJECT_ROOT / "vendor_api" / "translations"]
    dirs += [str(p) for p in extra if p.is_dir()]
    return dirs or [str(portal_dir / "web" / "translations")]


def select_locale() -> str:
    from flask import has_request_context

    if not has_request_context():
        # Jobs and the CLI: no reader to ask; messages they store are in the default.
        from flask import current_app

        return str(current_app.config.get("BABEL_DEFAULT_LOCALE", "en"))
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    user = current_user if current_user and current_user.is_authenticated else None
    if user is not None and getattr(user, "language", None) in LANGUAGES:
        return user.language
    match = request.accept_languages.best_match(["en", "zh-CN", "zh"])
    return "zh_Hans" if match and match.startswith("zh") else "en"


def init_app(app: Flask) -> None:
    from portal.web import door, errors, nav

    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "identity.login"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def _load_user(token: str) -> Any:
        from portal.identity.operations import load_session_user

        return load_session_user(door.db(), token)

    app.teardown_request(door.close_session)
    app.before_request(door.enforce_session_rules)
    app.after_request(_security_headers)
    errors.register(app)
    nav.register_template_helpers(app)
    _register_blueprints(app)
    app.permanent_session_lifetime = timedelta(hours=12)


def _register_blueprints(app: Flask) -> None:
    from portal.web.blueprints import BLUEPRINTS

    for blueprint in BLUEPRINTS():
        app.register_blueprint(blueprint)


def _security_headers(response: Any) -> Any:
    headers = response.headers
    headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    )
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if current_user and getattr(current_user, "is_authenticated", False):
        # Pages with debtor data must not linger in shared caches or the back button.
        headers.setdefault("Cache-Control", "no-store")
    return response


def static_root() -> Path:
    return PROJECT_ROOT / "templates" / "static"


__all__ = ["LANGUAGES", "babel", "csrf", "g", "init_app", "login_manager"]
