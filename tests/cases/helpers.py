"""Import files for tests: valid rows by default, any cell overridable."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from portal.cases.imports import national_id_check

HEADER = ["account_no", "product", "principal", "interest", "fees", "currency", "overdue_since", "region", "flags",
          "debtor_name", "national_id", "phone", "address", "debtor_timezone"]
_n = itertools.count(1)


def valid_id(n: int) -> str:
    first = f"110105199001{n % 10**6:06d}"[:17]
    return first + national_id_check(first)


def case_row(**overrides: Any) -> dict[str, str]:
    n = next(_n)
    row = {"account_no": f"IMP{n:08d}", "product": "credit_card", "principal": "10000.00", "interest": "500",
           "fees": "0", "currency": "CNY", "overdue_since": "2026-09-01", "region": "Shanghai", "flags": "",
           "debtor_name": f"李四{n}", "national_id": valid_id(n), "phone": f"139{n:08d}",
           "address": f"上海市徐汇区{n}号", "debtor_timezone": "Asia/Shanghai"}
    row.update({k: str(v) for k, v in overrides.items()})
    return row


def write_csv(path: Path, rows: list[dict[str, str]], *, header: list[str] | None = None, encoding: str = "utf-8",
              bom: bool = False) -> Path:
    import csv
    import io

    header = header or HEADER
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(h, "") for h in header])
    data = out.getvalue().encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def write_xlsx(path: Path, rows: list[dict[str, Any]], *, header: list[str] | None = None) -> Path:
    from openpyxl import Workbook

    header = header or HEADER
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(header)
    for row in rows:
        sheet.append([row.get(h, "") for h in header])
    book.save(path)
    return path
