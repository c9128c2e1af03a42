"""The audit log for auditors (and bank IT): browse, filter, verify the whole chain."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy import func, select

from audit.models import AuditEntry
from audit.verify import verify_chain
from portal.security.access import may
from portal.web import home, nav
from portal.web.door import actor, db

bp = Blueprint("auditing", __name__, url_prefix="/audit")
nav.add(nav.NavItem("auditing.log", _l("Audit log"), "audit.view", 80))

PAGE = 50


@bp.get("/")
@login_required
def log() -> Any:
    if not may(actor(), "audit.view"):
        abort(403)
    query = select(AuditEntry)
    action = request.args.get("action", "").strip()
    object_id = request.args.get("object", "").strip()
    if action:
        query = query.where(AuditEntry.action.startswith(action))
    if object_id:
        query = query.where(AuditEntry.object_id == object_id)
    try:
        before = int(request.args.get("before", "0"))
    except ValueError:
        before = 0
    if before > 0:
        query = query.where(AuditEntry.seq < before)
    entries = list(db().scalars(query.order_by(AuditEntry.seq.desc()).limit(PAGE)))
    total = db().scalar(select(func.count()).select_from(AuditEntry))
    return render_template("auditing/log.html", entries=entries, total=total, action=action,
                           object_id=object_id, page=PAGE, form=FlaskForm())


@bp.route("/verify", methods=["GET", "POST"])
@login_required
def verify() -> Any:
    if not may(actor(), "audit.verify"):
        abort(403)
    form = FlaskForm()
    verdict = None
    if form.validate_on_submit():
        verdict = verify_chain(db())
    return render_template("auditing/verify.html", form=form, verdict=verdict)


@home.add_source
def _panels(session: Any, user: Any) -> list[home.Panel]:
    if not may(user, "audit.view"):
        return []
    count = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    return [home.Panel(_l("Audit log entries"), count, "auditing.log", _l("Verify the chain from the log page"))]
