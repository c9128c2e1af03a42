"""Every table, imported once: what Alembic compares against and what tests build."""

from __future__ import annotations

import importlib
import pkgutil

from portal.db import Base


def load_all_models() -> type[Base]:
    import audit.models  # noqa: F401
    import portal

    for module in pkgutil.iter_modules(portal.__path__):
        if module.ispkg:
            name = f"portal.{module.name}.models"
            if importlib.util.find_spec(name) is not None:
                importlib.import_module(name)
    return Base


def ensure_reference_data(session: object) -> dict[str, int]:
    """Rows the portal needs after every migration: default policies, the default vetting
    checklist. Never overwrites what a bank has tuned; returns how many rows were added."""
    from portal.agencies.checklist import ensure_checklist
    from portal.policies.operations import ensure_defaults

    return {
        "policies": ensure_defaults(session),  # type: ignore[arg-type]
        "checklist items": ensure_checklist(session),  # type: ignore[arg-type]
    }
