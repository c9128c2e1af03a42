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


def make_app(workdir: Any, name: str = "portal.db") -> Any:
    """The portal on a fresh SQLite file under ``workdir``: its own keyring, the schema of
    the models, the audit chain's genesis and every reference row (policies, checklist)."""
    from audit.schema import install as install_audit
    from portal import create_app
    from portal.config import Settings
    from portal.schema import ensure_reference_data, load_all_models

    app = create_app(Settings(
        env="testing", database_url=f"sqlite:///{workdir / name}", secret_key="bench-secret-" + "z" * 32,
        keyring_path=workdir / "keyring.json", queue_url="memory://", upload_dir=workdir / "documents",
        secure_cookies=False))
    database = app.extensions["portal.db"]
    with database.engine.begin() as conn:
        load_all_models().metadata.create_all(conn)
        install_audit(conn)
    with database.unit_of_work() as session:
        ensure_reference_data(session)
    return app
