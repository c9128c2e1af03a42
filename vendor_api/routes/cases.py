"""GET /api/v1/cases and /api/v1/cases/<id>: only cases placed with the token's agency,
through the same scoped query as the portal's pages. Another agency's case is a 404."""

from __future__ import annotations

import uuid
from typing import Any

from flask import request

from audit.log import record
from portal.cases.models import Case
from portal.cases.operations import open_case
from portal.security.scoping import cases_for
from portal.web.door import commit, db
from vendor_api import api_actor, bp, problem
from vendor_api.schemas.cases import case_json

PAGE_MAX = 200


@bp.get("/cases")
def list_cases() -> Any:
    try:
        limit = min(PAGE_MAX, max(1, int(request.args.get("limit", 50))))
    except ValueError:
        return problem(400, "Bad request", "limit must be a whole number", "query.limit")
    after = request.args.get("after")
    stmt = cases_for(api_actor()).order_by(Case.id).limit(limit)
    if after:
        try:
            stmt = stmt.where(Case.id > uuid.UUID(after))
        except ValueError:
            return problem(400, "Bad request", "after must be a case id", "query.after")
    cases = list(db().scalars(stmt))
    body: dict[str, Any] = {"items": [case_json(c) for c in cases]}
    if len(cases) == limit:
        body["next"] = str(cases[-1].id)
    # Every disclosure of debtor data to an agency is on the record (ids, never the data).
    record(db(), api_actor(), "api.cases_listed", "agency", api_actor().agency_id,
           after={"case_ids": [str(c.id) for c in cases]})
    commit()
    return body


@bp.get("/cases/<case_id>")
def show_case(case_id: str) -> Any:
    case = open_case(db(), api_actor(), case_id, channel="api")
    body = case_json(case)
    commit()
    return body







