"""Case pages: import through the page (and in the background), the error report, search
by national ID through the blind index, and agency isolation by search."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.cases.models import Case
from portal.policies.operations import set_value
from tests.cases.helpers import case_row, write_csv
from tests.conftest import login, post_form
from tests.factories import make_agency, make_cases, make_user, place, system


def upload(client: Any, path: Path, kind: str = "cases") -> Any:
    return post_form(client, f"/cases/imports/{kind}", {"file": (io.BytesIO(path.read_bytes()), path.name)},
                     content_type="multipart/form-data")


def test_import_page_and_error_report(db: Session, client: Any, tmp_path: Path) -> None:
    login(client, make_user(db, "vendor_manager"))
    good = write_csv(tmp_path / "good.csv", [case_row(), case_row()])
    response = upload(client, good)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "good.csv" in page
    bad = write_csv(tmp_path / "bad.csv", [case_row(principal="=1+1")])
    response = upload(client, bad)
    run_page = client.get(response.headers["Location"])
    assert "errors.csv" in run_page.get_data(as_text=True)
    report_url = response.headers["Location"].rstrip("/") + "/errors.csv"
    report = client.get(report_url).get_data(as_text=True)
    assert "row,column,value,reason" in report and "'=1+1" in report  # neutralised in the CSV


def test_large_file_runs_in_the_background_with_progress(db: Session, client: Any, tmp_path: Path) -> None:
    set_value(db, system(), "imports.background_bytes", 100, "test")
    login(client, make_user(db, "vendor_manager"))
    path = write_csv(tmp_path / "big.csv", [case_row() for _ in range(5)])
    response = upload(client, path)
    assert "/tasks/" in response.headers["Location"]
    task = client.get(response.headers["Location"] + "?format=json").get_json()
    assert task["status"] == "done" and task["result"]["inserted"] == 5 and task["done"] == 5


def test_search_by_national_id_is_scoped_to_the_agency(db: Session, client: Any) -> None:
    a, b = make_agency(db), make_agency(db)
    mine, theirs = make_cases(db, 1), make_cases(db, 1)
    place(db, mine, a)
    place(db, theirs, b)
    login(client, make_user(db, "agency_staff", a))
    found = client.get("/cases/", query_string={"q": mine[0].national_id}).get_data(as_text=True)
    assert mine[0].account_no in found
    hidden = client.get("/cases/", query_string={"q": theirs[0].national_id}).get_data(as_text=True)
    assert theirs[0].account_no not in hidden
    assert client.get(f"/cases/{theirs[0].id}").status_code == 404


def test_cli_import(db: Session, app: Any, tmp_path: Path, monkeypatch: Any) -> None:
    from portal import cli

    monkeypatch.setattr(cli.AppContext, "database", property(lambda self: app.extensions["portal.db"]))
    path = write_csv(tmp_path / "cli.csv", [case_row() for _ in range(3)])
    with app.app_context():
        result = CliRunner().invoke(cli.main, ["cases", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "3 new" in result.output
    assert db.scalar(select(func.count()).select_from(Case)) >= 3


def _uploads(settings: Any) -> list[Path]:
    folder = Path(settings.upload_dir) / "imports"
    return list(folder.glob("*")) if folder.exists() else []


def test_an_unexpected_failure_in_a_background_import_fails_the_task_and_deletes_the_file(
        db: Session, client: Any, app: Any, tmp_path: Path, monkeypatch: Any) -> None:
    from portal.cases import jobs

    def broken(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("connection to server lost; row ('李四', '110105199001011237')")

    monkeypatch.setitem(jobs.IMPORTERS, "cases", broken)
    set_value(db, system(), "imports.background_bytes", 100, "test")
    login(client, make_user(db, "vendor_manager"))
    settings = app.extensions["portal.settings"]
    before = set(_uploads(settings))
    response = upload(client, write_csv(tmp_path / "big.csv", [case_row() for _ in range(5)]))
    task = client.get(response.headers["Location"] + "?format=json").get_json()
    assert task["status"] == "failed"
    assert "failed unexpectedly" in task["message"] and "110105" not in str(task) and "connection" not in str(task)
    assert set(_uploads(settings)) == before


def test_a_file_that_cannot_be_queued_is_deleted(db: Session, client: Any, app: Any, tmp_path: Path,
                                                 monkeypatch: Any) -> None:
    from portal.cases import jobs

    def queue_down(*_a: Any, **_k: Any) -> Any:
        raise ConnectionError("redis unreachable")

    monkeypatch.setattr(jobs, "import_in_background", queue_down)
    set_value(db, system(), "imports.background_bytes", 100, "test")
    login(client, make_user(db, "vendor_manager"))
    settings = app.extensions["portal.settings"]
    before = set(_uploads(settings))
    response = upload(client, write_csv(tmp_path / "big.csv", [case_row() for _ in range(5)]))
    assert response.headers["Location"].endswith("/cases/imports")
    assert "could not be queued" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert set(_uploads(settings)) == before


def test_the_refused_header_row_is_not_shown_on_the_pages(db: Session, client: Any, tmp_path: Path) -> None:
    from tests.cases.helpers import HEADER

    login(client, make_user(db, "vendor_manager"))
    row = case_row()
    path = tmp_path / "noheader.csv"
    path.write_text(",".join(row[h] for h in HEADER) + "\n")
    response = upload(client, path)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    report = client.get(response.headers["Location"].rstrip("/") + "/errors.csv").get_data(as_text=True)
    assert "not a header row" in page
    for value in (row["debtor_name"], row["national_id"], row["phone"]):
        assert value not in page and value not in report
