"""Fixtures: a real database (SQLite file, or PostgreSQL from PORTAL_TEST_DATABASE_URL,
each run in a database of its own), the app, a session rolled back after every test, the
frozen clock, and logins.

Which database: ``PORTAL_TEST_DATABASE_URL`` (``make test`` runs SQLite; ``.ci/run`` runs the
suite again on PostgreSQL). In CI (``CI=true``) a browser or PostgreSQL test that would be
skipped fails the run instead: nothing is silently left out there.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

os.environ.setdefault("PORTAL_QUEUE_URL", "memory://")
os.environ["PORTAL_ENV"] = "testing"

from portal import clock  # noqa: E402
from portal.config import Settings  # noqa: E402
from portal.db import Database  # noqa: E402
from portal.schema import load_all_models  # noqa: E402
from portal.security.passwords import use_fast_hashing_for_tests  # noqa: E402

use_fast_hashing_for_tests()

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
DEFAULT_NOW = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, a Monday


# -- the database ------------------------------------------------------------------------
def _test_database_url(tmp_dir: Path) -> tuple[str, Any]:
    """A database of this run's own; returns (url, cleanup)."""
    base = os.environ.get("PORTAL_TEST_DATABASE_URL", "")
    if not base.startswith("postgresql"):
        return f"sqlite:///{tmp_dir / 'test.db'}", lambda: None
    name = f"portal_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = base.rsplit("/", 1)[0] + f"/{name}"

    def cleanup() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
            )
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        admin.dispose()

    return url, cleanup


def build_schema(database: Database) -> None:
    """Tables from the models, then what the first migration adds beyond them (audit head,
    append-only triggers), then default policy rows. Migrations themselves are proven
    separately (tests/test_migrations.py): upgrading an empty database gives this schema."""
    from audit.schema import install
    from portal.schema import ensure_reference_data

    base = load_all_models()
    with database.engine.begin() as conn:
        base.metadata.create_all(conn)
        install(conn)
    with database.unit_of_work() as session:
        ensure_reference_data(session)


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    tmp = tmp_path_factory.mktemp("portal")
    url, cleanup = _test_database_url(tmp)
    yield Settings(
        env="testing", database_url=url, secret_key="test-secret-key-" + "x" * 32,
        keyring_path=tmp / "keyring.json", queue_url="memory://", upload_dir=tmp / "documents",
        secure_cookies=True,
    )
    cleanup()


@pytest.fixture(scope="session")
def app(settings: Settings) -> Any:
    from portal import create_app

    application = create_app(settings)
    build_schema(application.extensions["portal.db"])
    return application


@pytest.fixture(scope="session")
def database(app: Any) -> Database:
    return app.extensions["portal.db"]


@pytest.fixture
def db(app: Any, database: Database) -> Iterator[Session]:
    """The test's session. The app's requests share its connection, and everything, commits
    included (they become savepoints), is rolled back after the test."""
    connection = database.engine.connect()
    outer = connection.begin()
    original = database.sessionmaker
    database.sessionmaker = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    session = database.sessionmaker()
    # No application context stays pushed here: each test-client request must get its own
    # (its own `g`), exactly as in production.
    try:
        yield session
    finally:
        session.close()
        database.sessionmaker = original
        if outer.is_active:
            outer.rollback()
        connection.close()


@pytest.fixture
def committed_db(app: Any, database: Database) -> Iterator[Database]:
    """For tests that need real commits across connections (concurrency): the tables are
    emptied afterwards instead of rolled back."""
    yield database
    truncate_all(database)


def truncate_all(database: Database) -> None:
    from audit.schema import drop_protection, install

    base = load_all_models()
    with database.engine.begin() as conn:
        drop_protection(conn)
        for table in reversed(base.metadata.sorted_tables):
            if table.name not in ("policies", "agency_checklist_items"):
                conn.execute(table.delete())
        install(conn)


# -- time --------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[datetime]:
    clock.freeze(DEFAULT_NOW)
    yield DEFAULT_NOW
    clock.unfreeze()


# -- web ---------------------------------------------------------------------------------
@pytest.fixture
def client(app: Any, db: Session) -> Any:
    return app.test_client()


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def login(client: Any, user: Any, password: str = "correct horse battery staple") -> Any:
    """Log ``user`` in through the real login form (and TOTP if enrolled)."""
    form_page = client.get("/login")
    response = client.post("/login", data={"csrf_token": csrf_from(form_page.get_data(as_text=True)),
                                           "username": user.username, "password": password})
    if response.status_code == 302 and "/login/verify" in response.headers["Location"]:
        form_page = client.get("/login/verify")
        secret = user.totp_secret
        # A code is good once: move the frozen clock to the next 30-second step so that
        # logging the same user in twice in one test does not replay a code.
        clock.advance(timedelta(seconds=30))
        response = client.post("/login/verify", data={
            "csrf_token": csrf_from(form_page.get_data(as_text=True)),
            "code": pyotp.TOTP(secret).at(clock.now()),
        })
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def post_form(client: Any, path: str, data: dict[str, Any] | None = None, *, page: str | None = None, **kwargs: Any) -> Any:  # noqa: F811 - a URL, not the browser fixture
    """POST like a browser: take the CSRF token from ``page`` (default: a page that has one)."""
    source = client.get(page or "/account")
    token = csrf_from(source.get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **(data or {})}, **kwargs)


# -- suites that need the machine ---------------------------------------------------------
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_browser = pytest.mark.skip(reason="no Chromium at /usr/bin/chromium: run `make system-deps`")
    for item in items:
        if "browser" in item.keywords and CHROMIUM is None:
            if IN_CI:
                item.add_marker(pytest.mark.xfail(reason="CI requires Chromium", strict=True, run=False))
            item.add_marker(skip_browser)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    reasons = sorted({str(r.longrepr[2]) if isinstance(r.longrepr, tuple) else str(r.longrepr) for r in skipped})
    db_url = os.environ.get("PORTAL_TEST_DATABASE_URL", "")
    lines = [f"database: {'PostgreSQL' if db_url.startswith('postgresql') else 'SQLite'}"]
    if not db_url.startswith("postgresql"):
        lines.append("PostgreSQL run: not in this run (`make test-pg`, or .ci/run runs both)")
    if skipped:
        lines.append(f"{len(skipped)} tests skipped:")
        lines += [f"  - {r}" for r in reasons]
    terminalreporter.write_sep("=", "suites")
    for line in lines:
        terminalreporter.write_line(line)
    if skipped and IN_CI:
        terminalreporter.write_line("CI: skipped tests are failures here (see above).")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if IN_CI and reporter is not None and reporter.stats.get("skipped"):
        session.exitstatus = 1


# Browser fixtures (one Chromium and one live server for the whole run, whichever folder
# the browser tests are in): defined once here so every test shares the same instances.
from tests.browser import browser, live_server, page, screenshots  # noqa: E402,F401,F811
