"""Access matrix entries for the placement pages (see tests/access/world.py)."""

from __future__ import annotations

from typing import Any

from tests.access.world import HIDDEN, Route, World, only


def _batch(w: World) -> dict[str, Any]:
    from portal.placements.operations import build_batch

    return {"batch_id": build_batch(w.db, w.users["vendor_manager"], {}, "capacity").id}


def _placement(w: World) -> dict[str, Any]:
    from sqlalchemy import select

    from portal.placements.models import Placement

    return {"placement_id": w.db.scalars(select(Placement.id).where(Placement.case_id == w.case_a.id)).first()}


BANK_READERS = ("vendor_manager", "approver", "auditor")

ROUTES = [
    Route("placements.index", only(*BANK_READERS)),
    Route("placements.build", only("vendor_manager"), method="POST"),
    Route("placements.batch", only(*BANK_READERS), _batch),
    Route("placements.refresh", only("vendor_manager"), _batch, method="POST"),
    Route("placements.release", only("approver"), _batch, method="POST"),
    Route("placements.reject", only("approver"), _batch, method="POST"),
    Route("placements.recalls", only("agency_admin_a", "agency_staff_a", "agency_staff_b")),
    Route("placements.acknowledge", only("agency_admin_a", "agency_staff_a", agency_staff_b=HIDDEN), _placement,
          method="POST"),
    Route("placements.reconciliation", only(*BANK_READERS)),
    Route("placements.statements", only(*BANK_READERS, "agency_admin_a")),
    Route("placements.statement_csv", only(*BANK_READERS, "agency_admin_a"),
          lambda w: {"agency": str(w.agency_a.id), "month": "2026-10"}),
]

