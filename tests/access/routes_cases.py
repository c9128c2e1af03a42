"""Access matrix entries for the case pages (see tests/access/world.py)."""

from __future__ import annotations

import uuid
from typing import Any

from tests.access.world import DENIED, HIDDEN, OK, Route, World, expect, only


def _import_run(w: World) -> dict[str, Any]:
    from portal import clock
    from portal.cases.models import ImportRun

    run = ImportRun(id=uuid.uuid4(), kind="cases", filename="x.csv", sha256="0" * 64, status="refused",
                    counts={"rows": 1}, errors=[[2, "principal", "-1", "An amount must not be negative."]],
                    created_at=clock.now())
    w.db.add(run)
    w.db.flush()
    return {"run_id": run.id}


ROUTES = [
    Route("cases.index", expect(OK, admin=DENIED)),
    Route("cases.show", expect(OK, admin=DENIED, agency_staff_b=HIDDEN), lambda w: {"case_id": w.case_a.id}),
    Route("cases.recall_case", only("vendor_manager"), lambda w: {"case_id": w.case_a.id}, method="POST"),
    Route("cases.report", only("agency_admin_a", "agency_staff_a", agency_staff_b=HIDDEN),
          lambda w: {"case_id": w.case_a.id}, method="POST"),
    Route("cases.imports", only("vendor_manager")),
    Route("cases.upload", only("vendor_manager"), lambda w: {"kind": "cases"}, method="POST"),
    Route("cases.import_run", only("vendor_manager"), _import_run),
    Route("cases.import_errors", only("vendor_manager"), _import_run),
]

