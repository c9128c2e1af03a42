"""What each role sees first: counts of the work waiting for them, from each capability's
queries. A capability adds a panel by registering a function here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Panel:
    title: Any
    value: Any
    endpoint: str | None = None
    hint: Any = None


PanelSource = Callable[[Session, Any], list[Panel]]
_sources: list[PanelSource] = []


def add_source(source: PanelSource) -> PanelSource:
    if source not in _sources:
        _sources.append(source)
    return source


def home_panels(session: Session, actor: Any) -> list[Panel]:
    panels: list[Panel] = []
    for source in _sources:
        panels.extend(source(session, actor))
    return panels
