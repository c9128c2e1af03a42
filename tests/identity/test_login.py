"""Logging in: CSRF, generic errors, lockout by policy, audit of it, cookie flags."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from audit.models import AuditEntry
from portal import clock
from tests.conftest import login
from tests.factories import PASSWORD, make_user
from tests.identity.helpers import is_logged_in, set_policy, try_login

GENERIC = "Wrong username or password."
LOCKED = "locked after repeated failed logins"


def test_login_without_csrf_token_is_400(db, client):
    user = make_user(db, "vendor_manager")
    client.get("/login")
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 400
    assert not is_logged_in(client)


def test_login_with_a_forged_csrf_token_is_400(db, client):
    user = make_user(db, "vendor_manager")
    client.get("/login")
    response = client.post("/login", data={"csrf_token": "forged", "username": user.username, "password": PASSWORD})
    assert response.status_code == 400


def test_wrong_password_is_401_with_a_generic_message(db, client):
    user = make_user(db, "vendor_manager")
    response = try_login(client, user.username, "not the password")
    assert response.status_code == 401
    assert GENERIC in response.get_data(as_text=True)
    assert not is_logged_in(client)


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(db, client):
    response = try_login(client, "nobody-at-all", "whatever it is")
    assert response.status_code == 401
    assert GENERIC in response.get_data(as_text=True)


def test_disabled_account_gets_the_generic_answer_even_with_the_right_password(db, client):
    user = make_user(db, "vendor_manager")
    user.is_active = False
    db.flush()
    response = try_login(client, user.username, PASSWORD)
    assert response.status_code == 401 and GENERIC in response.get_data(as_text=True)


def test_account_locks_after_the_policys_number_of_failures(db, client):
    set_policy(db, "login.max_failures", 3)
    user = make_user(db, "vendor_manager")
    for _ in range(3):
        assert try_login(client, user.username, "wrong guess").status_code == 401
    response = try_login(client, user.username, PASSWORD)
    assert response.status_code == 401
    assert LOCKED in response.get_data(as_text=True)
    assert not is_logged_in(client)


def test_the_failure_limit_is_data_not_code(db, client):
    set_policy(db, "login.max_failures", 4)
    user = make_user(db, "vendor_manager")
    for _ in range(3):
        try_login(client, user.username, "wrong guess")
    # Three failures do not lock under a limit of four...
    assert try_login(client, user.username, PASSWORD).status_code == 302
    db.expire_all()
    assert user.failed_logins == 0 and user.locked_until is None


def test_a_guesser_cannot_tell_a_locked_account_from_a_wrong_password(db, client):
    set_policy(db, "login.max_failures", 2)
    user = make_user(db, "vendor_manager")
    answers = [try_login(client, user.username, "wrong guess") for _ in range(4)]
    assert {a.status_code for a in answers} == {401}
    assert all(GENERIC in a.get_data(as_text=True) and LOCKED not in a.get_data(as_text=True) for a in answers)


def test_lock_lifts_after_the_policys_lockout_minutes(db, client):
    set_policy(db, "login.max_failures", 2)
    set_policy(db, "login.lockout_minutes", 10)
    user = make_user(db, "vendor_manager")
    for _ in range(2):
        try_login(client, user.username, "wrong guess")
    clock.advance(timedelta(minutes=9, seconds=59))
    assert LOCKED in try_login(client, user.username, PASSWORD).get_data(as_text=True)
    clock.advance(timedelta(seconds=2))
    assert try_login(client, user.username, PASSWORD).status_code == 302
    assert is_logged_in(client)


def test_lockout_is_audited_without_the_passwords(db, client):
    set_policy(db, "login.max_failures", 2)
    user = make_user(db, "vendor_manager")
    try_login(client, user.username, "first wrong guess")
    try_login(client, user.username, "second wrong guess")
    try_login(client, user.username, PASSWORD)
    entries = list(db.scalars(select(AuditEntry).where(AuditEntry.object_id == str(user.id))
                              .order_by(AuditEntry.seq)))
    actions = [e.action for e in entries]
    assert actions[-3:] == ["login.failed", "login.locked", "login.refused_locked"]
    assert entries[-2].after["locked_until"]
    text = repr([(e.before, e.after, e.reason, e.actor_label) for e in entries])
    for secret in ("first wrong guess", "second wrong guess", PASSWORD):
        assert secret not in text


def test_administrator_unlocks_a_locked_account(db, client):
    from portal.identity.operations import unlock

    set_policy(db, "login.max_failures", 1)
    user = make_user(db, "vendor_manager")
    try_login(client, user.username, "wrong guess")
    unlock(db, make_user(db, "admin"), user)
    db.flush()
    assert try_login(client, user.username, PASSWORD).status_code == 302


def test_session_cookie_is_secure_httponly_and_samesite_lax(db, client):
    user = make_user(db, "vendor_manager")
    response = login(client, user)
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("portal_session=")]
    assert cookies, response.headers
    flags = [part.strip().lower() for part in cookies[-1].split(";")]
    assert "secure" in flags
    assert "httponly" in flags
    assert "samesite=lax" in flags


def test_successful_login_is_audited_and_resets_failures(db, client):
    user = make_user(db, "vendor_manager")
    try_login(client, user.username, "wrong guess")
    login(client, user)
    db.expire_all()
    assert user.failed_logins == 0
    assert db.scalars(select(AuditEntry.action).where(AuditEntry.object_id == str(user.id))
                      .order_by(AuditEntry.seq.desc())).first() == "login.succeeded"


def test_login_redirects_only_within_the_site(db, client):
    user = make_user(db, "vendor_manager")
    from tests.conftest import csrf_from

    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login?next=//evil.example/x",
                           data={"csrf_token": token, "username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]


def test_a_two_step_code_is_good_once(db, client, app):
    """A code overheard or phished after its owner used it does not log anybody in."""
    import pyotp

    from portal import clock
    from tests.conftest import csrf_from, login
    from tests.factories import make_user

    approver = make_user(db, "approver")
    login(client, approver)
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/account").get_data(as_text=True))})
    other = app.test_client()
    page = other.get("/login")
    other.post("/login", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                               "username": approver.username, "password": "correct horse battery staple"})
    page = other.get("/login/verify")
    replay = other.post("/login/verify", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                               "code": pyotp.TOTP(approver.totp_secret).at(clock.now())})
    assert replay.status_code == 200
    assert "already used" in replay.get_data(as_text=True)
