"""The shell's own pages: each role's home, the language switch, the health check."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import text

from portal.web import LANGUAGES
from portal.web.door import actor, db, safe_path
from portal.web.home import home_panels

bp = Blueprint("web", __name__)


@bp.get("/")
def index() -> Any:
    if not current_user.is_authenticated:
        return redirect(url_for("identity.login"))
    return redirect(url_for("web.home"))


@bp.get("/home")
@login_required
def home() -> Any:
    return render_template("web/home.html", panels=home_panels(db(), actor()))


@bp.post("/language")
def set_language() -> Any:
    lang = request.form.get("lang", "")
    if lang in LANGUAGES:
        session["lang"] = lang
    # Only ever send the user back into this site.
    return redirect(safe_path(request.form.get("next") or request.referrer, url_for("web.index")))


@bp.get("/healthz")
def health() -> Any:
    db().execute(text("SELECT 1"))
    return {"status": "ok"}


NAV_HOME = _l("Home")
