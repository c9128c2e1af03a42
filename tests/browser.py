"""Browser fixtures: the real portal served over HTTP on 127.0.0.1 in this process, with the
demo data, and the system Chromium driven by Playwright.

The live server runs in a thread of the test process, so it sees the frozen clock of
tests/conftest.py: TOTP codes are computed at ``portal.clock.now()``, not the wall clock.
It shares the keyring file of the session's ``settings`` fixture, because the field
cipher is process-wide and the two apps must not fight over which keys are installed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyotp
import pytest

from portal import clock
from portal.config import Settings
from tests.conftest import CHROMIUM, DEFAULT_NOW, _test_database_url, build_schema

SCREENSHOTS = Path(__file__).resolve().parents[1] / "screenshots"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class LiveServer:
    url: str
    password: str
    logins: dict[str, str] = field(default_factory=dict)  # username -> role
    app: Any = None

    def totp_now(self, secret: str) -> str:
        return pyotp.TOTP(secret).at(clock.now())


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Iterator[LiveServer]:
    from werkzeug.serving import make_server

    from portal import create_app
    from portal.demo import AGENCIES, BANK_USERS, DEMO_PASSWORD, seed

    tmp = tmp_path_factory.mktemp("live")
    url, cleanup = _test_database_url(tmp)
    app = create_app(Settings(
        env="testing", database_url=url, secret_key="live-server-secret-" + "y" * 32,
        keyring_path=settings.keyring_path, queue_url="memory://",
        upload_dir=tmp / "documents", secure_cookies=False,
    ))
    database = app.extensions["portal.db"]
    build_schema(database)
    with clock.frozen(DEFAULT_NOW), database.unit_of_work() as session:
        seed(session, cases=40)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    logins = {username: role for username, _name, role in BANK_USERS}
    for *_rest, slug in AGENCIES:
        logins[f"{slug}-admin"] = "agency_admin"
        logins[f"{slug}-staff"] = "agency_staff"
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", DEMO_PASSWORD, logins, app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        database.engine.dispose()
        cleanup()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if CHROMIUM is None:  # tests/conftest.py marks these skipped (or failed, in CI)
        pytest.skip("no Chromium at /usr/bin/chromium: run `make system-deps`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, locale="en-US",
                                  viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS
