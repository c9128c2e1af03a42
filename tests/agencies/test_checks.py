from __future__ import annotations

from datetime import timedelta

import pytest

from portal import clock
from portal.agencies.checks import (
    check_scope_mentions_collection,
    check_years_in_operation,
    uscc_check_digit,
    uscc_problem,
)
from portal.agencies.models import Agency


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000802100433B", "91440300708461136T",
                                  "914403001922038216", "91350100m000100y43"])
def test_real_unified_social_credit_codes_are_accepted(code: str) -> None:
    assert uscc_problem(code) is None


def test_a_mistyped_check_digit_is_refused_naming_the_right_one() -> None:
    problem = uscc_problem("91350100M000100Y44")
    assert problem and "should be 3" in problem


@pytest.mark.parametrize("code,fragment", [
    ("9135010", "18 characters"),
    ("91350100M000100YI3", "cannot contain I"),
    ("H1350100M000100Y43", "first character"),
    ("9135A100M000100Y43", "administrative division"),
])
def test_malformed_codes_are_refused_with_the_reason(code: str, fragment: str) -> None:
    problem = uscc_problem(code)
    assert problem and fragment in problem


def test_every_single_character_change_is_caught_by_the_check_digit() -> None:
    body = "91310000123456789"
    good = body + uscc_check_digit(body)
    charset = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    for pos in range(8, 17):
        for ch in charset:
            if ch != good[pos]:
                changed = good[:pos] + ch + good[pos + 1:]
                assert uscc_problem(changed) is not None


def test_years_in_operation_counts_full_years_against_the_policy(db) -> None:
    agency = Agency(name="x", registered_on=clock.today() - timedelta(days=364))
    assert not check_years_in_operation(db, agency).passed
    agency.registered_on = clock.today().replace(year=clock.today().year - 1)
    assert check_years_in_operation(db, agency).passed


def test_scope_must_mention_collection(db) -> None:
    assert not check_scope_mentions_collection(db, Agency(name="x", licence_scope="软件开发；技术咨询")).passed
    assert check_scope_mentions_collection(db, Agency(name="x", licence_scope="逾期账款催收服务")).passed


def test_the_words_the_scope_check_looks_for_are_a_policy_row(db) -> None:
    from portal.policies.operations import set_value
    from tests.factories import make_user

    agency = Agency(name="x", licence_scope="受托从事信用卡逾期账款催收", is_law_firm=False)
    assert check_scope_mentions_collection(db, agency).passed
    set_value(db, make_user(db, "admin"), "onboarding.scope_words", ["委托清收"], "the bank's own wording")
    assert not check_scope_mentions_collection(db, agency).passed
    agency.licence_scope = "接受金融机构委托清收不良资产"
    assert check_scope_mentions_collection(db, agency).passed


def test_the_expiry_dashboards_default_horizon_is_a_policy_row(client, db) -> None:
    from portal.policies.operations import set_value
    from tests.agencies import builders as b
    from tests.conftest import login
    from tests.factories import make_user

    cast = b.Cast(db)
    agency = b.active(db, cast)  # nothing expires within 90 days; contract and due diligence in 365
    login(client, cast.vm)
    assert agency.name not in client.get("/agencies/expiry").get_data(as_text=True)
    set_value(db, make_user(db, "admin"), "expiry.dashboard_days", 400, "look further ahead")
    assert agency.name in client.get("/agencies/expiry").get_data(as_text=True)
