"""The two doors to verification: ``agency-portal verify-audit`` (exit code) and the
auditor's page (intact, or the first bad entry named)."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner
from flask.globals import _cv_app
from sqlalchemy import update

from audit.schema import drop_protection
from portal.cli import main
from tests.audit.helpers import TABLE, append
from tests.conftest import csrf_from, login
from tests.factories import make_user


@pytest.fixture
def run_cli(settings: Any) -> Any:
    env = {"PORTAL_DATABASE_URL": settings.database_url, "PORTAL_KEYRING": str(settings.keyring_path),
           "PORTAL_SECRET_KEY": settings.secret_key, "PORTAL_ENV": "testing", "PORTAL_QUEUE_URL": "memory://"}

    def run(*args: str) -> Any:
        outer = _cv_app.get(None)
        try:
            return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
        finally:
            # The CLI pushes its own application context; leave none behind for other tests.
            while _cv_app.get(None) is not None and _cv_app.get(None) is not outer:
                _cv_app.get().pop()

    return run


def test_verify_audit_exits_0_on_an_intact_chain(committed_db, run_cli):
    with committed_db.unit_of_work() as session:
        append(session, 4)
    result = run_cli("verify-audit")
    assert result.exit_code == 0, result.output
    assert "chain intact" in result.output


def test_verify_audit_exits_1_naming_the_first_bad_entry(committed_db, run_cli):
    with committed_db.unit_of_work() as session:
        seqs = append(session, 4)
    with committed_db.engine.begin() as conn:
        drop_protection(conn)
        conn.execute(update(TABLE).where(TABLE.c.seq == seqs[1]).values(reason="rewritten"))
    result = run_cli("verify-audit")
    assert result.exit_code == 1
    assert f"chain broken at entry {seqs[1]}" in result.output


def _verify_page(client: Any) -> str:
    page = client.get("/audit/verify")
    assert page.status_code == 200
    response = client.post("/audit/verify", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_auditor_page_shows_an_intact_chain(db, client):
    append(db, 3)
    login(client, make_user(db, "auditor"))
    body = _verify_page(client)
    assert "The chain is intact" in body
    assert "broken" not in body


def test_auditor_page_names_the_first_bad_entry(db, client):
    seqs = append(db, 5)
    login(client, make_user(db, "auditor"))
    db.flush()
    drop_protection(db.connection())
    db.execute(update(TABLE).where(TABLE.c.seq == seqs[2]).values(action="test.rewritten"))
    body = _verify_page(client)
    assert f"The chain is broken at entry {seqs[2]}" in body
