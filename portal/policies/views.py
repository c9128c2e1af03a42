"""Policies page: every rule number, its preset value and who changed it last."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm

from portal.errors import DomainError
from portal.policies import operations as ops
from portal.policies.catalog import BY_KEY
from portal.security.access import may
from portal.web import nav
from portal.web.door import actor, commit, db

bp = Blueprint("policies", __name__, url_prefix="/policies")
nav.add(nav.NavItem("policies.index", _l("Policies"), "policy.view", 85))


@bp.get("/")
@login_required
def index() -> Any:
    if not may(actor(), "policy.view"):
        abort(403)
    return render_template("policies/index.html", policies=ops.all_policies(db()), catalog=BY_KEY,
                           form=FlaskForm(), json=json)


@bp.post("/<key>")
@login_required
def change(key: str) -> Any:
    if not may(actor(), "policy.manage"):
        abort(403)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        new_value = json.loads(request.form.get("value", ""))
    except ValueError:
        flash(_("The value must be a number, true/false, a quoted text or a [list]."), "error")
        return redirect(url_for("policies.index"))
    try:
        ops.set_value(db(), actor(), key, new_value, request.form.get("reason", ""))
    except DomainError as exc:
        flash(str(exc.message), "error")
    else:
        commit()
        flash(_("Policy %(key)s changed.", key=key), "success")
    return redirect(url_for("policies.index"))
