"""Case imports: every malformed shape is refused with a per-row report and nothing is
stored; good files in every accepted encoding and XLSX load; re-imports never duplicate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit.models import AuditEntry
from portal.cases.imports import ImportRejected, import_cases
from portal.cases.models import Case
from tests.cases.helpers import HEADER, case_row, write_csv, write_xlsx
from tests.factories import make_user


@pytest.fixture
def manager(db: Session) -> Any:
    return make_user(db, "vendor_manager")


def count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Case)) or 0


def refused(db: Session, manager: Any, path: Path) -> list[list[Any]]:
    before = count(db)
    with db.begin_nested() as savepoint:
        with pytest.raises(ImportRejected) as info:
            import_cases(db, manager, path, path.name)
        savepoint.rollback()  # what the door does with the transaction
    assert count(db) == before
    return [e.as_list() for e in info.value.result.errors]


@pytest.mark.parametrize("encoding,bom", [("utf-8", False), ("utf-8", True), ("gb18030", False)])
def test_csv_in_each_accepted_encoding_imports_with_pii_encrypted(db: Session, manager: Any, tmp_path: Path,
                                                                  encoding: str, bom: bool) -> None:
    rows = [case_row() for _ in range(3)]
    path = write_csv(tmp_path / "cases.csv", rows, encoding=encoding, bom=bom)
    result = import_cases(db, manager, path, "cases.csv")
    assert (result.inserted, result.updated, result.unchanged) == (3, 0, 0)
    case = db.scalars(select(Case).where(Case.account_no == rows[0]["account_no"])).one()
    assert case.debtor_name == rows[0]["debtor_name"]
    assert rows[0]["debtor_name"].encode() not in case.debtor_name_ct
    assert case.principal_cents == 1_000_000 and case.bucket in ("M2", "M3")


def test_xlsx_imports(db: Session, manager: Any, tmp_path: Path) -> None:
    rows = [case_row(principal=1234.5) for _ in range(2)]
    result = import_cases(db, manager, write_xlsx(tmp_path / "c.xlsx", rows), "c.xlsx")
    assert result.inserted == 2
    assert db.scalars(select(Case.principal_cents).where(Case.account_no == rows[0]["account_no"])).one() == 123450


def test_same_file_twice_never_duplicates_and_changes_are_updated_and_audited(db: Session, manager: Any,
                                                                             tmp_path: Path) -> None:
    rows = [case_row() for _ in range(4)]
    path = write_csv(tmp_path / "a.csv", rows)
    import_cases(db, manager, path, "a.csv")
    again = import_cases(db, manager, path, "a.csv")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 4)
    rows[1]["principal"] = "20000"
    rows[2]["phone"] = "13700000000"
    third = import_cases(db, manager, write_csv(tmp_path / "b.csv", rows), "b.csv")
    assert (third.inserted, third.updated, third.unchanged) == (0, 2, 2)
    assert count(db) == 4
    assert db.scalars(select(Case.principal_cents).where(Case.account_no == rows[1]["account_no"])).one() == 2_000_000
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "cases.imported").order_by(AuditEntry.seq.desc())).first()
    assert entry.after["updated"] == 2
    assert entry.after["changed_fields"] == {"principal_cents": 1, "phone_bidx": 1}
    assert "13700000000" not in str(entry.after)


def test_missing_column_is_refused(db: Session, manager: Any, tmp_path: Path) -> None:
    header = [h for h in HEADER if h != "national_id"]
    errors = refused(db, manager, write_csv(tmp_path / "x.csv", [case_row()], header=header))
    assert errors == [[1, "national_id", "", "Required column is missing."]]


@pytest.mark.parametrize("column,value,reason", [
    ("overdue_since", "31/02/2026", "Not a date"),
    ("overdue_since", "2099-01-01", "in the future"),
    ("principal", "-100", "must not be negative"),
    ("principal", "12.345", "Not an amount"),
    ("debtor_name", "=HYPERLINK(\"http://x\")", "formula"),
    ("region", "@SUM(A1)", "formula"),
    ("address", "+cmd|' /C calc'!A0", "formula"),
    ("national_id", "110105199001011234", "check digit"),
    ("phone", "=1+1", "Not a phone number"),
    ("product", "mortgage", "Must be one of"),
    ("flags", "lost_contact|vip", "Unknown flag"),
    ("account_no", "", "A value is required"),
])
def test_bad_cell_is_refused_with_row_column_and_reason(db: Session, manager: Any, tmp_path: Path,
                                                        column: str, value: str, reason: str) -> None:
    rows = [case_row(), case_row(**{column: value}), case_row()]
    errors = refused(db, manager, write_csv(tmp_path / "x.csv", rows))
    assert len(errors) == 1
    row, col, _shown, why = errors[0]
    assert (row, col) == (3, column)
    assert reason in why


def test_pii_values_are_masked_in_the_error_report(db: Session, manager: Any, tmp_path: Path) -> None:
    errors = refused(db, manager, write_csv(tmp_path / "x.csv", [case_row(national_id="110105199001011234")]))
    assert errors[0][2] == "1***34"


def test_phone_with_country_code_is_not_mistaken_for_a_formula(db: Session, manager: Any, tmp_path: Path) -> None:
    result = import_cases(db, manager, write_csv(tmp_path / "x.csv", [case_row(phone="+86 138 0013 8000")]), "x.csv")
    assert result.inserted == 1


def test_formula_in_xlsx_is_refused(db: Session, manager: Any, tmp_path: Path) -> None:
    errors = refused(db, manager, write_xlsx(tmp_path / "x.xlsx", [case_row(region="=1+2")]))
    assert errors[0][1] == "region" and "formula" in errors[0][3]


def test_duplicate_account_in_one_file_names_the_first_row(db: Session, manager: Any, tmp_path: Path) -> None:
    first = case_row()
    errors = refused(db, manager, write_csv(tmp_path / "x.csv", [first, case_row(), case_row(account_no=first["account_no"])]))
    assert errors == [[4, "account_no", first["account_no"], "Account number already on row 2 of this file."]]


def test_an_error_late_in_the_file_stores_nothing_of_the_earlier_rows(db: Session, manager: Any, tmp_path: Path) -> None:
    rows = [case_row() for _ in range(30)] + [case_row(principal="abc")]
    from portal.cases import imports

    before = count(db)
    with db.begin_nested() as sp:
        with pytest.raises(ImportRejected):
            imports.import_cases(db, manager, write_csv(tmp_path / "x.csv", rows), "x.csv", batch=10)
        sp.rollback()
    assert count(db) == before


def test_wrong_encoding_is_refused(db: Session, manager: Any, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    write_csv(path, [case_row()], encoding="utf-16")
    errors = refused(db, manager, path)
    assert "UTF-16" in errors[0][3]
    path.write_bytes(",".join(HEADER).encode() + b"\n\xff\xfe\x80\x80,bad\n")
    assert "neither UTF-8 nor GB18030" in refused(db, manager, path)[0][3]


def test_empty_and_zero_byte_files_are_refused(db: Session, manager: Any, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert "0 bytes" in refused(db, manager, empty)[0][3]
    header_only = write_csv(tmp_path / "h.csv", [])
    assert "no rows" in refused(db, manager, header_only)[0][3]
    blank = tmp_path / "blank.csv"
    blank.write_bytes(b"\n\n  \n")
    assert "no header" in refused(db, manager, blank)[0][3]


def test_huge_line_is_refused_without_reading_it_whole(db: Session, manager: Any, tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    with open(path, "wb") as f:
        f.write((",".join(HEADER) + "\n").encode())
        f.write(b"A" * 2_000_000 + b"\n")
    errors = refused(db, manager, path)
    assert errors[0][0] == 2 and "longer than" in errors[0][3]
    long_cell = write_csv(tmp_path / "cell.csv", [case_row(address="x" * 5000)])
    assert "longer than" in refused(db, manager, long_cell)[0][3]


def test_nul_byte_is_refused(db: Session, manager: Any, tmp_path: Path) -> None:
    path = tmp_path / "nul.csv"
    path.write_bytes((",".join(HEADER) + "\n").encode() + b"a\x00b,c\n")
    assert "NUL" in refused(db, manager, path)[0][3]


def test_chinese_headers_are_accepted(db: Session, manager: Any, tmp_path: Path) -> None:
    aliases = {"account_no": "账号", "product": "产品", "principal": "本金", "overdue_since": "逾期起始日",
               "region": "地区", "debtor_name": "姓名", "national_id": "身份证号", "phone": "手机号"}
    row = case_row()
    path = write_csv(tmp_path / "zh.csv", [{aliases[k]: v for k, v in row.items() if k in aliases}],
                     header=list(aliases.values()), encoding="gb18030")
    assert import_cases(db, manager, path, "zh.csv").inserted == 1


def test_only_a_vendor_manager_may_import(db: Session, tmp_path: Path) -> None:
    from portal.errors import NotAllowed

    with pytest.raises(NotAllowed):
        import_cases(db, make_user(db, "auditor"), write_csv(tmp_path / "x.csv", [case_row()]), "x.csv")


# -- the reviewer's findings -----------------------------------------------------------------
def test_a_file_without_a_header_row_gives_one_error_and_no_debtor_data(db: Session, manager: Any,
                                                                       tmp_path: Path) -> None:
    row = case_row()
    path = tmp_path / "noheader.csv"
    path.write_text(",".join(row[h] for h in HEADER) + "\n" + ",".join(case_row()[h] for h in HEADER) + "\n")
    errors = refused(db, manager, path)
    assert len(errors) == 1 and "not a header row" in errors[0][3]
    report = str(errors)
    for value in (row["debtor_name"], row["national_id"], row["phone"], row["address"], row["account_no"]):
        assert value not in report


def test_an_unknown_header_cell_is_named_by_position_never_echoed(db: Session, manager: Any, tmp_path: Path) -> None:
    header = [*HEADER[:2], "张三 110105199001011237", *HEADER[2:]]
    errors = refused(db, manager, write_csv(tmp_path / "x.csv", [case_row()], header=header))
    assert errors == [[1, "column 3", "", "Unknown column; see the documented format."]]


@pytest.mark.parametrize("value,reason", [
    ("1234,56", "commas only between thousands"),
    ("12,34", "commas only between thousands"),
    ("1,23,456.00", "commas only between thousands"),
    ("0", "more than zero"),
    ("0.00", "more than zero"),
    ("-0", "must not be negative"),
    ("10000000000.01", "above the largest"),
    ("9" * 40, "Not an amount"),
])
def test_amounts_are_never_misread(db: Session, manager: Any, tmp_path: Path, value: str, reason: str) -> None:
    errors = refused(db, manager, write_csv(tmp_path / "x.csv", [case_row(principal=value)]))
    assert len(errors) == 1 and errors[0][1] == "principal" and reason in errors[0][3]


def test_thousands_separators_are_read(db: Session, manager: Any, tmp_path: Path) -> None:
    row = case_row(principal="1,234,567.89", interest="¥1,000")
    import_cases(db, manager, write_csv(tmp_path / "x.csv", [row]), "x.csv")
    case = db.scalars(select(Case).where(Case.account_no == row["account_no"])).one()
    assert (case.principal_cents, case.interest_cents) == (123_456_789, 100_000)


def test_the_amount_ceiling_is_a_policy_row(db: Session, manager: Any, tmp_path: Path) -> None:
    from portal.policies.operations import set_value
    from tests.factories import system

    set_value(db, system(), "imports.max_amount_cents", 500_000, "test")
    errors = refused(db, manager, write_csv(tmp_path / "x.csv", [case_row(principal="5000.01")]))
    assert "above the largest" in errors[0][3]


def test_an_unchanged_record_still_gets_todays_dpd_and_bucket(db: Session, manager: Any, tmp_path: Path) -> None:
    from datetime import timedelta

    from portal import clock

    row = case_row(overdue_since="2026-10-20")  # 13 DPD on 2026-11-02: M1
    path = write_csv(tmp_path / "a.csv", [row])
    import_cases(db, manager, path, "a.csv")
    clock.freeze(clock.now() + timedelta(days=30))
    again = import_cases(db, manager, path, "a.csv")
    assert (again.updated, again.unchanged, again.extra["dpd_refreshed"]) == (0, 1, 1)
    db.expire_all()
    case = db.scalars(select(Case).where(Case.account_no == row["account_no"])).one()
    assert (case.dpd, case.bucket) == (43, "M2")


def test_the_import_audit_names_the_changed_accounts_never_values(db: Session, manager: Any, tmp_path: Path) -> None:
    rows = [case_row() for _ in range(3)]
    import_cases(db, manager, write_csv(tmp_path / "a.csv", rows), "a.csv")
    rows[0]["phone"] = "13700000001"
    rows[2]["principal"] = "1.00"
    import_cases(db, manager, write_csv(tmp_path / "b.csv", rows), "b.csv")
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "cases.imported").order_by(AuditEntry.seq.desc())).first()
    changed = entry.after["changed_accounts"]
    assert changed["first"] == sorted([rows[0]["account_no"], rows[2]["account_no"]]) and changed["count"] == 2
    assert len(changed["sha256"]) == 64 and "13700000001" not in str(entry.after)


def test_an_xlsx_bomb_is_refused_before_it_is_opened(db: Session, manager: Any, tmp_path: Path) -> None:
    import zipfile

    path = write_xlsx(tmp_path / "bomb.xlsx", [case_row()])
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.xml", b"\0" * (20 * 1024 * 1024))  # inflates ~1000:1
    errors = refused(db, manager, path)
    assert len(errors) == 1 and "compressed more than 100 to 1" in errors[0][3]


def test_an_xlsx_over_the_uncompressed_limit_is_refused(db: Session, manager: Any, tmp_path: Path) -> None:
    from portal.policies.operations import set_value
    from tests.factories import system

    set_value(db, system(), "imports.max_xlsx_uncompressed_bytes", 1024, "test")
    errors = refused(db, manager, write_xlsx(tmp_path / "x.xlsx", [case_row()]))
    assert "would expand to" in errors[0][3]


def test_a_decoding_error_names_the_row_that_holds_the_bad_bytes(db: Session, manager: Any, tmp_path: Path) -> None:
    rows = [case_row(address="上海市徐汇区" + "路" * 60) for _ in range(700)]
    path = write_csv(tmp_path / "x.csv", rows)
    lines = path.read_bytes().split(b"\n")
    lines[650] = lines[650].replace(b"Shanghai", b"Shang\xffhai")  # data row 650 is file row 651
    path.write_bytes(b"\n".join(lines))
    errors = refused(db, manager, path)
    assert errors[0][0] == 651 and "stops being valid UTF-8" in errors[0][3]


def test_refresh_dpd_job_moves_open_cases_on_set_based_and_idempotent(db: Session, manager: Any) -> None:
    from datetime import timedelta

    from portal import clock
    from portal.cases.jobs import refresh_dpd
    from tests.factories import make_cases

    card = make_cases(db, 1, overdue_since=clock.today() - timedelta(days=25))[0]  # M1
    lease = make_cases(db, 1, product="lease", overdue_since=clock.today() - timedelta(days=14))[0]  # L1
    closed = make_cases(db, 1, overdue_since=clock.today() - timedelta(days=25))[0]
    closed.status = "repaid"
    db.flush()
    assert (card.bucket, lease.bucket) == ("M1", "L1")
    refresh_dpd(db)  # brings anything else in the database to today too
    clock.freeze(clock.now() + timedelta(days=10))
    first = refresh_dpd(db)
    assert first["updated"] >= 2
    db.expire_all()
    assert (db.get(Case, card.id).dpd, db.get(Case, card.id).bucket) == (35, "M2")
    assert (db.get(Case, lease.id).dpd, db.get(Case, lease.id).bucket) == (24, "L2")
    assert db.get(Case, closed.id).dpd == 25  # closed cases keep the DPD they closed with
    assert refresh_dpd(db)["updated"] == 0
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "cases.dpd_refreshed")
                       .order_by(AuditEntry.seq.desc())).first()
    assert entry.after["updated"] == 0 and entry.after["open_cases"] >= 2


def test_refresh_dpd_runs_in_small_chunks(db: Session, manager: Any) -> None:
    from datetime import timedelta

    from portal import clock
    from portal.cases.operations import refresh_dpd
    from tests.factories import make_cases

    cases = make_cases(db, 5, overdue_since=clock.today() - timedelta(days=5))
    refresh_dpd(db, manager)
    clock.freeze(clock.now() + timedelta(days=100))
    refresh_dpd(db, manager, chunk=2)
    db.expire_all()
    assert {(db.get(Case, c.id).dpd, db.get(Case, c.id).bucket) for c in cases} == {(105, "M4+")}
