"""The bench harness works: every benchmark in bench/ runs at a tiny scale and reports the
fields the table needs (the figures themselves mean nothing at this size)."""

from __future__ import annotations

import math

from bench.__main__ import REQUIRED, discover, main, run_all, table
from portal.security import crypto


def test_every_benchmark_runs_at_a_tiny_scale_and_reports_a_ratio_to_its_limit() -> None:
    before = crypto._cipher
    results, crashed = run_all(scale=0.005)
    assert crashed == []
    assert {r["name"].split(":")[0] for r in results} >= {"encrypt_store"}
    assert "encrypt_store" in discover()
    for r in results:
        assert set(REQUIRED) <= set(r)
        assert r["seconds"] > 0 and r["limit_seconds"] > 0 and r["target"] > 0
        assert math.isclose(r["ratio"], r["limit_seconds"] / r["seconds"])
    assert table(results, crashed, 0.005).row_count == len(results)
    assert crypto._cipher is before  # a benchmark's app leaves the process's keyring alone


def test_the_command_runs_one_benchmark_by_name() -> None:
    assert main(["--scale", "0.005", "--only", "encrypt_store"]) in (0, 1)  # 2 = crashed
