"""Journeys through a real browser: each role logs in (enrolling in two-step verification
where its role requires it), sees its own navigation and nobody else's, switches the page
to 简体中文, and logs out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

ALL_KNOWN = {"Users", "Staff", "API tokens", "Policies", "Audit log"}
# role -> (demo login, entries that must be in its menu). Every other known entry must not
# be; entries added later by other capabilities are checked against the access policy.
ROLES = {
    "vendor_manager": ("manager", {"Home", "Policies"}),
    "approver": ("approver", {"Home", "Policies"}),
    "admin": ("admin", {"Home", "Users", "Policies", "Audit log"}),
    "auditor": ("auditor", {"Home", "Policies", "Audit log"}),
    "agency_admin": ("huaxia-admin", {"Home", "Staff", "API tokens"}),
    "agency_staff": ("pacific-staff", {"Home"}),
}
WEB_TRANSLATIONS = Path(__file__).resolve().parents[2] / "portal" / "web" / "translations" / "zh_Hans"


def policy_menu(app: Any, role: str) -> set[str]:
    """The menu the access policy promises this role, in English."""
    from portal.security.access import RULES
    from portal.web import nav

    with app.test_request_context():
        return {"Home"} | {str(i.label) for i in nav._items if role in RULES[i.action]}


def chinese_for(app: Any, *messages: str) -> list[str]:
    """The zh_Hans translations the app really has for these messages (none if the
    catalogue is not written or not compiled yet)."""
    from flask_babel import force_locale, gettext

    with app.test_request_context(), force_locale("zh_Hans"):
        return [t for m in messages if (t := gettext(m)) != m]


def log_in(page: Any, live_server: Any, username: str) -> None:
    page.goto("/login")
    form = page.locator("main form")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(live_server.password)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    if "/account/two-step" in page.url:
        secret = page.locator("[data-testid=totp-secret]").inner_text().strip()
        form = page.locator("main form")
        form.locator("input[name=code]").fill(live_server.totp_now(secret))
        form.locator("button[type=submit]").click()
        page.wait_for_load_state()
    assert page.url.rstrip("/").endswith("/home"), f"{username} landed on {page.url}"


def menu(page: Any) -> set[str]:
    return {t.strip() for t in page.locator("header nav.mainnav a").all_inner_texts()}


@pytest.mark.parametrize("role", list(ROLES))
def test_each_role_sees_its_menu_switches_to_chinese_and_logs_out(
    role: str, page: Any, live_server: Any, screenshots: Path
) -> None:
    username, must_have = ROLES[role]
    assert live_server.logins[username] == role
    log_in(page, live_server, username)

    shown = menu(page)
    assert must_have <= shown, f"{role} misses {must_have - shown}"
    assert not (shown & (ALL_KNOWN - must_have)), f"{role} sees {shown & (ALL_KNOWN - must_have)}"
    assert shown == policy_menu(live_server.app, role)
    assert page.locator("html").get_attribute("lang") == "en"
    page.screenshot(path=str(screenshots / f"{role}-en.png"), full_page=True)

    page.locator("header form.lang button[value=zh_Hans]").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert page.url.rstrip("/").endswith("/home")
    translated = chinese_for(live_server.app, "Log out", "Home")
    if translated:
        body = page.locator("body").inner_text()
        assert all(t in body for t in translated), f"{translated} not on the page"
    elif IN_CI and any(WEB_TRANSLATIONS.glob("LC_MESSAGES/*.po")):
        pytest.fail("the zh_Hans catalogue exists but is not compiled (make compile-translations)")
    assert len(menu(page)) == len(shown)
    page.screenshot(path=str(screenshots / f"{role}-zh.png"), full_page=True)

    page.locator("header form[action$='/logout'] button").click()
    page.wait_for_load_state()
    assert "/login" in page.url
    assert page.locator("header nav.mainnav").count() == 0
    assert page.locator("html").get_attribute("lang") == "zh-Hans"  # the choice outlives the login
    page.goto("/home")
    assert "/login" in page.url
