"""Case pages: list and search, detail, imports (cases and ledger) with their error
reports. Agency users reach cases only through the scoped queries: another agency's case
is a 404 by id, by search, by every route here."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path
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
from sqlalchemy.orm import Session

from portal import clock
from portal.cases import queries
from portal.cases.imports import (
    ImportRejected,
    cents,
    import_cases,
    import_ledger,
    max_amount_cents,
    record_refusal,
)
from portal.cases.labels import label
from portal.cases.operations import open_case
from portal.cases.sources import write_csv
from portal.placements import recall
from portal.placements.reconciliation import report_payment
from portal.policies.operations import value as policy
from portal.security.access import may
from portal.security.scoping import get_case
from portal.tasks import operations as tasks
from portal.web import home, nav
from portal.web.door import actor, commit, db, submit

bp = Blueprint("cases", __name__, url_prefix="/cases")


@bp.app_template_filter("case_label")
def _case_label(code: Any, kind: str) -> Any:
    """{{ case.product|case_label('product') }}: the code's name in the reader's language."""
    return label(kind, code)

nav.add(nav.NavItem("cases.index", _l("Cases"), "case.list", 20),
        nav.NavItem("cases.imports", _l("Imports"), "case.import", 25))

IMPORTERS = {"cases": import_cases, "ledger": import_ledger}
KIND_ACTION = {"cases": "case.import", "ledger": "ledger.import"}


@home.add_source
def _panels(session: Session, who: Any) -> list[home.Panel]:
    if not may(who, "case.list"):
        return []
    return [home.Panel(_l("Cases you can see"), queries.count_visible(session, who), "cases.index")]


@bp.get("/")
@login_required
def index() -> Any:
    if not may(actor(), "case.list"):
        abort(403)
    q = request.args.get("q", "")
    cases = queries.search(db(), actor(), q, bucket=request.args.get("bucket", ""),
                           status=request.args.get("status", ""))
    return render_template("cases/index.html", cases=cases, q=q)


@bp.get("/<uuid:case_id>")
@login_required
def show(case_id: uuid.UUID) -> Any:
    if not may(actor(), "case.view"):
        abort(403)
    case = open_case(db(), actor(), case_id)
    page = render_template("cases/show.html", case=case, history=queries.history(db(), actor(), case.id),
                           triggers=recall.MANUAL_TRIGGERS, labels=recall.TRIGGER_LABELS, form=FlaskForm(),
                           today=clock.today().isoformat())
    commit()
    return page


@bp.post("/<uuid:case_id>/recall")
@login_required
def recall_case(case_id: uuid.UUID) -> Any:
    return submit(
        "placement.recall",
        lambda: recall.recall_case(db(), actor(), case_id, request.form.get("trigger", ""),
                                   request.form.get("reason", "")),
        _("The case was recalled; the agency can no longer see it."),
        url_for("cases.show", case_id=case_id),
    )


@bp.post("/<uuid:case_id>/payments")
@login_required
def report(case_id: uuid.UUID) -> Any:
    if not may(actor(), "payment.report"):
        abort(403)
    get_case(db(), actor(), case_id)  # 404 before anything else for another agency's case
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        paid_on = date.fromisoformat(request.form.get("paid_on", ""))
        amount = cents(request.form.get("amount", ""), max_cents=max_amount_cents(db()), positive=True)
    except Exception:  # noqa: BLE001 - any unreadable value is the same user error
        flash(_("Give the payment date (YYYY-MM-DD) and an amount above zero."), "error")
        return redirect(url_for("cases.show", case_id=case_id))
    return submit(
        "payment.report",
        lambda: report_payment(db(), actor(), case_id, paid_on, amount, request.form.get("reference")),
        _("Payment reported; it will be reconciled with the bank's ledger."),
        url_for("cases.show", case_id=case_id),
    )


# -- imports -------------------------------------------------------------------------------------
@bp.get("/imports")
@login_required
def imports() -> Any:
    if not may(actor(), "case.import"):
        abort(403)
    return render_template("cases/imports.html", runs=queries.recent_imports(db(), actor()), form=FlaskForm())


@bp.post("/imports/<kind>")
@login_required
def upload(kind: str) -> Any:
    if kind not in IMPORTERS:
        abort(404)
    if not may(actor(), KIND_ACTION[kind]):
        abort(403)
    if not FlaskForm().validate_on_submit():
        abort(400)
    file = request.files.get("file")
    if file is None or not file.filename:
        flash(_("Choose a CSV or XLSX file."), "error")
        return redirect(url_for("cases.imports"))
    settings = current_app.extensions["portal.settings"]
    folder = Path(settings.upload_dir) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".xlsx" if file.filename.lower().endswith((".xlsx", ".xlsm")) else ".csv"
    path = folder / f"{uuid.uuid4().hex}{suffix}"
    file.save(path)
    filename = Path(file.filename).name
    if path.stat().st_size > int(policy(db(), "imports.background_bytes")):
        return _in_background(kind, path, filename)
    session = db()
    try:
        result = IMPORTERS[kind](session, actor(), path, filename)
        commit()
    except ImportRejected as exc:
        session.rollback()
        run = record_refusal(session, actor(), exc.result, filename)
        commit()
        flash(str(exc.message), "error")
        return redirect(url_for("cases.import_run", run_id=run.id))
    finally:
        path.unlink(missing_ok=True)
    flash(_("Imported: %(inserted)s new, %(updated)s updated, %(unchanged)s unchanged.", inserted=result.inserted,
            updated=result.updated, unchanged=result.unchanged), "success")
    return redirect(url_for("cases.import_run", run_id=result.extra["import_id"]))


def _in_background(kind: str, path: Path, filename: str) -> Any:
    """Hand the file to the queue. If it cannot be queued, the uploaded file (debtor PII in
    clear) is deleted at once and the task marked failed."""
    from portal.cases.jobs import import_in_background

    try:
        task = tasks.create(db(), actor(), f"{kind}_import", {"filename": filename})
        commit()
    except Exception:
        path.unlink(missing_ok=True)
        raise
    try:
        import_in_background(str(task.id), kind, str(path), filename, str(actor().id))
    except Exception:
        current_app.logger.exception("could not queue import task %s", task.id)
        path.unlink(missing_ok=True)
        tasks.Progress(current_app.extensions["portal.db"], task.id).fail(
            _("The import could not be queued; nothing was imported. Try again later."))
        flash(_("The import could not be queued; nothing was imported. Try again later."), "error")
        return redirect(url_for("cases.imports"))
    return redirect(url_for("tasks.show", task_id=task.id))


@bp.get("/imports/<uuid:run_id>")
@login_required
def import_run(run_id: uuid.UUID) -> Any:
    if not may(actor(), "case.import"):
        abort(403)
    return render_template("cases/import_run.html", run=queries.import_run(db(), actor(), run_id))


@bp.get("/imports/<uuid:run_id>/errors.csv")
@login_required
def import_errors(run_id: uuid.UUID) -> Any:
    if not may(actor(), "case.import"):
        abort(403)
    run = queries.import_run(db(), actor(), run_id)
    body = write_csv([["row", "column", "value", "reason"], *run.errors])
    return Response("\ufeff" + body, mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=import-{str(run.id)[:8]}-errors.csv"})


