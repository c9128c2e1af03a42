from __future__ import annotations

from portal.agencies import lifecycle
from portal.agencies.demo import seed_agencies
from portal.agencies.models import ACTIVE, SUBMITTED, UNDER_REVIEW
from tests.factories import make_agency, make_user


def test_demo_agencies_look_complete_and_the_desk_has_work(db) -> None:
    make_user(db, "vendor_manager", username="manager")
    make_user(db, "approver", username="approver")
    agencies = [make_agency(db, "Huaxia"), make_agency(db, "Pacific")]
    agencies[0].uscc = "91310000MA1FL4XQ3K"  # the demo's code, whose check digit is wrong
    pipeline = seed_agencies(db, agencies)
    for agency in agencies:
        assert agency.status == ACTIVE and lifecycle.mandatory_gaps(db, agency) == []
        assert lifecycle._activatable(db, None, agency) == []
    assert agencies[0].uscc == "91310000MA1FL4XQ3A"
    assert [a.status for a in pipeline] == [UNDER_REVIEW, SUBMITTED]
