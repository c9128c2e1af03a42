"""Agency pages: register, application, review with checklist and evidence, documents,
inspection, four-eyes decision, contract, lifecycle, expiry dashboard, keys.

Pages only: parse the form, call one operation, commit or show the refusal. A refused
transition is audited after the rollback (``lifecycle.record_refusal``), then committed:
the refusal entry is the point, and the rolled-back attempt changed nothing else."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from portal import clock
from portal.agencies import lifecycle, queries
from portal.agencies import operations as ops
from portal.agencies.documents import APPLICANT_KINDS, BANK_ITEMS, KINDS
from portal.agencies.expiry import Rules, alerts_for, watched
from portal.agencies.forms import (
    ApplicationForm,
    ChecklistItemForm,
    ConfirmForm,
    ContractForm,
    DecisionForm,
    DueDiligenceForm,
    InspectionForm,
    KeyForm,
    LicenceRenewalForm,
    LifecycleForm,
    ProposalForm,
    ReasonForm,
    RegisterForm,
    UploadForm,
    VerdictForm,
)
from portal.agencies.models import STATES, AgencyDocument
from portal.agencies.operations.application import APPLICATION_FIELDS
from portal.agencies.operations.contracts import ContractTerms, key_fingerprint, known_buckets
from portal.agencies.operations.documents import documents_of
from portal.agencies.operations.renewals import RENEWABLE_STATES
from portal.db import mark_for_write
from portal.errors import DomainError, NotAllowed, NotFound
from portal.policies.operations import value as policy
from portal.security.access import is_agency, may
from portal.web import home, nav
from portal.web.door import actor, commit, db

bp = Blueprint("agencies", __name__, url_prefix="/agencies")

nav.add(
    nav.NavItem("agencies.index", _l("Agencies"), "agency.list", 20),
    nav.NavItem("agencies.mine", _l("Our agency"), "agency.keys", 20),
    nav.NavItem("agencies.expiry", _l("Expiries"), "expiry.view", 21),
)


@home.add_source
def _panels(session: Any, who: Any) -> list[home.Panel]:
    waiting = queries.waiting_for(session, who)
    panels = []
    if "submitted" in waiting:
        panels.append(home.Panel(_l("Applications to review"), waiting["submitted"], "agencies.index",
                                 _l("Submitted, waiting for a vendor manager")))
    if "proposals" in waiting:
        panels.append(home.Panel(_l("Agency decisions"), waiting["proposals"], "agencies.index",
                                 _l("Reviews waiting for a second person")))
    return panels


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {"labels": lifecycle.STATE_LABELS}


def _attempt(work: Callable[[], Any], success: str) -> bool:
    """Run one operation; commit and flash success, or roll back and flash why not."""
    try:
        work()
    except lifecycle.TransitionRefused as refused:
        db().rollback()
        mark_for_write(db())
        lifecycle.record_refusal(db(), actor(), refused)
        commit()
        flash(str(refused.message), "error")
        return False
    except (NotAllowed, NotFound):
        db().rollback()
        raise  # not a refusal to show on the page: the error page says 403 / 404
    except DomainError as exc:
        db().rollback()
        flash(str(exc.message), "error")
        return False
    commit()
    flash(success, "success")
    return True


def _back(agency_id: Any, page: str = "agencies.show") -> Any:
    return redirect(url_for(page, agency_id=agency_id))


# -- register and list ---------------------------------------------------------------------
@bp.route("/")
@login_required
def index() -> Any:
    me = actor()
    if is_agency(me) and me.agency_id and may(me, "agency.view"):
        return redirect(url_for("agencies.show", agency_id=me.agency_id))
    status = request.args.get("status") or None
    agencies = queries.list_agencies(db(), me, status if status in STATES else None)
    return render_template("agencies/index.html", agencies=agencies, status=status, states=STATES,
                           labels=lifecycle.STATE_LABELS, counts=queries.counts_by_status(db()),
                           form=RegisterForm())


@bp.route("/mine")
@login_required
def mine() -> Any:
    me = actor()
    if not is_agency(me) or me.agency_id is None or not may(me, "agency.view"):
        raise NotAllowed("not_allowed", _("This page is for agency users."))
    return redirect(url_for("agencies.show", agency_id=me.agency_id))


@bp.route("/register", methods=["POST"])
@login_required
def register() -> Any:
    form = RegisterForm()
    if not may(actor(), "agency.register"):
        raise NotAllowed("not_allowed", _("not allowed"))
    if not form.validate_on_submit():
        return render_template("agencies/index.html", agencies=queries.list_agencies(db(), actor()), status=None,
                               states=STATES, labels=lifecycle.STATE_LABELS, counts=queries.counts_by_status(db()),
                               form=form), 422
    created: list[Any] = []
    ok = _attempt(lambda: created.append(ops.register_agency(
        db(), actor(), name=form.name.data or "", uscc=form.uscc.data or None, region=form.region.data or None)),
        _("Agency registered as a draft."))
    if ok:
        return _back(created[0].id, "agencies.application")
    return redirect(url_for("agencies.index"))


# -- one agency ----------------------------------------------------------------------------
@bp.route("/<uuid:agency_id>")
@login_required
def show(agency_id: uuid.UUID) -> Any:
    agency = ops.get_agency(db(), actor(), agency_id)
    contracts = queries.contracts_of(db(), agency.id)
    return render_template(
        "agencies/show.html", agency=agency, labels=lifecycle.STATE_LABELS, main_path=lifecycle.MAIN_PATH,
        contracts=contracts, approvals=queries.approvals_of(db(), agency.id),
        names=queries.user_names(db(), {a.proposed_by for a in queries.approvals_of(db(), agency.id)}
                                 | {a.decided_by for a in queries.approvals_of(db(), agency.id)}),
        exits=queries.exit_entries(db(), agency.id), alerts=alerts_for(db(), agency.id, 20),
        lifecycle_form=LifecycleForm(), confirm=ConfirmForm(), gaps=lifecycle.mandatory_gaps(db(), agency),
        fingerprint=key_fingerprint(agency.public_key) if agency.public_key else None,
        next_states=lifecycle.next_states(agency.status), today=clock.today(),
        in_force=queries.contract_in_force(db(), agency.id, clock.today()),
        previous=queries.previous_application(db(), actor(), agency),
    )


@bp.route("/<uuid:agency_id>/application", methods=["GET", "POST"])
@login_required
def application(agency_id: uuid.UUID) -> Any:
    agency = ops.get_agency(db(), actor(), agency_id, "agency.apply")
    form = ApplicationForm(obj=None if request.method == "POST" else agency)
    if request.method == "GET":
        for i, c in enumerate(agency.clients[: len(form.clients)]):
            form.clients[i].form.name.data, form.clients[i].form.since.data = c.name, c.since
            form.clients[i].form.business.data = c.business
        for i, contact in enumerate(agency.contacts[: len(form.contacts)]):
            for k in ("name", "role", "phone", "email"):
                getattr(form.contacts[i].form, k).data = contact.get(k)
    if form.validate_on_submit():
        fields = {k: getattr(form, k).data for k in APPLICATION_FIELDS}
        clients = [{"name": r.form.name.data, "since": r.form.since.data, "business": r.form.business.data}
                   for r in form.clients]
        contacts = [{k: getattr(r.form, k).data for k in ("name", "role", "phone", "email")} for r in form.contacts]
        if _attempt(lambda: ops.save_application(db(), actor(), agency.id, fields=fields, clients=clients,
                                                 contacts=contacts), _("Application saved.")):
            if request.form.get("then") == "submit":
                _attempt(lambda: ops.submit_application(db(), actor(), agency.id),
                         _("Application submitted to the bank."))
            return _back(agency.id)
    from portal.agencies.checks import application_gaps

    return render_template("agencies/application.html", agency=agency, form=form,
                           gaps=application_gaps(db(), agency), labels=lifecycle.STATE_LABELS,
                           confirm=ConfirmForm())


@bp.route("/<uuid:agency_id>/submit", methods=["POST"])
@login_required
def submit(agency_id: uuid.UUID) -> Any:
    if ConfirmForm().validate_on_submit():
        _attempt(lambda: ops.submit_application(db(), actor(), agency_id), _("Application submitted to the bank."))
    return _back(agency_id)


# -- review ----------------------------------------------------------------------------------
@bp.route("/<uuid:agency_id>/review")
@login_required
def review(agency_id: uuid.UUID) -> Any:
    agency = ops.get_agency(db(), actor(), agency_id, "agency.list")
    approvals = queries.approvals_of(db(), agency.id)
    inspections = queries.inspections_of(db(), agency.id)
    return render_template(
        "agencies/review.html", agency=agency, rows=queries.review_rows(db(), agency),
        labels=lifecycle.STATE_LABELS, approvals=approvals, open_proposal=lifecycle.open_proposal(db(), agency),
        inspections=inspections, gaps=lifecycle.mandatory_gaps(db(), agency),
        names=queries.user_names(db(), {a.proposed_by for a in approvals} | {a.decided_by for a in approvals}
                                 | {i.recorded_by for i in inspections}),
        verdict_form=VerdictForm(), inspection_form=InspectionForm(), proposal_form=ProposalForm(),
        decision_form=DecisionForm(), reason_form=ReasonForm(), confirm=ConfirmForm(), today=clock.today(),
    )


@bp.route("/<uuid:agency_id>/review/start", methods=["POST"])
@login_required
def start_review(agency_id: uuid.UUID) -> Any:
    if ConfirmForm().validate_on_submit():
        _attempt(lambda: ops.start_review(db(), actor(), agency_id), _("Review started."))
    return _back(agency_id, "agencies.review")


@bp.route("/<uuid:agency_id>/verdict", methods=["POST"])
@login_required
def verdict(agency_id: uuid.UUID) -> Any:
    form = VerdictForm()
    if form.validate_on_submit():
        _attempt(lambda: ops.set_verdict(db(), actor(), agency_id, form.item_code.data or "", form.verdict.data or "",
                                         form.note.data), _("Verdict recorded."))
    else:
        ops.get_agency(db(), actor(), agency_id, "agency.review")
        flash(_("Choose a verdict."), "error")
    return redirect(url_for("agencies.review", agency_id=agency_id) + f"#item-{form.item_code.data or ''}")


@bp.route("/<uuid:agency_id>/inspection", methods=["POST"])
@login_required
def inspection(agency_id: uuid.UUID) -> Any:
    form = InspectionForm()
    if not form.validate_on_submit():
        ops.get_agency(db(), actor(), agency_id, "agency.review")
        flash(_("Give the inspection date and the inspectors (at most 500 characters) and a summary of at most "
                "4000 characters."), "error")
        return review(agency_id), 422
    findings = {k.removeprefix("finding_"): v for k, v in request.form.items() if k.startswith("finding_")}

    def work() -> None:
        record = ops.record_inspection(db(), actor(), agency_id, inspected_on=form.inspected_on.data,
                                       inspectors=(form.inspectors.data or "").split(","), findings=findings,
                                       summary=form.summary.data)
        photo = form.photo.data
        if photo and photo.filename:
            ops.upload_document(db(), actor(), agency_id, filename=photo.filename, content=photo.read(),
                                kind="inspection_photo", item_code="onsite_inspection", inspection_id=record.id,
                                title=_("Inspection photo %(d)s", d=record.inspected_on.isoformat()))

    if not _attempt(work, _("Inspection recorded.")):
        return review(agency_id), 422
    return _back(agency_id, "agencies.review")


@bp.route("/<uuid:agency_id>/propose", methods=["POST"])
@login_required
def propose(agency_id: uuid.UUID) -> Any:
    form = ProposalForm()
    if form.validate_on_submit():
        _attempt(lambda: ops.propose(db(), actor(), agency_id, form.proposal.data or "", form.note.data or ""),
                 _("Proposal sent to an approver."))
    else:
        ops.get_agency(db(), actor(), agency_id, "agency.review")
        flash(_("Summarise the review for the approver."), "error")
    return _back(agency_id, "agencies.review")


@bp.route("/<uuid:agency_id>/decide", methods=["POST"])
@login_required
def decide(agency_id: uuid.UUID) -> Any:
    form = DecisionForm()
    if form.validate_on_submit():
        _attempt(lambda: ops.decide(db(), actor(), agency_id, form.decision.data or "", form.reason.data or ""),
                 _("Decision recorded."))
    else:
        ops.get_agency(db(), actor(), agency_id, "agency.approve")
        flash(_("A decision needs a reason."), "error")
    return _back(agency_id, "agencies.review")


@bp.route("/<uuid:agency_id>/return", methods=["POST"])
@login_required
def return_application(agency_id: uuid.UUID) -> Any:
    form = ReasonForm()
    if form.validate_on_submit():
        _attempt(lambda: ops.return_for_information(db(), actor(), agency_id, form.reason.data or ""),
                 _("Application returned to the applicant."))
    else:
        ops.get_agency(db(), actor(), agency_id, "agency.review")
        flash(_("Say what information is missing."), "error")
    return _back(agency_id, "agencies.review")


# -- documents -----------------------------------------------------------------------------
@bp.route("/<uuid:agency_id>/documents", methods=["GET", "POST"])
@login_required
def documents(agency_id: uuid.UUID) -> Any:
    agency = ops.get_agency(db(), actor(), agency_id, "agency.document.view")
    form = UploadForm()
    from portal.agencies.checklist import active_items

    items = active_items(db())
    applicant = is_agency(actor())
    # An agency uploads its own kinds of evidence for its own items (the operation says so
    # too; the choices only spare the user a refusal).
    form.kind.choices = [(k, v) for k, v in KINDS.items() if not applicant or k in APPLICANT_KINDS]
    form.item_code.choices = [("", _("— none —"))] + [(i.code, i.title) for i in items
                                                    if not applicant or i.code not in BANK_ITEMS]
    if request.method == "POST":
        if form.validate_on_submit():
            upload = form.file.data
            if _attempt(lambda: ops.upload_document(
                    db(), actor(), agency.id, filename=upload.filename or "", content=upload.read(),
                    kind=form.kind.data or "other", title=form.title.data, item_code=form.item_code.data or None,
                    expires_on=form.expires_on.data, replaces=form.replaces.data or None),
                    _("Document stored (encrypted).")):
                return redirect(url_for("agencies.documents", agency_id=agency.id))
        else:
            ops.get_agency(db(), actor(), agency_id, "agency.document.upload")
            flash(_("Choose a file to upload and what kind of document it is."), "error")
    docs = documents_of(db(), actor(), agency.id)
    names = queries.user_names(db(), {d.uploaded_by for d in docs})
    sides = queries.uploaded_by_agency(db(), {d.uploaded_by for d in docs})
    replaceable = [d for d in docs if d.is_current and sides.get(d.uploaded_by, False) == applicant]
    return render_template("agencies/documents.html", agency=agency, documents=docs, form=form, kinds=KINDS,
                           items={i.code: i.title for i in items}, replaceable=replaceable,
                           max_mb=int(policy(db(), "documents.max_bytes")) / 1048576, names=names), (
        422 if request.method == "POST" else 200)


@bp.route("/documents/<uuid:document_id>")
@login_required
def download(document_id: uuid.UUID) -> Any:
    mark_for_write(db())  # the download is audited: this GET writes its log entry
    result = ops.read_document(db(), actor(), document_id)
    commit()
    doc: AgencyDocument = result.document
    response = Response(result.content, mimetype=doc.content_type)
    response.headers["Content-Disposition"] = "attachment; filename*=UTF-8''" + _quote(doc.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


# -- contract and lifecycle ------------------------------------------------------------------
@bp.route("/<uuid:agency_id>/contract", methods=["GET", "POST"])
@login_required
def contract(agency_id: uuid.UUID) -> Any:
    agency = ops.get_agency(db(), actor(), agency_id, "agency.contract")
    form = ContractForm()
    presets = list(policy(db(), "contracts.conduct_presets"))
    form.conduct_preset.choices = [(p, p) for p in presets]
    buckets = known_buckets(db())
    if request.method == "GET":
        form.recording_retention_months.data = int(policy(db(), "recordings.retention_min_months"))
        form.regions.data = agency.region or ""
    rates: dict[str, int] = {}
    bad_rates: list[str] = []
    served = [b for b in buckets if request.form.get(f"bucket_{b}")]
    for b in served:
        # A blank rate is left out (the operation names the bucket lacking one); anything
        # that is not a percentage from 0 to 100 is refused here, by name.
        text = (request.form.get(f"rate_{b}") or "").strip()
        if not text:
            continue
        rate = _percent_to_bp(text)
        if rate is None:
            bad_rates.append(b)
        else:
            rates[b] = rate
    if request.method == "POST" and bad_rates:
        flash(_("The commission for %(b)s must be a percentage from 0 to 100 (at most two decimals).",
                b=", ".join(bad_rates)), "error")
    elif form.validate_on_submit():
        upload = form.signed_document.data

        def work() -> None:
            doc = ops.upload_document(db(), actor(), agency.id, filename=upload.filename or "",
                                      content=upload.read(), kind="contract",
                                      title=_("Signed contract %(ref)s", ref=form.reference.data))
            ops.record_contract(db(), actor(), agency.id, ContractTerms(
                reference=form.reference.data or "", starts_on=form.starts_on.data, ends_on=form.ends_on.data,
                regions=(form.regions.data or "").split(","), buckets=served,
                max_active_cases=form.max_active_cases.data or 0,
                max_active_amount_cents=(form.max_active_amount_yuan.data or 0) * 100, commission_bp=rates,
                recording_retention_months=form.recording_retention_months.data or 0,
                conduct_preset=form.conduct_preset.data or "", signed_document_id=doc.id,
                max_waiver_bp=(form.max_waiver_percent.data or 0) * 100,
                max_instalment_months=form.max_instalment_months.data or 0,
                renewal_terms=form.renewal_terms.data, termination_terms=form.termination_terms.data))

        if _attempt(work, _("Contract recorded.")):
            return _back(agency.id)
    elif request.method == "POST":
        flash(_("Check the contract terms: %(fields)s.", fields="; ".join(
            f"{getattr(form, name).label.text}: {' '.join(str(e) for e in errors)}"
            for name, errors in form.errors.items() if name != "csrf_token") or _("the form expired")), "error")
    return render_template("agencies/contract.html", agency=agency, form=form, buckets=buckets,
                           contracts=queries.contracts_of(db(), agency.id), labels=lifecycle.STATE_LABELS), (
        422 if request.method == "POST" else 200)


def _percent_to_bp(text: str) -> int | None:
    """A percentage as typed ("8", "12.5") in basis points; None unless a finite number
    from 0 to 100 with at most two decimals (no float: ``inf`` and ``1e999`` are refused)."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if not value.is_finite() or not 0 <= value <= 100:
        return None
    bp = value * 100
    if bp != bp.to_integral_value():
        return None
    return int(bp)


@bp.route("/<uuid:agency_id>/activate", methods=["POST"])
@login_required
def activate(agency_id: uuid.UUID) -> Any:
    if ConfirmForm().validate_on_submit():
        _attempt(lambda: ops.activate(db(), actor(), agency_id), _("The agency is active."))
    return _back(agency_id)


@bp.route("/<uuid:agency_id>/lifecycle", methods=["POST"])
@login_required
def change_state(agency_id: uuid.UUID) -> Any:
    form = LifecycleForm()
    ops.get_agency(db(), actor(), agency_id)
    if not (may(actor(), "agency.suspend") or may(actor(), "agency.terminate")):
        raise NotAllowed("not_allowed", _("not allowed"))
    if not form.validate_on_submit():
        flash(_("Give a reason."), "error")
        return _back(agency_id)
    reason = form.reason.data or ""
    if form.action.data == "suspend":
        _attempt(lambda: ops.suspend(db(), actor(), agency_id, reason), _("Agency suspended."))
    elif form.action.data == "reactivate":
        _attempt(lambda: ops.reactivate(db(), actor(), agency_id, reason), _("Agency reactivated."))
    else:
        _attempt(lambda: ops.terminate(db(), actor(), agency_id, reason, for_cause=form.for_cause.data,
                                       decision=form.decision.data), _("Agency terminated."))
    return _back(agency_id)


# -- keeping the file current after approval: licence renewal, due diligence -------------------
def _renewals_page(agency: Any, licence_form: Any = None, dd_form: Any = None, status: int = 200) -> Any:
    return render_template("agencies/renewals.html", agency=agency, labels=lifecycle.STATE_LABELS,
                           licence_form=licence_form or LicenceRenewalForm(), dd_form=dd_form or DueDiligenceForm(),
                           renewable=agency.status in RENEWABLE_STATES, history=queries.due_diligence_of(db(), agency.id),
                           valid_days=int(policy(db(), "onboarding.due_diligence_valid_days")), today=clock.today(),
                           names=queries.user_names(db(), {d.recorded_by for d in queries.due_diligence_of(
                               db(), agency.id)})), status


@bp.route("/<uuid:agency_id>/renewals")
@login_required
def renewals(agency_id: uuid.UUID) -> Any:
    return _renewals_page(ops.get_agency(db(), actor(), agency_id, "agency.list"))


@bp.route("/<uuid:agency_id>/renewals/licence", methods=["POST"])
@login_required
def renew_licence(agency_id: uuid.UUID) -> Any:
    agency = ops.get_agency(db(), actor(), agency_id, "agency.review")
    form = LicenceRenewalForm()
    if not form.validate_on_submit():
        flash(_("Give the licence number and the new expiry date."), "error")
        return _renewals_page(agency, licence_form=form, status=422)
    scan = form.licence_scan.data

    def work() -> None:
        doc_id = None
        if scan and scan.filename:
            doc_id = ops.upload_document(db(), actor(), agency.id, filename=scan.filename, content=scan.read(),
                                         kind="licence", item_code="licence_document",
                                         expires_on=form.licence_expires_on.data,
                                         title=_("Business licence %(no)s", no=form.licence_number.data)).id
        ops.renew_licence(db(), actor(), agency.id, form.licence_number.data or "", form.licence_expires_on.data,
                          doc_id)

    if _attempt(work, _("Renewed licence recorded.")):
        return redirect(url_for("agencies.renewals", agency_id=agency.id))
    return _renewals_page(agency, licence_form=form, status=422)


@bp.route("/<uuid:agency_id>/renewals/due-diligence", methods=["POST"])
@login_required
def due_diligence(agency_id: uuid.UUID) -> Any:
    agency = ops.get_agency(db(), actor(), agency_id, "agency.review")
    form = DueDiligenceForm()
    if not form.validate_on_submit():
        flash(_("Give the date the due diligence was completed and its findings (at most 4000 characters)."),
              "error")
        return _renewals_page(agency, dd_form=form, status=422)
    report = form.report.data

    def work() -> None:
        doc_id = None
        if report and report.filename:
            doc_id = ops.upload_document(db(), actor(), agency.id, filename=report.filename, content=report.read(),
                                         kind="due_diligence", item_code="due_diligence_report",
                                         title=_("Due-diligence report %(d)s", d=form.done_on.data.isoformat())).id
        ops.record_due_diligence(db(), actor(), agency.id, form.done_on.data, form.summary.data or "", doc_id)

    if _attempt(work, _("Due diligence recorded.")):
        return redirect(url_for("agencies.renewals", agency_id=agency.id))
    return _renewals_page(agency, dd_form=form, status=422)


# -- expiry dashboard -------------------------------------------------------------------------
MAX_HORIZON_DAYS = 3660  # ten years: further ahead nothing is watched anyway


@bp.route("/expiry")
@login_required
def expiry() -> Any:
    if not may(actor(), "expiry.view"):
        raise NotAllowed("not_allowed", _("not allowed"))
    rules = Rules.load(db())
    today = clock.today()
    default = int(policy(db(), "expiry.dashboard_days"))
    # type=int: anything that is not a plain integer ("²", "1e3", "") falls back to the default.
    horizon = min(max(request.args.get("days", default, type=int), 1), MAX_HORIZON_DAYS)
    rows = []
    for e in watched(db()):
        days_left = (e.expires_on - today).days
        if days_left > horizon:
            continue
        stage = rules.stage(e.expires_on, today)
        rows.append({"e": e, "days_left": days_left, "stage": stage[1] if stage else "upcoming"})
    return render_template("agencies/expiry.html", rows=rows, rules=rules, horizon=horizon, today=today,
                           alerts=alerts_for(db(), None, 30), held=[a for a in queries.list_agencies(db(), actor())
                                                                    if a.placement_hold])


# -- keys and checklist definitions ------------------------------------------------------------
@bp.route("/<uuid:agency_id>/keys", methods=["GET", "POST"])
@login_required
def keys(agency_id: uuid.UUID) -> Any:
    agency = ops.get_agency(db(), actor(), agency_id)
    form = KeyForm()
    if request.method == "POST":
        if form.validate_on_submit():
            if _attempt(lambda: ops.register_public_key(db(), actor(), agency.id, form.public_key.data or ""),
                        _("Public key registered.")):
                return redirect(url_for("agencies.keys", agency_id=agency.id))
        else:
            ops.get_agency(db(), actor(), agency_id, "agency.keys")
            flash(_("Paste the public key."), "error")
    return render_template("agencies/keys.html", agency=agency, form=form,
                           fingerprint=key_fingerprint(agency.public_key) if agency.public_key else None), (
        422 if request.method == "POST" else 200)


@bp.route("/checklist", methods=["GET", "POST"])
@login_required
def checklist() -> Any:
    if not (may(actor(), "agency.list") or may(actor(), "agency.checklist.manage")):
        raise NotAllowed("not_allowed", _("not allowed"))
    form = ChecklistItemForm()
    if request.method == "POST":
        if form.validate_on_submit():
            if _attempt(lambda: ops.add_checklist_item(db(), actor(), code=form.code.data or "",
                                                       title=form.title.data or "", description=form.description.data,
                                                       mandatory=form.mandatory.data), _("Checklist item added.")):
                return redirect(url_for("agencies.checklist"))
        else:
            if not may(actor(), "agency.checklist.manage"):
                raise NotAllowed("not_allowed", _("not allowed"))
            flash(_("Give the item a code and a title."), "error")
    from portal.agencies.checklist import active_items

    return render_template("agencies/checklist.html", items=active_items(db()), form=form), (
        422 if request.method == "POST" else 200)
