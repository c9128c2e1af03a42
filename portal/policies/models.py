from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base


class Policy(Base):
    __tablename__ = "policies"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    preset: Mapped[str] = mapped_column(String(50), default="default")
    updated_at: Mapped[datetime]
    updated_by: Mapped[str | None] = mapped_column(String(64))
