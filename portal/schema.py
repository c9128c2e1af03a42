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
