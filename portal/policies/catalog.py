"""The policy keys the portal knows, each with its default (the preset a bank starts from),
unit and meaning. ``ensure_defaults`` writes missing rows after every migration; after
that the rows, not this file, are what the portal obeys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class PolicyDef:
    key: str
    default: Any
    unit: str
    description: Any  # lazy string


MB = 1024 * 1024

CATALOG: tuple[PolicyDef, ...] = (
    # identity
    PolicyDef("login.max_failures", 5, "attempts", _l("Failed logins before the account locks")),
    PolicyDef("login.lockout_minutes", 15, "minutes", _l("How long a locked account stays locked")),
    PolicyDef("mfa.required_roles", ["admin", "approver"], "roles",
              _l("Roles that must enrol a TOTP authenticator before using the portal")),
    PolicyDef("session.lifetime_hours", 8, "hours", _l("Longest a login session lasts")),
    PolicyDef("password.min_length", 12, "characters", _l("Shortest password accepted")),
    # documents
    PolicyDef("documents.max_bytes", 20 * MB, "bytes", _l("Largest evidence document accepted")),
    # onboarding (seed 001)
    PolicyDef("onboarding.min_years_in_operation", 1, "years",
              _l("Years since registration an agency needs")),
    PolicyDef("onboarding.min_fi_clients", 2, "clients",
              _l("Existing financial-institution clients an agency needs")),
    PolicyDef("onboarding.due_diligence_valid_days", 365, "days",
              _l("How long a due-diligence review stays valid")),
    PolicyDef("onboarding.exit_refusal_years", 3, "years",
              _l("How long an agency on the exit register is refused")),
    PolicyDef("onboarding.min_agencies_per_region", 3, "agencies",
              _l("Active agencies a bank keeps per region where it can")),
    PolicyDef("expiry.alert_days_before", 30, "days", _l("First expiry alert, days before")),
    PolicyDef("expiry.reminder_every_days", 7, "days", _l("Reminder interval after the first alert")),
    PolicyDef("expiry.grace_days", 30, "days",
              _l("Days after expiry before the agency is suspended from new placements")),
    PolicyDef("recordings.retention_min_months", 12, "months",
              _l("Shortest call-recording retention a contract may set")),
    PolicyDef("contracts.conduct_presets", ["cn-cba-2026"], "presets",
              _l("Conduct policy presets a contract may name")),
    # cases and placement (seeds 001, 002)
    PolicyDef("buckets.monthly", [["M1", 1, 30], ["M2", 31, 60], ["M3", 61, 90], ["M4+", 91, None]],
              "ladder", _l("Monthly bucket ladder: [code, first day, last day] (seed 000)")),
    PolicyDef("buckets.leasing", [["L1", 1, 15], ["L2", 16, 30], ["L3", 31, 45], ["L4", 46, None]],
              "ladder", _l("Leasing bucket ladder (seeds 002, 003)")),
    PolicyDef("buckets.ladder_by_product", {"lease": "buckets.leasing"}, "map",
              _l("Which ladder a product uses; others use the monthly ladder")),
    PolicyDef("eligibility.min_dpd", 11, "days", _l("Days past due from which a case may be outsourced")),
    PolicyDef("eligibility.early_flags", ["lost_contact", "poor_willingness", "high_risk"], "flags",
              _l("Flags that make a case eligible before the minimum days past due")),
    PolicyDef("placement.term_days", 90, "days", _l("Default placement term")),
    PolicyDef("placement.max_share_per_agency", 0.5, "ratio",
              _l("Largest share of one batch any single agency may receive (concentration)")),
    PolicyDef("placement.challenger_share", 0.1, "ratio",
              _l("Share of a batch given to challenger agencies in a champion/challenger split")),
    PolicyDef("recall.ack_hours", 24, "hours", _l("Hours an agency has to acknowledge a recall")),
    PolicyDef("imports.max_field_chars", 4096, "characters",
              _l("Longest single cell accepted in a case or ledger import file")),
    PolicyDef("imports.background_bytes", 2 * MB, "bytes",
              _l("Import files larger than this run in the background with progress shown")),
    PolicyDef("imports.max_errors_listed", 1000, "errors",
              _l("Most row errors kept in an import's error report")),
    PolicyDef("reconciliation.match_window_days", 3, "days",
              _l("Days between an agency-reported payment and the ledger payment that still match")),
    PolicyDef("onboarding.scope_words",
              ["催收", "催告", "账款管理", "逾期账款", "collection", "debt recovery", "律师事务所", "law firm"], "words",
              _l("Words in a licence scope that show it covers collection (the automatic check)")),
    PolicyDef("onboarding.recall_on_suspension", True, "yes/no",
              _l("Suspending an agency recalls all its active placements")),
    PolicyDef("expiry.dashboard_days", 90, "days", _l("How far ahead the expiry dashboard looks by default")),
    PolicyDef("imports.max_amount_cents", 1_000_000_000_000, "cents",
              _l("Largest amount accepted in an import, a payment report or a batch filter (cents)")),
    PolicyDef("imports.max_xlsx_uncompressed_bytes", 512 * MB, "bytes",
              _l("Largest total uncompressed size of an XLSX workbook accepted for import")),
    PolicyDef("imports.max_xlsx_ratio", 100, "ratio",
              _l("Highest compression ratio of an XLSX workbook accepted for import (zip bombs)")),
    PolicyDef("eligibility.blocking_flags", ["deceased", "litigation", "complaint", "do_not_contact"], "flags",
              _l("Flags that keep a case in-house whatever its days past due")),
    PolicyDef("placement.max_term_days", 180, "days", _l("Longest placement term a batch may set")),
    PolicyDef("placement.background_cases", 5000, "cases",
              _l("Batches with more candidate cases than this are released in the background")),
    PolicyDef("audit.max_ids_listed", 1000, "ids",
              _l("Most ids listed in one audit entry (a digest and the count cover the rest)")),
)

BY_KEY = {d.key: d for d in CATALOG}
