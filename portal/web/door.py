"""What every page needs from the shell: the request's session, the actor, committing,
and the login-time rules (MFA enrolment, session lifetime)."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, redirect, request, session, url_for
from flask_login import current_user, logout_user
from sqlalchemy.orm import Session

from portal import clock
from portal.db import Database, mark_for_write

# Endpoints a logged-in user may reach before finishing MFA enrolment.
PRE_MFA_ENDPOINTS = {"identity.mfa_enrol", "identity.logout", "web.set_language", "static"}


def database() -> Database:
    return current_app.extensions["portal.db"]


def db() -> Session:
    if "db_session" not in g:
        g.db_session = database().session()
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            mark_for_write(g.db_session)
    return g.db_session


def commit() -> None:
    db().commit()


def close_session(_exc: BaseException | None = None) -> None:
    session_ = g.pop("db_session", None)
    if session_ is not None:
        session_.rollback()
        session_.close()


def actor() -> Any:
    return current_user._get_current_object() if current_user.is_authenticated else None


def enforce_session_rules() -> Any:
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    from portal.identity.operations import mfa_required
    from portal.policies.operations import value as policy

    started = session.get("login_at")
    lifetime = float(policy(db(), "session.lifetime_hours")) * 3600
    if started is None or clock.now().timestamp() - float(started) > lifetime:
        logout_user()
        session.clear()
        return redirect(url_for("identity.login", next=request.path))
    if (
        request.endpoint not in PRE_MFA_ENDPOINTS
        and not current_user.mfa_enabled
        and mfa_required(db(), current_user)
    ):
        return redirect(url_for("identity.mfa_enrol"))
    return None


def safe_path(target: str | None, fallback: str) -> str:
    """A redirect target inside this site, or ``fallback``. Absolute URLs to this host are
    reduced to their path; anything that a browser could read as another host
    (``//evil``, ``/\\evil``, ``http://evil``) is refused."""
    from urllib.parse import urlsplit

    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        if parts.netloc != request.host:
            return fallback
        target = parts.path + (f"?{parts.query}" if parts.query else "")
    if not target.startswith("/") or target.startswith(("//", "/\\")) or "\\" in target:
        return fallback
    return target


def submit(action: str, change: Any, success: Any, back: str) -> Any:
    """The door of a state-changing button: may the actor do ``action``; is the form's CSRF
    token good; run ``change()`` (one operation); commit and flash ``success`` (text, or a
    function of the result), or show the operation's refusal. Either way back to ``back``.
    "Not allowed" and "not found" are raised, so they answer 403/404 like any page."""
    from flask import abort, flash
    from flask_wtf import FlaskForm

    from portal.errors import DomainError
    from portal.security.access import may

    if not may(actor(), action):
        abort(403)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        result = change()
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        db().rollback()
        flash(str(exc.message), "error")
    else:
        commit()
        flash(success(result) if callable(success) else success, "success")
    return redirect(back)
