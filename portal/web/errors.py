"""Error pages: styled, translated, and never a stack trace. Domain errors raised by
operations become the status their kind says."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from portal.errors import DomainError

log = logging.getLogger("portal")

TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    422: "Cannot do that",
    500: "Something went wrong",
}


def _page(status: int, message: str | None = None) -> tuple[str, int]:
    titles = {
        400: _("Bad request"),
        403: _("Not allowed"),
        404: _("Not found"),
        405: _("Method not allowed"),
        409: _("Conflict"),
        413: _("Too large"),
        422: _("Cannot do that"),
        500: _("Something went wrong"),
    }
    return render_template(
        "web/error.html", status=status, title=titles.get(status, _("Error")), message=message
    ), status


def _problem(status: int, title: str, detail: str = "") -> Any:
    """RFC 9457 for anything under /api/, even errors raised before the API's own handlers."""
    from flask import jsonify

    response = jsonify({"type": "about:blank", "title": title, "status": status, "detail": detail})
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def _rollback() -> None:
    """Nothing of a refused or failed request is kept, and the error page can still read
    the database (the logged-in user, the menu) after a failed flush."""
    from flask import g

    session = g.get("db_session")
    if session is not None:
        session.rollback()


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> Any:
        if request.path.startswith("/api/"):
            return _problem(400, "Bad request", exc.description or "")
        return _page(400, _("The form expired or was not sent from this site. Reload the page and try again."))

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError) -> Any:
        _rollback()
        return _page(exc.status, str(exc.message))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        if request.path.startswith("/api/"):
            return _problem(exc.code or 500, exc.name, exc.description or "")
        return _page(exc.code or 500)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        log.exception("unhandled error on %s %s", request.method, request.path)
        _rollback()
        if request.path.startswith("/api/"):
            return _problem(500, "Internal error", "The error was logged. Nothing you sent was saved.")
        return _page(500, _("The error was logged. Nothing you sent was saved."))
