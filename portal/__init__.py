"""agency-portal: the bank's system for its outsourced collection agencies.

``create_app()`` assembles the web application: settings, database, keyring, login,
CSRF, translations, the capability blueprints, the vendor API and the error pages.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from portal.config import PROJECT_ROOT, Settings


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    from portal import web
    from portal.db import Database
    from portal.security import crypto

    settings = settings or Settings.from_env(**overrides)
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "templates" / "static"),
        static_url_path="/static",
    )
    app.config.update(
        SECRET_KEY=settings.effective_secret_key(),
        TESTING=settings.testing,
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="portal_session",
        REMEMBER_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_HTTPONLY=True,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the login session
        MAX_CONTENT_LENGTH=64 * 1024 * 1024,  # transport ceiling; policies set finer limits
        BABEL_DEFAULT_LOCALE=settings.default_locale,
        BABEL_TRANSLATION_DIRECTORIES=";".join(web.translation_directories()),
    )
    app.extensions["portal.settings"] = settings
    app.extensions["portal.db"] = Database(settings.database_url)
    crypto.install(crypto.load_cipher(settings.keyring_path, create=settings.env != "production"))
    web.init_app(app)
    return app
