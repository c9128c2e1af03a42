"""TOTP (RFC 6238) with pyotp, and its enrolment QR code as inline SVG (no network)."""

from __future__ import annotations

import hmac
import io

import pyotp
import segno

from portal import clock

ISSUER = "agency-portal"


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def matching_step(secret: str | None, code: str, at: float | None = None) -> int | None:
    """The 30-second time step whose code ``code`` is (one step either side tolerates a
    phone clock a little off), or None. Callers refuse a step already used: a code
    overheard or phished is worthless once its owner has logged in with it."""
    if not secret:
        return None
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    when = int(clock.now().timestamp() if at is None else at)
    for offset in (0, -1, 1):
        moment = when + offset * totp.interval
        if hmac.compare_digest(totp.at(moment), code):
            return moment // totp.interval
    return None


def verify(secret: str | None, code: str, at: float | None = None) -> bool:
    return matching_step(secret, code, at) is not None


def qr_svg(uri: str) -> str:
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", scale=5, xmldecl=False, svgns=True)
    return buffer.getvalue().decode()
