"""Placement pages: batches (build, preview with what-if, release or reject), recalls and
their acknowledgement, reconciliation, monthly statements (with a CSV that is safe to
open in a spreadsheet)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import clock
from portal.agencies.models import Agency
from portal.cases.imports import CellError, cents, max_amount_cents
from portal.cases.sources import write_csv
from portal.errors import DomainError
from portal.placements import operations as ops
from portal.placements import recall
from portal.placements import reconciliation as rec
from portal.placements.allocation import STRATEGIES
from portal.policies.operations import value as policy
from portal.security.access import AGENCY_ROLES, may
from portal.tasks import operations as tasks
from portal.web import home, nav
from portal.web.door import actor, commit, db, submit

bp = Blueprint("placements", __name__, url_prefix="/placements")
nav.add(nav.NavItem("placements.index", _l("Placement batches"), "placement.view", 30),
        nav.NavItem("placements.recalls", _l("Recalls"), "placement.acknowledge", 31),
        nav.NavItem("placements.reconciliation", _l("Reconciliation"), "reconciliation.view", 32),
        nav.NavItem("placements.statements", _l("Statements"), "statement.view", 33))

PAGE_SIZE = 100  # rows per page of the long lists (recalls, reconciliation)
STRATEGY_LABELS = {"capacity": _l("Capacity-weighted"), "performance": _l("Performance-weighted"),
                   "champion_challenger": _l("Champion / challenger")}


@home.add_source
def _panels(session: Session, who: Any) -> list[home.Panel]:
    if who is not None and who.role in AGENCY_ROLES and may(who, "placement.acknowledge"):
        return [home.Panel(_l("Recalls to acknowledge"), recall.count_unacknowledged(session, who), "placements.recalls")]
    if may(who, "placement.release"):
        drafts = [b for b in ops.list_batches(session, who) if b.status == "draft"]
        return [home.Panel(_l("Batches waiting for release"), len(drafts), "placements.index")]
    return []


def _page() -> int:
    try:
        return max(1, min(int(request.args.get("page", "1")), 10**6))
    except ValueError:
        return 1


def _month() -> tuple[int, int]:
    raw = request.args.get("month") or clock.today().strftime("%Y-%m")
    try:
        year, month = (int(p) for p in raw.split("-", 1))
    except ValueError:
        abort(400)
    return year, month


# -- batches -----------------------------------------------------------------------------------------
def _index(status: int = 200) -> Any:
    agencies = [a for a, _c in ops.receiving_agencies(db())]
    return render_template("placements/index.html", batches=ops.list_batches(db(), actor()), form=FlaskForm(),
                           strategies=STRATEGY_LABELS, agencies=agencies), status


@bp.get("/")
@login_required
def index() -> Any:
    if not may(actor(), "placement.view"):
        abort(403)
    return _index()


def _list(name: str) -> list[str]:
    return [v.strip() for raw in request.form.getlist(name) for v in raw.split(",") if v.strip()]


@bp.post("/batches")
@login_required
def build() -> Any:
    if not may(actor(), "placement.build"):
        abort(403)
    if not FlaskForm().validate_on_submit():
        abort(400)
    criteria: dict[str, Any] = {k: _list(k) for k in ("buckets", "regions", "products", "flags")}
    for key in ("dpd_min", "dpd_max"):
        criteria[key] = request.form.get(key, "")
    ceiling = max_amount_cents(db())
    for key in ("amount_min", "amount_max"):
        raw = request.form.get(key, "").strip()
        if raw:
            try:
                criteria[f"{key}_cents"] = cents(raw, max_cents=ceiling)
            except CellError as exc:
                flash(_("%(field)s: %(reason)s", field=key, reason=exc.reason), "error")
                return _index(400)
    raw_term = request.form.get("term_days", "").strip()
    if raw_term and not (raw_term.isdigit() and len(raw_term) <= 6):
        flash(_("The term is a whole number of days."), "error")
        return _index(400)
    try:
        batch = ops.build_batch(db(), actor(), criteria, request.form.get("strategy", "capacity"),
                                challengers=request.form.getlist("challengers"),
                                term_days=int(raw_term) if raw_term else None, note=request.form.get("note"))
    except DomainError as exc:
        db().rollback()
        flash(str(exc.message), "error")
        return _index(exc.status if 400 <= exc.status < 500 else 400)
    commit()
    return redirect(url_for("placements.batch", batch_id=batch.id))


@bp.get("/batches/<uuid:batch_id>")
@login_required
def batch(batch_id: uuid.UUID) -> Any:
    if not may(actor(), "placement.view"):
        abort(403)
    what_if = request.args.get("strategy")
    b = ops.get_batch(db(), actor(), batch_id)
    preview = None
    if b.status == "draft":
        # The preview kept on the batch; only an explicit what-if computes one afresh.
        if what_if in STRATEGIES and what_if != b.strategy:
            preview = ops.preview(db(), actor(), batch_id, what_if).as_json()
        else:
            preview = b.preview
    return render_template("placements/batch.html", batch=b, preview=preview, strategies=STRATEGY_LABELS,
                           what_if=what_if, form=FlaskForm())


@bp.post("/batches/<uuid:batch_id>/preview")
@login_required
def refresh(batch_id: uuid.UUID) -> Any:
    return submit(
        "placement.build",
        lambda: ops.refresh_preview(db(), actor(), batch_id),
        _("The list of cases and its preview were recomputed from the filter; the approver reviews the new list."),
        url_for("placements.batch", batch_id=batch_id),
    )


@bp.post("/batches/<uuid:batch_id>/release")
@login_required
def release(batch_id: uuid.UUID) -> Any:
    digest = request.form.get("digest", "")
    b = ops.get_batch(db(), actor(), batch_id) if may(actor(), "placement.release") else None
    if b is not None and (b.candidates_count or 0) > int(policy(db(), "placement.background_cases")):
        return _release_in_background(b, digest)
    return submit(
        "placement.release",
        lambda: ops.release(db(), actor(), batch_id, digest=digest),
        lambda counts: _("Released: %(placed)s cases placed, %(skipped)s already placed by another batch, %(left)s kept in-house.",
                         placed=counts["placed"], skipped=counts["skipped_already_placed"], left=counts["unallocated"]),
        url_for("placements.batch", batch_id=batch_id),
    )


def _release_in_background(b: Any, digest: str) -> Any:
    """A large batch: the door's checks (right, CSRF), then what can be checked at once
    (who, which list), then the release is queued and the task's page shows its progress
    and outcome. (``submit`` cannot send us on to a page named by its result.)"""
    from portal.placements.jobs import release_in_background

    if not FlaskForm().validate_on_submit():
        abort(400)
    back = url_for("placements.batch", batch_id=b.id)
    try:
        ops.check_releasable(db(), actor(), b, digest)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        flash(str(exc.message), "error")
        return redirect(back)
    task = tasks.create(db(), actor(), "batch_release", {"batch_id": str(b.id), "cases": b.candidates_count})
    commit()
    try:
        release_in_background(str(task.id), str(b.id), str(actor().id), digest)
    except Exception:
        current_app.logger.exception("could not queue release task %s", task.id)
        tasks.Progress(current_app.extensions["portal.db"], task.id).fail(
            _("The release could not be queued; nothing was placed. Try again later."))
        flash(_("The release could not be queued; nothing was placed. Try again later."), "error")
        return redirect(back)
    return redirect(url_for("tasks.show", task_id=task.id))


@bp.post("/batches/<uuid:batch_id>/reject")
@login_required
def reject(batch_id: uuid.UUID) -> Any:
    return submit(
        "placement.release",
        lambda: ops.reject(db(), actor(), batch_id, request.form.get("reason", "")),
        _("The batch was rejected; its cases stay in-house."),
        url_for("placements.batch", batch_id=batch_id),
    )


# -- recalls -------------------------------------------------------------------------------------------
@bp.get("/recalls")
@login_required
def recalls() -> Any:
    if not may(actor(), "placement.acknowledge"):
        abort(403)
    page = _page()
    total = recall.count_unacknowledged(db(), actor())
    placements = recall.unacknowledged(db(), actor(), limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return render_template("placements/recalls.html", placements=placements, total=total, page=page,
                           page_size=PAGE_SIZE, labels=recall.TRIGGER_LABELS, form=FlaskForm())


@bp.post("/<uuid:placement_id>/acknowledge")
@login_required
def acknowledge(placement_id: uuid.UUID) -> Any:
    return submit(
        "placement.acknowledge",
        lambda: recall.acknowledge(db(), actor(), placement_id),
        _("Recall acknowledged."),
        url_for("placements.recalls"),
    )


# -- money ---------------------------------------------------------------------------------------------
@bp.get("/reconciliation")
@login_required
def reconciliation() -> Any:
    if not may(actor(), "reconciliation.view"):
        abort(403)
    year, month = _month()
    start, end = rec.month_bounds(year, month)
    page = _page()
    result = rec.reconcile(db(), actor(), start, end, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    more = max(result.matched_total, result.unmatched_reports_total, result.unmatched_ledger_total) > page * PAGE_SIZE
    return render_template("placements/reconciliation.html", result=result, month=f"{year:04d}-{month:02d}",
                           page=page, more=more)


def _statement() -> rec.Statement:
    year, month = _month()
    who = actor()
    if who.role in AGENCY_ROLES:
        agency_id = who.agency_id
    else:
        try:
            agency_id = uuid.UUID(request.args.get("agency", ""))
        except ValueError:
            abort(400)
    return rec.statement(db(), who, agency_id, year, month)


@bp.get("/statements")
@login_required
def statements() -> Any:
    if not may(actor(), "statement.view"):
        abort(403)
    st = _statement() if (actor().role in AGENCY_ROLES or request.args.get("agency")) else None
    agencies = [] if actor().role in AGENCY_ROLES else list(db().scalars(select(Agency).order_by(Agency.name)))
    return render_template("placements/statements.html", statement=st, agencies=agencies,
                           month=request.args.get("month") or clock.today().strftime("%Y-%m"))


@bp.get("/statements.csv")
@login_required
def statement_csv() -> Any:
    if not may(actor(), "statement.view"):
        abort(403)
    st = _statement()
    body = write_csv(rec.statement_rows(st))
    name = f"statement-{st.start:%Y-%m}-{str(st.agency.id)[:8]}.csv"
    return Response("\ufeff" + body, mimetype="text/csv", headers={"Content-Disposition": f"attachment; filename={name}"})
