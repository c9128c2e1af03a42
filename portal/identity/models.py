from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, new_id
from portal.security.crypto import EncryptedField


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(30))
    agency_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    # The TOTP secret is a credential: encrypted like PII, bound to this user's row.
    totp_secret_ct: Mapped[bytes | None] = mapped_column("totp_secret", LargeBinary)
    totp_secret = EncryptedField("totp_secret")
    mfa_enabled: Mapped[bool] = mapped_column(default=False)
    # The last TOTP time step accepted: a code is good once (RFC 6238 §5.2).
    mfa_last_step: Mapped[int | None]
    # Bumped by "log out everywhere" and password changes: every session carrying the old
    # number stops being valid on its next request, on every app process.
    session_version: Mapped[int] = mapped_column(default=1)
    language: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]

    __mapper_args__ = {"eager_defaults": False}

    # -- the audit and access protocols ------------------------------------------------
    @property
    def audit_id(self) -> str:
        return str(self.id)

    @property
    def audit_label(self) -> str:
        return f"{self.username} ({self.role})"

    # -- Flask-Login's protocol (kept here so the login module stays thin) -------------
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"


class ApiToken(Base):
    """An agency system's credential for the vendor API. Only a SHA-256 of the secret is
    kept; the secret is shown once, when it is created."""

    __tablename__ = "api_tokens"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
