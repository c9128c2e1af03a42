"""Every blueprint the portal serves, in one list: a capability plugs in here."""

from __future__ import annotations

from flask import Blueprint


def BLUEPRINTS() -> list[Blueprint]:  # noqa: N802 - reads as the constant it stands for
    from portal.auditing.views import bp as auditing
    from portal.identity.views import bp as identity
    from portal.policies.views import bp as policies
    from portal.web.views import bp as web

    blueprints = [web, identity, auditing, policies]
    for optional in ("portal.agencies.views", "portal.cases.views", "portal.placements.views",
                     "portal.tasks.views", "vendor_api"):
        module = _import_optional(optional)
        if module is not None:
            blueprints.append(module.bp)
    return blueprints


def _import_optional(name: str):  # type: ignore[no-untyped-def]
    import importlib
    import importlib.util

    if importlib.util.find_spec(name) is None:
        return None
    return importlib.import_module(name)
