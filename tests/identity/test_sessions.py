"""Sessions: MFA enrolment required by policy, logout everywhere, password change, the
session lifetime policy, and the security headers on every page."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest

from portal import clock
from tests.conftest import csrf_from, login, post_form
from tests.factories import PASSWORD, make_user
from tests.identity.helpers import is_logged_in, set_policy, try_login


# -- MFA -----------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["admin", "approver"])
def test_role_needing_mfa_without_totp_is_sent_to_enrolment_and_nowhere_else(db, client, role):
    user = make_user(db, role, mfa_enrolled=False)
    response = try_login(client, user.username, PASSWORD)
    assert response.status_code == 302
    for path in ("/home", "/account", "/policies/", "/audit/", "/users"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].endswith("/account/two-step"), path
    assert client.get("/account/two-step").status_code == 200


@pytest.mark.parametrize("role", ["admin", "approver"])
def test_enrolment_with_a_valid_code_unlocks_the_portal(db, client, role):
    user = make_user(db, role, mfa_enrolled=False)
    try_login(client, user.username, PASSWORD)
    page = client.get("/account/two-step")
    db.expire_all()
    secret = user.totp_secret
    assert secret and secret in page.get_data(as_text=True)
    response = client.post("/account/two-step", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "code": pyotp.TOTP(secret).at(clock.now())})
    assert response.status_code == 302 and response.headers["Location"].endswith("/home")
    assert is_logged_in(client)
    db.expire_all()
    assert user.mfa_enabled


def test_enrolment_with_a_wrong_code_does_not_enable_mfa(db, client):
    user = make_user(db, "admin", mfa_enrolled=False)
    try_login(client, user.username, PASSWORD)
    page = client.get("/account/two-step")
    db.expire_all()
    wrong = f"{(int(pyotp.TOTP(user.totp_secret).at(clock.now())) + 1) % 1_000_000:06d}"
    response = client.post("/account/two-step", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                                      "code": wrong})
    assert response.status_code == 200
    db.expire_all()
    assert not user.mfa_enabled
    assert client.get("/home").headers["Location"].endswith("/account/two-step")


def test_enrolled_user_must_give_a_code_after_the_password(db, client):
    user = make_user(db, "approver")
    response = try_login(client, user.username, PASSWORD)
    assert response.headers["Location"].endswith("/login/verify")
    assert not is_logged_in(client)
    page = client.get("/login/verify")
    bad = client.post("/login/verify", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                             "code": "000000" if pyotp.TOTP(user.totp_secret).at(clock.now()) != "000000" else "111111"})
    assert bad.status_code == 200 and not is_logged_in(client)
    login(client, user)
    assert is_logged_in(client)


def test_roles_outside_the_mfa_policy_are_not_forced_to_enrol(db, client):
    login(client, make_user(db, "vendor_manager"))
    assert client.get("/home").status_code == 200


def test_mfa_roles_are_policy_data(db, client):
    set_policy(db, "mfa.required_roles", ["vendor_manager"])
    try_login(client, make_user(db, "vendor_manager").username, PASSWORD)
    assert client.get("/home").headers["Location"].endswith("/account/two-step")
    other = client.application.test_client()
    login(other, make_user(db, "admin", mfa_enrolled=False))
    assert other.get("/home").status_code == 200


# -- ending sessions -----------------------------------------------------------------------
def test_logout_everywhere_ends_the_users_other_sessions(db, app):
    user = make_user(db, "vendor_manager")
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, user)
    login(phone, user)
    assert is_logged_in(phone)
    response = post_form(laptop, "/logout/everywhere")
    assert response.status_code == 302
    assert not is_logged_in(laptop)
    assert client_redirected_to_login(phone)


def test_logout_everywhere_leaves_other_users_logged_in(db, app):
    a, b = app.test_client(), app.test_client()
    login(a, make_user(db, "vendor_manager"))
    login(b, make_user(db, "vendor_manager"))
    post_form(a, "/logout/everywhere")
    assert is_logged_in(b)


def test_plain_logout_ends_this_session_only(db, app):
    user = make_user(db, "vendor_manager")
    one, two = app.test_client(), app.test_client()
    login(one, user)
    login(two, user)
    post_form(one, "/logout")
    assert not is_logged_in(one)
    assert is_logged_in(two)


def test_password_change_ends_every_session_and_the_old_password(db, app):
    user = make_user(db, "vendor_manager")
    here, elsewhere = app.test_client(), app.test_client()
    login(here, user)
    login(elsewhere, user)
    new = "a brand new long passphrase"
    response = post_form(here, "/account", {"current": PASSWORD, "new": new})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert client_redirected_to_login(elsewhere)
    assert not is_logged_in(here)
    assert try_login(app.test_client(), user.username, PASSWORD).status_code == 401
    fresh = app.test_client()
    login(fresh, user, password=new)
    assert is_logged_in(fresh)


def test_password_change_needs_the_current_password(db, client):
    user = make_user(db, "vendor_manager")
    login(client, user)
    post_form(client, "/account", {"current": "not it at all", "new": "a brand new long passphrase"})
    assert is_logged_in(client)
    assert try_login(client.application.test_client(), user.username, PASSWORD).status_code == 302


def test_session_ends_after_the_policys_lifetime(db, client):
    set_policy(db, "session.lifetime_hours", 2)
    login(client, make_user(db, "vendor_manager"))
    clock.advance(timedelta(hours=1, minutes=59))
    assert is_logged_in(client)
    clock.advance(timedelta(minutes=2))
    assert client_redirected_to_login(client)
    assert not is_logged_in(client)  # and it stays ended


def client_redirected_to_login(client) -> bool:  # type: ignore[no-untyped-def]
    response = client.get("/home")
    return response.status_code == 302 and "/login" in response.headers["Location"]


# -- headers -----------------------------------------------------------------------------
def test_every_page_carries_the_security_headers(db, client):
    for response in (client.get("/login"), client.get("/no-such-page")):
        headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"


def test_pages_for_a_logged_in_user_are_not_cached(db, client):
    login(client, make_user(db, "vendor_manager"))
    assert "no-store" in client.get("/home").headers["Cache-Control"]


def test_hsts_on_https(db, client):
    response = client.get("/login", base_url="https://portal.example")
    assert "max-age=" in response.headers["Strict-Transport-Security"]


def _wrong_code(user) -> str:  # type: ignore[no-untyped-def]
    valid = {pyotp.TOTP(user.totp_secret).at(clock.now() + timedelta(seconds=s)) for s in (-30, 0, 30)}
    return next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in valid)


def _send_code(client, code: str):  # type: ignore[no-untyped-def]
    page = client.get("/login/verify")
    return client.post("/login/verify", data={"csrf_token": csrf_from(page.get_data(as_text=True)), "code": code})


def test_wrong_two_step_codes_lock_the_account_like_wrong_passwords(db, client):
    set_policy(db, "login.max_failures", 3)
    user = make_user(db, "admin")
    wrong = _wrong_code(user)
    for _ in range(3):
        # Each round starts again with the right password: that must not reset the count.
        assert try_login(client, user.username, PASSWORD).headers["Location"].endswith("/login/verify")
        _send_code(client, wrong)
    db.expire_all()
    assert user.locked_until is not None
    # Locked now: the password step refuses, and so does a pending code step.
    response = try_login(client, user.username, PASSWORD)
    assert response.status_code == 401
    assert not is_logged_in(client)


def test_a_right_code_resets_the_failure_count(db, client):
    set_policy(db, "login.max_failures", 3)
    user = make_user(db, "approver")
    try_login(client, user.username, PASSWORD)
    _send_code(client, _wrong_code(user))
    _send_code(client, pyotp.TOTP(user.totp_secret).at(clock.now()))
    assert is_logged_in(client)
    db.expire_all()
    assert user.failed_logins == 0
