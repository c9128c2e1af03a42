"""TOTP (RFC 6238) with pyotp, and its enrolment QR code as inline SVG (no network)."""

from __future__ import annotations

import io

import pyotp
import segno

from portal import clock

ISSUER = "agency-portal"


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def verify(secret: str | None, code: str, at: float | None = None) -> bool:
    if not secret:
        return False
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != 6:
        return False
    # One step either side tolerates a phone clock a little off.
    when = clock.now().timestamp() if at is None else at
    return pyotp.TOTP(secret).verify(code, for_time=int(when), valid_window=1)


def qr_svg(uri: str) -> str:
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", scale=5, xmldecl=False, svgns=True)
    return buffer.getvalue().decode()
