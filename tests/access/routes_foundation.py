"""Access matrix entries for the foundation's routes: the shell, identity, the audit log,
policies, task progress, the vendor API's index and static files.

Notes on expectations that may look odd:
* ``identity.mfa_verify`` without a pending password step sends everyone to the login page.
* Logging out (either kind) ends on the login page, for every role: ``LOGIN``.
* ``identity.user_change`` hides (404) the users a role cannot manage, rather than 403.
* The vendor API authenticates by agency token only: a browser session is worth nothing
  there (401 problem+json for everybody).
"""

from __future__ import annotations

from typing import Any

from tests.access.world import DENIED, HIDDEN, LOGIN, OK, Route, World, expect, only

ALL_OK = expect(OK, anonymous=OK)


def _user_of_agency_a(w: World) -> dict[str, Any]:
    from tests.factories import make_user

    return {"user_id": make_user(w.db, "agency_staff", w.agency_a).id, "change": "disable"}


def _token_of_agency_a(w: World) -> dict[str, Any]:
    from portal.identity.operations import create_api_token

    token, _secret = create_api_token(w.db, w.users["agency_admin_a"], "collection platform")
    w.db.flush()
    return {"token_id": token.id}


def _task_of_staff_a(w: World) -> dict[str, Any]:
    from portal.tasks import operations as tasks

    task = tasks.create(w.db, w.users["agency_staff_a"], "test.export", {})
    w.db.flush()
    return {"task_id": task.id}


ROUTES = [
    # -- the shell ---------------------------------------------------------------------
    Route("web.index", expect(OK)),
    Route("web.home", expect(OK)),
    Route("web.health", ALL_OK),
    Route("web.set_language", ALL_OK, method="POST", data=lambda w: {"lang": "zh_Hans", "next": "/"}),
    Route("static", ALL_OK, params=lambda w: {"filename": "portal.css"}),
    # -- identity ----------------------------------------------------------------------
    Route("identity.login", ALL_OK),
    Route("identity.mfa_verify", expect(LOGIN)),
    Route("identity.mfa_enrol", expect(OK)),
    Route("identity.logout", expect(LOGIN), method="POST"),
    Route("identity.logout_everywhere", expect(LOGIN), method="POST"),
    Route("identity.account", expect(OK)),
    Route("identity.users", only("admin", "agency_admin_a")),
    Route("identity.user_change", only("admin", "agency_admin_a", denied=HIDDEN), method="POST",
          params=_user_of_agency_a, data=lambda w: {"reason": "left the agency"}),
    Route("identity.tokens", only("agency_admin_a")),
    Route("identity.token_revoke", only("agency_admin_a", denied=DENIED), method="POST",
          params=_token_of_agency_a, data=lambda w: {"reason": "leaked"}),
    # -- audit log, policies, tasks -----------------------------------------------------
    Route("auditing.log", only("auditor", "admin")),
    Route("auditing.verify", only("auditor", "admin")),
    Route("policies.index", only("admin", "vendor_manager", "approver", "auditor")),
    Route("policies.change", only("admin"), method="POST",
          params=lambda w: {"key": "login.max_failures"},
          data=lambda w: {"value": "5", "reason": "matrix"}),
    Route("tasks.show", expect(OK, agency_admin_a=HIDDEN, agency_staff_b=HIDDEN),
          params=_task_of_staff_a),
    # -- the vendor API: tokens only ------------------------------------------------------
    Route("vendor_api.index", expect(401, anonymous=401)),
    Route("vendor_api.openapi", expect(401, anonymous=401)),
    Route("vendor_api.list_cases", expect(401, anonymous=401)),
    Route("vendor_api.show_case", expect(401, anonymous=401), params=lambda w: {"case_id": w.case_a.id}),
    Route("vendor_api.list_recalls", expect(401, anonymous=401)),
    Route("vendor_api.acknowledge_recall", expect(401, anonymous=401), method="POST",
          params=lambda w: {"placement_id": w.case_a.id}),
    Route("vendor_api.report_case_payment", expect(401, anonymous=401), method="POST",
          params=lambda w: {"case_id": w.case_a.id}),
]
