"""Forms of the agency pages (Flask-WTF: every form carries its CSRF token). They check
shape only (required, lengths, types); the rules are in ``operations``."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from portal.agencies.documents import KINDS
from portal.agencies.operations.contracts import (
    MAX_ACTIVE_AMOUNT_CENTS,
    MAX_ACTIVE_CASES,
    MAX_INSTALMENT_MONTHS,
    MAX_RETENTION_MONTHS,
)
from portal.agencies.operations.review import MAX_SUMMARY_CHARS


class RegisterForm(FlaskForm):
    name = StringField(_l("Legal name"), validators=[DataRequired(), Length(max=200)])
    uscc = StringField(_l("Unified social credit code"), validators=[Optional(), Length(max=18)])
    region = StringField(_l("Region"), validators=[Optional(), Length(max=50)])


class ClientRow(Form):
    name = StringField(_l("Financial institution"), validators=[Optional(), Length(max=200)])
    since = DateField(_l("Client since"), validators=[Optional()])
    business = StringField(_l("Business outsourced"), validators=[Optional(), Length(max=500)])


class ContactRow(Form):
    name = StringField(_l("Contact name"), validators=[Optional(), Length(max=100)])
    role = StringField(_l("Position"), validators=[Optional(), Length(max=100)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=50)])
    email = StringField(_l("Email"), validators=[Optional(), Length(max=200)])


class ApplicationForm(FlaskForm):
    name = StringField(_l("Legal name"), validators=[DataRequired(), Length(max=200)])
    uscc = StringField(_l("Unified social credit code"), validators=[Optional(), Length(max=18)])
    region = StringField(_l("Region"), validators=[Optional(), Length(max=50)])
    registered_on = DateField(_l("Registration date"), validators=[Optional()])
    registered_address = TextAreaField(_l("Registered address"), validators=[Optional(), Length(max=500)])
    premises = TextAreaField(_l("Business premises (if not the registered address)"),
                             validators=[Optional(), Length(max=500)])
    licence_scope = TextAreaField(_l("Licence scope (经营范围), as registered"),
                                  validators=[Optional(), Length(max=4000)])
    licence_number = StringField(_l("Licence number"), validators=[Optional(), Length(max=100)])
    licence_expires_on = DateField(_l("Licence expires on"), validators=[Optional()])
    is_law_firm = BooleanField(_l("Law firm approved by the judicial authority"))
    collection_system = TextAreaField(_l("Collection system and internal rules"),
                                      validators=[Optional(), Length(max=4000)])
    clients = FieldList(FormField(ClientRow), min_entries=4, max_entries=20)
    contacts = FieldList(FormField(ContactRow), min_entries=2, max_entries=10)


VERDICT_CHOICES = [("pass", _l("Pass")), ("fail", _l("Fail")), ("needs_info", _l("Needs information"))]


class VerdictForm(FlaskForm):
    item_code = StringField(validators=[DataRequired(), Length(max=50)])
    verdict = SelectField(_l("Verdict"), choices=VERDICT_CHOICES, validators=[DataRequired()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])


class InspectionForm(FlaskForm):
    inspected_on = DateField(_l("Inspection date"), validators=[DataRequired()])
    inspectors = StringField(_l("Inspectors (comma-separated)"), validators=[DataRequired(), Length(max=500)])
    summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=MAX_SUMMARY_CHARS)])
    photo = FileField(_l("Photo (optional)"))


class ProposalForm(FlaskForm):
    proposal = SelectField(_l("Proposal"), choices=[("approve", _l("Approve")), ("reject", _l("Reject"))])
    note = TextAreaField(_l("Review summary for the approver"), validators=[DataRequired(), Length(max=4000)])


class DecisionForm(FlaskForm):
    decision = SelectField(_l("Decision"), choices=[("approved", _l("Approve")), ("rejected", _l("Reject"))])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=4000)])


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=4000)])


class LifecycleForm(FlaskForm):
    action = SelectField(_l("Action"), choices=[("suspend", _l("Suspend")), ("reactivate", _l("Reactivate")),
                                                 ("terminate", _l("Terminate"))])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=4000)])
    for_cause = BooleanField(_l("For cause (goes on the exit register)"))
    decision = StringField(_l("Decision reference"), validators=[Optional(), Length(max=500)])


class UploadForm(FlaskForm):
    file = FileField(_l("File (PDF, PNG or JPEG)"), validators=[FileRequired()])
    kind = SelectField(_l("Kind"), choices=list(KINDS.items()))
    title = StringField(_l("Title"), validators=[Optional(), Length(max=200)])
    item_code = SelectField(_l("Evidence for"), choices=[], validate_choice=False)
    expires_on = DateField(_l("Expires on (licences, certificates)"), validators=[Optional()])
    replaces = StringField(validators=[Optional(), Length(max=36)])


class ContractForm(FlaskForm):
    reference = StringField(_l("Contract reference"), validators=[DataRequired(), Length(max=100)])
    starts_on = DateField(_l("Starts on"), validators=[DataRequired()])
    ends_on = DateField(_l("Ends on"), validators=[DataRequired()])
    regions = StringField(_l("Regions (comma-separated)"), validators=[DataRequired(), Length(max=500)])
    max_active_cases = IntegerField(_l("Capacity: active cases"),
                                    validators=[DataRequired(), NumberRange(min=1, max=MAX_ACTIVE_CASES)])
    max_active_amount_yuan = IntegerField(_l("Capacity: active amount (yuan)"),
                                          validators=[DataRequired(),
                                                      NumberRange(min=1, max=MAX_ACTIVE_AMOUNT_CENTS // 100)])
    recording_retention_months = IntegerField(_l("Recording retention (months)"),
                                              validators=[DataRequired(), NumberRange(min=1, max=MAX_RETENTION_MONTHS)])
    conduct_preset = SelectField(_l("Conduct policy preset"), choices=[], validate_choice=False)
    max_waiver_percent = IntegerField(_l("Largest waiver without approval (%)"), default=0,
                                      validators=[Optional(), NumberRange(min=0, max=100)])
    max_instalment_months = IntegerField(_l("Longest instalment plan (months)"), default=0,
                                         validators=[Optional(), NumberRange(min=0, max=MAX_INSTALMENT_MONTHS)])
    renewal_terms = TextAreaField(_l("Renewal conditions"), validators=[Optional(), Length(max=4000)])
    termination_terms = TextAreaField(_l("Termination conditions"), validators=[Optional(), Length(max=4000)])
    signed_document = FileField(_l("Signed contract (PDF)"), validators=[FileRequired()])


class LicenceRenewalForm(FlaskForm):
    licence_number = StringField(_l("Licence number"), validators=[DataRequired(), Length(max=100)])
    licence_expires_on = DateField(_l("Renewed licence expires on"), validators=[DataRequired()])
    licence_scan = FileField(_l("Renewed licence scan (optional)"))


class DueDiligenceForm(FlaskForm):
    done_on = DateField(_l("Due diligence completed on"), validators=[DataRequired()])
    summary = TextAreaField(_l("Findings"), validators=[DataRequired(), Length(max=4000)])
    report = FileField(_l("Due-diligence report (optional)"))


class KeyForm(FlaskForm):
    public_key = TextAreaField(_l("X25519 public key (base64 or PEM)"), validators=[DataRequired(), Length(max=1000)])


class ChecklistItemForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=50)])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("What the reviewer checks"), validators=[Optional(), Length(max=2000)])
    mandatory = BooleanField(_l("Mandatory"), default=True)


class ConfirmForm(FlaskForm):
    """Only a CSRF token, for buttons that change state."""
