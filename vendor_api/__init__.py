"""The agencies' JSON API under /api/v1: token auth, RFC 9457 problem+json errors.

Resources arrive with the vendor-API capability; the foundation serves the index and the
error contract so an agency system can check its token today.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from portal.errors import DomainError

bp = Blueprint("vendor_api", __name__, url_prefix="/api/v1")


class ApiActor:
    """An agency's system calling with its token: it acts for that agency, with an agency
    collector's rights, and is audited under the token's name."""

    role = "agency_staff"

    def __init__(self, token: Any) -> None:
        self.token = token
        self.agency_id = token.agency_id
        self.id = None

    @property
    def audit_id(self) -> str:
        return f"token:{self.token.id}"

    @property
    def audit_label(self) -> str:
        return f"API token {self.token.prefix} ({self.token.name})"


def api_actor() -> ApiActor:
    return g.api_actor


def problem(status: int, title: str, detail: str = "", code: str = "", **extra: Any) -> Response:
    body = {"type": f"https://agency-portal.invalid/problems/{code or status}", "title": title,
            "status": status, "detail": detail, **extra}
    if code:
        body["code"] = code
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


@bp.before_request
def authenticate() -> Any:
    from portal.identity.operations import token_actor
    from portal.web.door import db

    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    token = token_actor(db(), secret.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        response = problem(401, "Unauthorized", "A valid agency API token is required.", "auth.token")
        response.headers["WWW-Authenticate"] = 'Bearer realm="agency-portal"'
        return response
    g.api_token = token
    g.api_actor = ApiActor(token)
    return None


@bp.get("/")
def index() -> Any:
    token = g.api_token
    return {"agency_id": str(token.agency_id), "token": token.prefix, "version": "v1"}


@bp.errorhandler(DomainError)
def _domain(exc: DomainError) -> Response:
    return problem(exc.status, exc.title, str(exc.message), exc.code)


@bp.errorhandler(HTTPException)
def _http(exc: HTTPException) -> Response:
    return problem(exc.code or 500, exc.name, exc.description or "")


def _exempt_csrf() -> None:
    # Bearer tokens, not cookies, authenticate the API: there is no ambient credential for
    # a forged cross-site request to ride on.
    from portal.web import csrf

    csrf.exempt(bp)


_exempt_csrf()

from vendor_api.routes import cases as _cases  # noqa: E402,F401  (registers its routes)
from vendor_api.routes import meta as _meta  # noqa: E402,F401
from vendor_api.routes import recalls as _recalls  # noqa: E402,F401
