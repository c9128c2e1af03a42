"""Benchmarks. Each module here with ``run(scale: float) -> list[dict]`` is one benchmark:
it measures the portal's real code path AND the physical limit of the same work in the same
run, and reports their ratio (limit_seconds / seconds) against a target. ``python -m bench``
runs them all (see bench/README.md)."""

from __future__ import annotations

from typing import Any, TypedDict


class Result(TypedDict):
    name: str
    seconds: float  # the portal's real code path
    limit_seconds: float  # the same work done the fastest plain way, measured in the same run
    ratio: float  # limit_seconds / seconds: 1.0 means "as fast as the machine allows"
    target: float  # the ratio this benchmark must reach
    notes: str


def result(name: str, seconds: float, limit_seconds: float, target: float, notes: str = "") -> dict[str, Any]:
    return {
        "name": name,
        "seconds": seconds,
        "limit_seconds": limit_seconds,
        "ratio": limit_seconds / seconds if seconds > 0 else float("inf"),
        "target": target,
        "notes": notes,
    }
