"""Login, two-step verification, logout, the user's own account, user administration and
agency API tokens. Pages only: the rules are in ``operations``."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from portal import clock
from portal.errors import DomainError
from portal.identity import operations as ops
from portal.identity.forms import ConfirmForm, LoginForm, PasswordChangeForm, TokenForm, UserForm
from portal.identity.models import User
from portal.security import mfa
from portal.security.access import AGENCY_ADMIN, AGENCY_ROLES, ROLE_LABELS, ROLES, may
from portal.web import home, nav
from portal.web.door import actor, commit, db, safe_path

bp = Blueprint("identity", __name__)


nav.add(
    nav.NavItem("identity.users", _l("Users"), "user.manage", 90),
    nav.NavItem("identity.users", _l("Staff"), "user.manage_own_agency", 90),
    nav.NavItem("identity.tokens", _l("API tokens"), "token.manage_own_agency", 91),
)


def _safe_next(target: str | None) -> str:
    return safe_path(target, url_for("web.home"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            user = ops.authenticate(db(), form.username.data or "", form.password.data or "",
                                    source=request.remote_addr or "")
        except DomainError as exc:
            commit()  # the failure count and its audit entry are the point: keep them
            error = str(exc.message)
        else:
            if user.mfa_enabled:
                commit()
                session.clear()
                session["mfa_user"] = user.get_id()
                session["mfa_next"] = _safe_next(request.args.get("next"))
                return redirect(url_for("identity.mfa_verify"))
            return _finish_login(user, "password")
    return render_template("identity/login.html", form=form, error=error), (401 if error else 200)


def _finish_login(user: User, method: str) -> Any:
    ops.complete_login(db(), user, source=request.remote_addr or "", method=method)
    commit()
    target = session.pop("mfa_next", None) or _safe_next(request.args.get("next"))
    lang = session.get("lang")
    session.clear()  # a fresh session at login: nothing from before survives (fixation)
    if lang:
        session["lang"] = lang
    login_user(user)
    session.permanent = True
    session["login_at"] = clock.now().timestamp()
    return redirect(target)


@bp.route("/login/verify", methods=["GET", "POST"])
def mfa_verify() -> Any:
    pending = session.get("mfa_user")
    user = ops.load_session_user(db(), pending) if pending else None
    if user is None:
        return redirect(url_for("identity.login"))
    from portal.identity.forms import TotpForm

    form = TotpForm()
    error = None
    if form.validate_on_submit():
        try:
            ops.check_totp(db(), user, form.code.data or "")
        except DomainError as exc:
            commit()
            error = str(exc.message)
        else:
            session.pop("mfa_user", None)
            return _finish_login(user, "password+totp")
    return render_template("identity/mfa_verify.html", form=form, error=error)


@bp.route("/account/two-step", methods=["GET", "POST"])
@login_required
def mfa_enrol() -> Any:
    from portal.identity.forms import TotpForm

    user = actor()
    if user.mfa_enabled:
        flash(_("Two-step verification is already on."), "info")
        return redirect(url_for("identity.account"))
    form = TotpForm()
    error = None
    if form.validate_on_submit():
        try:
            ops.confirm_mfa_enrolment(db(), user, form.code.data or "")
        except DomainError as exc:
            error = str(exc.message)
        else:
            commit()
            flash(_("Two-step verification is on."), "success")
            return redirect(url_for("web.home"))
    if not user.totp_secret:
        ops.start_mfa_enrolment(db(), user)
        commit()
    secret = user.totp_secret
    uri = mfa.provisioning_uri(secret, user.username)
    required = ops.mfa_required(db(), user)
    return render_template("identity/mfa_enrol.html", form=form, error=error, secret=secret,
                           qr=mfa.qr_svg(uri), required=required)


@bp.post("/logout")
def logout() -> Any:
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("identity.login"))


@bp.post("/logout/everywhere")
@login_required
def logout_everywhere() -> Any:
    ops.logout_everywhere(db(), actor())
    commit()
    logout_user()
    session.clear()
    flash(_("You are logged out on every device."), "success")
    return redirect(url_for("identity.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account() -> Any:
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            ops.change_password(db(), actor(), form.current.data or "", form.new.data or "")
        except DomainError as exc:
            flash(str(exc.message), "error")
        else:
            commit()
            logout_user()
            session.clear()
            flash(_("Password changed. Log in again."), "success")
            return redirect(url_for("identity.login"))
    return render_template("identity/account.html", form=form, role_labels=ROLE_LABELS,
                           confirm=ConfirmForm())


# -- user administration (admin: everyone; agency admin: their own staff) ----------------
def _user_form(me: Any) -> UserForm:
    from portal.agencies.models import Agency

    form = UserForm()
    if me.role == AGENCY_ADMIN:
        form.role.choices = [(r, str(ROLE_LABELS[r])) for r in AGENCY_ROLES]
        form.agency_id.choices = [(str(me.agency_id), "")]
    else:
        form.role.choices = [(r, str(ROLE_LABELS[r])) for r in ROLES]
        agencies = db().scalars(select(Agency).order_by(Agency.name))
        form.agency_id.choices = [("", _("— bank staff —"))] + [(str(a.id), a.name) for a in agencies]
    return form


@bp.route("/users", methods=["GET", "POST"])
@login_required
def users() -> Any:
    me = actor()
    if not (may(me, "user.manage") or may(me, "user.manage_own_agency")):
        abort(403)
    form = _user_form(me)
    if form.validate_on_submit():
        agency = form.agency_id.data or None
        try:
            ops.create_user(
                db(), me, username=form.username.data or "", display_name=form.display_name.data or "",
                role=form.role.data or "", password=form.password.data or "",
                agency_id=uuid.UUID(agency) if agency else None,
            )
        except DomainError as exc:
            flash(str(exc.message), "error")
        else:
            commit()
            flash(_("Account created."), "success")
            return redirect(url_for("identity.users"))
    return render_template("identity/users.html", form=form, users=ops.users_for(db(), me),
                           role_labels=ROLE_LABELS, confirm=ConfirmForm(), now=clock.now())


@bp.post("/users/<uuid:user_id>/<any(enable,disable,unlock):change>")
@login_required
def user_change(user_id: uuid.UUID, change: str) -> Any:
    me = actor()
    visible = {u.id: u for u in ops.users_for(db(), me)} if (
        may(me, "user.manage") or may(me, "user.manage_own_agency")) else {}
    user = visible.get(user_id)
    if user is None:
        abort(404)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    reason = form.reason.data or ""
    if change == "unlock":
        ops.unlock(db(), me, user)
    else:
        ops.set_active(db(), me, user, change == "enable", reason)
    commit()
    flash(_("Saved."), "success")
    return redirect(url_for("identity.users"))


@bp.route("/tokens", methods=["GET", "POST"])
@login_required
def tokens() -> Any:
    me = actor()
    if not may(me, "token.manage_own_agency"):
        abort(403)
    form = TokenForm()
    new_secret = None
    if form.validate_on_submit():
        _token, new_secret = ops.create_api_token(db(), me, form.name.data or "")
        commit()
    return render_template("identity/tokens.html", form=form, tokens=ops.list_api_tokens(db(), me),
                           new_secret=new_secret, confirm=ConfirmForm())


@bp.post("/tokens/<uuid:token_id>/revoke")
@login_required
def token_revoke(token_id: uuid.UUID) -> Any:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    ops.revoke_api_token(db(), actor(), token_id)
    commit()
    flash(_("Token revoked: it stops working now."), "success")
    return redirect(url_for("identity.tokens"))


@home.add_source
def _panels(session: Any, user: Any) -> list[home.Panel]:
    if not (may(user, "user.manage") or may(user, "user.manage_own_agency")):
        return []
    people = ops.users_for(session, user)
    now = clock.now()
    locked = sum(1 for u in people if u.locked_until and u.locked_until > now)
    panels = [home.Panel(_l("Accounts"), len(people), "identity.users")]
    if locked:
        panels.append(home.Panel(_l("Locked accounts"), locked, "identity.users", _l("Unlock from the users page")))
    return panels
