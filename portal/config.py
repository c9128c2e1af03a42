"""Settings from the environment, typed and validated once at start.

Every setting has one name (``PORTAL_*``) and one place it is read: here. A setting that
is wrong stops the process at start with a message naming it, rather than failing later
in the middle of somebody's request.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("PORTAL_INSTANCE_DIR", PROJECT_ROOT / "instance"))


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    keyring_path: Path
    queue_url: str
    env: str = "development"
    upload_dir: Path = field(default_factory=lambda: INSTANCE_DIR / "documents")
    secure_cookies: bool = True
    default_locale: str = "en"

    @property
    def testing(self) -> bool:
        return self.env == "testing"

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ.get("PORTAL_ENV", "development")
        values: dict[str, object] = {
            "env": env,
            "database_url": os.environ.get(
                "PORTAL_DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'portal.db'}"
            ),
            "secret_key": os.environ.get("PORTAL_SECRET_KEY", ""),
            "keyring_path": Path(
                os.environ.get("PORTAL_KEYRING", INSTANCE_DIR / "keyring.json")
            ),
            "queue_url": os.environ.get(
                "PORTAL_QUEUE_URL", f"sqlite:///{INSTANCE_DIR / 'queue.db'}"
            ),
            "upload_dir": Path(os.environ.get("PORTAL_UPLOAD_DIR", INSTANCE_DIR / "documents")),
            # Cookies are Secure by default; the local demo on plain http turns it off.
            "secure_cookies": os.environ.get("PORTAL_INSECURE_COOKIES", "") != "1",
            "default_locale": os.environ.get("PORTAL_DEFAULT_LOCALE", "en"),
        }
        values.update(overrides)
        settings = cls(**values)  # type: ignore[arg-type]
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.env not in {"development", "testing", "production"}:
            raise ConfigError(f"PORTAL_ENV must be development, testing or production, not {self.env!r}")
        if not self.database_url.startswith(("sqlite", "postgresql")):
            raise ConfigError("PORTAL_DATABASE_URL must be a sqlite:// or postgresql:// URL")
        if self.env == "production":
            if len(self.secret_key) < 32:
                raise ConfigError("PORTAL_SECRET_KEY must be at least 32 characters in production")
            if not self.keyring_path.exists():
                raise ConfigError(f"PORTAL_KEYRING {self.keyring_path} does not exist")
            if not self.secure_cookies:
                raise ConfigError("PORTAL_INSECURE_COOKIES is not allowed in production")

    def effective_secret_key(self) -> str:
        if self.secret_key:
            return self.secret_key
        # Development and tests: a per-instance key kept beside the database, so sessions
        # survive a restart of the demo without anybody choosing a key.
        path = INSTANCE_DIR / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()
