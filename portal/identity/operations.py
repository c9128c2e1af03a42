"""Identity operations: login with lockout, TOTP, sessions, users and API tokens.

Every one takes the session and the acting user, checks ``may``, audits, never commits.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit.log import SystemActor, record
from portal import clock
from portal.errors import Conflict, InvalidInput, NotAllowed, NotFound
from portal.identity.models import ApiToken, User
from portal.policies.operations import value as policy
from portal.security import mfa
from portal.security.access import (
    ADMIN,
    AGENCY_ADMIN,
    AGENCY_ROLES,
    ROLES,
    require,
)
from portal.security.passwords import hash_password, needs_rehash, verify_password

TOKEN_PREFIX = "apt_"
TERMINATED = "terminated"  # the agency lifecycle's final state


def _anonymous(username: str) -> SystemActor:
    return SystemActor(f"anonymous login as {username[:80]!r}")


def authenticate(session: Session, username: str, password: str, *, source: str = "") -> User:
    """Check a password, counting failures against the lockout policy.

    The error never says whether the username exists. A locked account answers "locked"
    only after the right password, so lockout does not confirm an account to a guesser.
    """
    user = session.scalars(select(User).where(func.lower(User.username) == username.lower())).first()
    now = clock.now()
    password_ok = verify_password(user.password_hash if user else None, password)
    if user is None:
        record(session, _anonymous(username), "login.failed", "user", None,
               after={"source": source}, reason="unknown user")
        raise NotAllowed("login.invalid", _l("Wrong username or password."))
    if not user.is_active or _agency_terminated(session, user.agency_id):
        record(session, _anonymous(username), "login.failed", "user", user.id,
               after={"source": source}, reason="account disabled or agency terminated")
        raise NotAllowed("login.invalid", _l("Wrong username or password."))
    if user.locked_until is not None and user.locked_until > now:
        record(session, _anonymous(username), "login.refused_locked", "user", user.id,
               after={"source": source, "locked_until": user.locked_until},
               reason=None if password_ok else "wrong password")
        if not password_ok:
            # Same answer as an unknown user: a guesser learns nothing from the lock.
            raise NotAllowed("login.invalid", _l("Wrong username or password."))
        raise NotAllowed(
            "login.locked",
            _l("This account is locked after repeated failed logins. Try again later or ask an administrator."),
        )
    if not password_ok:
        user.failed_logins += 1
        after: dict[str, Any] = {"failed_logins": user.failed_logins, "source": source}
        if user.failed_logins >= int(policy(session, "login.max_failures")):
            user.locked_until = now + timedelta(minutes=int(policy(session, "login.lockout_minutes")))
            user.failed_logins = 0
            after["locked_until"] = user.locked_until
            record(session, _anonymous(username), "login.locked", "user", user.id, after=after,
                   reason="too many failed logins")
            # The generic answer: the lock is announced only to whoever knows the password.
            raise NotAllowed("login.invalid", _l("Wrong username or password."))
        record(session, _anonymous(username), "login.failed", "user", user.id, after=after,
               reason="wrong password")
        raise NotAllowed("login.invalid", _l("Wrong username or password."))
    if not user.mfa_enabled:
        # With two steps, failures reset only after the code too (``check_totp``): else
        # the password would buy an unlimited run of guesses at the six digits.
        user.failed_logins = 0
    user.locked_until = None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def complete_login(session: Session, user: User, *, source: str = "", method: str = "password") -> None:
    user.last_login_at = clock.now()
    record(session, user, "login.succeeded", "user", user.id, after={"source": source, "method": method})


def check_totp(session: Session, user: User, code: str) -> None:
    """The second step. Wrong codes count toward the same lockout as wrong passwords."""
    now = clock.now()
    if user.locked_until is not None and user.locked_until > now:
        record(session, user, "login.refused_locked", "user", user.id,
               after={"locked_until": user.locked_until}, reason="two-step code while locked")
        raise NotAllowed(
            "login.locked",
            _l("This account is locked after repeated failed logins. Try again later or ask an administrator."),
        )
    step = mfa.matching_step(user.totp_secret, code)
    if step is not None and user.mfa_last_step is not None and step <= user.mfa_last_step:
        record(session, user, "login.mfa_replayed", "user", user.id, reason="two-step code already used")
        raise NotAllowed("mfa.replayed", _l("That code was already used. Wait for the next one."))
    if step is None:
        user.failed_logins += 1
        after: dict[str, Any] = {"failed_logins": user.failed_logins}
        if user.failed_logins >= int(policy(session, "login.max_failures")):
            user.locked_until = now + timedelta(minutes=int(policy(session, "login.lockout_minutes")))
            user.failed_logins = 0
            after["locked_until"] = user.locked_until
            record(session, user, "login.locked", "user", user.id, after=after,
                   reason="too many wrong two-step codes")
        else:
            record(session, user, "login.mfa_failed", "user", user.id, after=after)
        raise NotAllowed("mfa.invalid", _l("That code is not valid. Check your authenticator's clock."))
    user.failed_logins = 0
    user.mfa_last_step = step


def mfa_required(session: Session, user: User) -> bool:
    return user.role in set(policy(session, "mfa.required_roles"))


def start_mfa_enrolment(session: Session, user: User) -> str:
    """A new secret, kept (encrypted) but not enabled until a code proves the phone has it."""
    if user.mfa_enabled:
        raise Conflict("mfa.already", _l("Two-step verification is already on."))
    secret = mfa.new_secret()
    user.totp_secret = secret
    return secret


def confirm_mfa_enrolment(session: Session, user: User, code: str) -> None:
    step = mfa.matching_step(user.totp_secret, code)
    if step is None:
        raise InvalidInput("mfa.invalid", _l("That code is not valid. Check your authenticator's clock."))
    user.mfa_enabled = True
    user.mfa_last_step = step
    record(session, user, "user.mfa_enrolled", "user", user.id, after={"mfa_enabled": True})


def logout_everywhere(session: Session, user: User) -> None:
    user.session_version += 1
    record(session, user, "user.logout_everywhere", "user", user.id,
           after={"session_version": user.session_version})


def validate_password(session: Session, password: str) -> None:
    minimum = int(policy(session, "password.min_length"))
    if len(password) < minimum:
        raise InvalidInput("password.short", _l("A password needs at least %(n)s characters.", n=minimum))


def create_user(
    session: Session,
    actor: Any,
    *,
    username: str,
    display_name: str,
    role: str,
    password: str,
    agency_id: uuid.UUID | None = None,
) -> User:
    if role not in ROLES:
        raise InvalidInput("user.role", _l("Unknown role."))
    if actor.role == AGENCY_ADMIN:
        # An agency supervisor manages their own agency's staff, nobody else.
        require(actor, "user.manage_own_agency")
        if role not in AGENCY_ROLES or agency_id != actor.agency_id:
            raise NotAllowed("user.scope", _l("Agency administrators create accounts for their own agency only."))
    else:
        require(actor, "user.manage")
    if role in AGENCY_ROLES and agency_id is None:
        raise InvalidInput("user.agency", _l("Agency accounts need an agency."))
    if role not in AGENCY_ROLES and agency_id is not None:
        raise InvalidInput("user.agency", _l("Bank accounts belong to no agency."))
    username = username.strip()
    if not username or len(username) > 80:
        raise InvalidInput("user.username", _l("A username is 1 to 80 characters."))
    if session.scalars(select(User.id).where(func.lower(User.username) == username.lower())).first():
        raise Conflict("user.exists", _l("That username is taken."))
    validate_password(session, password)
    now = clock.now()
    user = User(
        id=uuid.uuid4(), username=username, display_name=display_name.strip() or username,
        role=role, agency_id=agency_id, password_hash=hash_password(password), created_at=now,
    )
    session.add(user)
    session.flush()
    record(session, actor, "user.created", "user", user.id,
           after={"username": username, "role": role, "agency_id": agency_id})
    return user


def set_active(session: Session, actor: Any, user: User, active: bool, reason: str) -> None:
    if actor.role == AGENCY_ADMIN:
        require(actor, "user.manage_own_agency", user)
    else:
        require(actor, "user.manage")
    if user.id == getattr(actor, "id", None):
        raise Conflict("user.self", _l("You cannot disable your own account."))
    before = user.is_active
    user.is_active = active
    user.session_version += 1
    record(session, actor, "user.enabled" if active else "user.disabled", "user", user.id,
           before={"is_active": before}, after={"is_active": active}, reason=reason)


def unlock(session: Session, actor: Any, user: User) -> None:
    require(actor, "user.manage")
    user.locked_until = None
    user.failed_logins = 0
    record(session, actor, "user.unlocked", "user", user.id)


def change_password(session: Session, user: User, current: str, new: str) -> None:
    if not verify_password(user.password_hash, current):
        raise InvalidInput("password.wrong", _l("The current password is wrong."))
    validate_password(session, new)
    user.password_hash = hash_password(new)
    user.session_version += 1
    record(session, user, "user.password_changed", "user", user.id)


def load_session_user(session: Session, token: str) -> User | None:
    """Flask-Login's user loader: "<id>:<session_version>" must match, the user active,
    and an agency user's agency not terminated."""
    user_id, _, version = token.partition(":")
    try:
        user = session.get(User, uuid.UUID(user_id))
    except ValueError:
        return None
    if user is None or not user.is_active or str(user.session_version) != version:
        return None
    if _agency_terminated(session, user.agency_id):
        return None
    return user


def _agency_terminated(session: Session, agency_id: uuid.UUID | None) -> bool:
    if agency_id is None:
        return False
    from portal.agencies.models import Agency

    status = session.scalar(select(Agency.status).where(Agency.id == agency_id))
    return status in (None, TERMINATED)


# -- API tokens ------------------------------------------------------------------------
def _hash_secret(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def create_api_token(session: Session, actor: Any, name: str) -> tuple[ApiToken, str]:
    require(actor, "token.manage_own_agency")
    if not name.strip():
        raise InvalidInput("token.name", _l("Give the token a name (what system uses it)."))
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        id=uuid.uuid4(), agency_id=actor.agency_id, name=name.strip()[:100],
        prefix=secret[:12], secret_hash=_hash_secret(secret), created_by=actor.id,
        created_at=clock.now(),
    )
    session.add(token)
    session.flush()
    record(session, actor, "api_token.created", "api_token", token.id,
           after={"name": token.name, "prefix": token.prefix, "agency_id": token.agency_id})
    return token, secret


def revoke_api_token(session: Session, actor: Any, token_id: uuid.UUID) -> ApiToken:
    require(actor, "token.manage_own_agency")
    token = session.get(ApiToken, token_id)
    if token is None or token.agency_id != actor.agency_id:
        raise NotFound("token.not_found", _l("No such token."))
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        record(session, actor, "api_token.revoked", "api_token", token.id,
               after={"prefix": token.prefix})
    return token


def list_api_tokens(session: Session, actor: Any) -> list[ApiToken]:
    require(actor, "token.manage_own_agency")
    return list(session.scalars(
        select(ApiToken).where(ApiToken.agency_id == actor.agency_id).order_by(ApiToken.created_at.desc())
    ))


def token_actor(session: Session, secret: str) -> ApiToken | None:
    """The live token for a presented secret, or None (revoked, unknown, agency gone)."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = session.scalars(select(ApiToken).where(ApiToken.secret_hash == _hash_secret(secret))).first()
    if token is None or token.revoked_at is not None or _agency_terminated(session, token.agency_id):
        return None
    return token


def users_for(session: Session, actor: Any) -> list[User]:
    if actor.role == ADMIN:
        stmt = select(User)
    elif actor.role == AGENCY_ADMIN:
        stmt = select(User).where(User.agency_id == actor.agency_id)
    else:
        raise NotAllowed("not_allowed", _l("Not allowed."))
    return list(session.scalars(stmt.order_by(User.role, User.username)))
