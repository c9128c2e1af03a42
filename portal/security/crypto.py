"""Field encryption for debtor PII, and blind indexes for exact-match search.

* AES-256-GCM (``cryptography``), a fresh 96-bit nonce per value.
* A keyring of named keys: every ciphertext starts with the id of the key that made it,
  so keys rotate without a flag day (old keys decrypt, the active key encrypts).
* Associated data binds each ciphertext to ``table.column.row``: a value copied into
  another row or column fails authentication instead of decrypting as somebody else's.
* Blind index: HMAC-SHA256 under a separate key over a normalised value, truncated to 16
  bytes; it finds an exact value and reveals nothing about near ones.

Tampering, a wrong key, a wrong row: all raise ``DecryptionError``, never garbage.
"""

from __future__ import annotations

import base64
import hmac
import json
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_VERSION = 1
NONCE_BYTES = 12
KEY_BYTES = 32
INDEX_BYTES = 16
RELOAD_INTERVAL_S = 2.0


class DecryptionError(Exception):
    """The ciphertext does not authenticate under the keyring for this place."""


class KeyringError(Exception):
    pass


@dataclass(frozen=True)
class Keyring:
    active_id: str
    keys: dict[str, bytes]
    index_key: bytes

    def __post_init__(self) -> None:
        if self.active_id not in self.keys:
            raise KeyringError(f"active key {self.active_id!r} is not in the keyring")
        for key_id, key in self.keys.items():
            if len(key) != KEY_BYTES:
                raise KeyringError(f"key {key_id!r} is not 256 bits")
            if not key_id.isascii() or not 0 < len(key_id) < 256:
                raise KeyringError(f"key id {key_id!r} must be 1-255 ASCII characters")

    # -- files -----------------------------------------------------------------------
    @classmethod
    def generate(cls) -> Keyring:
        key_id = _new_key_id()
        return cls(key_id, {key_id: AESGCM.generate_key(256)}, os.urandom(KEY_BYTES))

    def with_new_active_key(self) -> Keyring:
        key_id = _new_key_id()
        while key_id in self.keys:
            key_id = _new_key_id()
        return Keyring(key_id, {**self.keys, key_id: AESGCM.generate_key(256)}, self.index_key)

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT_VERSION,
                "active": self.active_id,
                "keys": {k: base64.b64encode(v).decode() for k, v in self.keys.items()},
                "index_key": base64.b64encode(self.index_key).decode(),
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> Keyring:
        try:
            data = json.loads(text)
            return cls(
                data["active"],
                {k: base64.b64decode(v) for k, v in data["keys"].items()},
                base64.b64decode(data["index_key"]),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise KeyringError(f"keyring is malformed: {exc}") from exc

    def save(self, path: Path) -> None:
        """Write atomically, readable by the owner only."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(self.to_json())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> Keyring:
        try:
            return cls.from_json(path.read_text())
        except FileNotFoundError as exc:
            raise KeyringError(
                f"no keyring at {path}: run `agency-portal keys init` (PORTAL_KEYRING)"
            ) from exc


def _new_key_id() -> str:
    return "k" + time.strftime("%Y%m%d") + "-" + os.urandom(3).hex()


class FieldCipher:
    """Encrypts and decrypts fields under a keyring; reloads the keyring file when it
    changes, so a key added by ``rotate-keys`` reaches every running process."""

    def __init__(self, keyring: Keyring, path: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._path = path
        self._mtime = path.stat().st_mtime_ns if path and path.exists() else 0
        self._checked = time.monotonic()
        self._install(keyring)

    def _install(self, keyring: Keyring) -> None:
        self.keyring = keyring
        self._aead = {k: AESGCM(v) for k, v in keyring.keys.items()}
        self._prefix = {
            k: bytes([FORMAT_VERSION, len(k)]) + k.encode("ascii") for k in keyring.keys
        }

    def refresh(self, force: bool = False) -> None:
        if self._path is None:
            return
        if not force and time.monotonic() - self._checked < RELOAD_INTERVAL_S:
            return
        with self._lock:
            self._checked = time.monotonic()
            try:
                mtime = self._path.stat().st_mtime_ns
            except FileNotFoundError:
                return
            if mtime != self._mtime:
                self._install(Keyring.load(self._path))
                self._mtime = mtime

    @property
    def active_id(self) -> str:
        return self.keyring.active_id

    def encrypt(self, value: str, aad: bytes) -> bytes:
        return self.encrypt_bytes(value.encode("utf-8"), aad)

    def encrypt_bytes(self, data: bytes, aad: bytes) -> bytes:
        """The same envelope over bytes (evidence documents)."""
        self.refresh()
        key_id = self.keyring.active_id
        nonce = os.urandom(NONCE_BYTES)
        return self._prefix[key_id] + nonce + self._aead[key_id].encrypt(nonce, data, aad)

    def encryptor(self) -> Callable[[str, bytes], bytes]:
        """``encrypt`` for a batch: the keyring is checked once, not once per value, and the
        active key is looked up once. Same ciphertexts as ``encrypt`` (a fresh nonce each)."""
        self.refresh()
        prefix = self._prefix[self.keyring.active_id]
        seal = self._aead[self.keyring.active_id].encrypt
        urandom = os.urandom
        # Random nonces drawn from the OS in blocks: one system call per 4,096 values
        # instead of one per value. Each nonce is still 96 fresh random bits.
        block = NONCE_BYTES * 4096
        pool: list[Any] = [b"", block]  # [random bytes, read position]

        def encrypt(value: str, aad: bytes) -> bytes:
            position = pool[1]
            if position >= block:
                pool[0], position = urandom(block), 0
            nonce = pool[0][position : position + NONCE_BYTES]
            pool[1] = position + NONCE_BYTES
            return prefix + nonce + seal(nonce, value.encode("utf-8"), aad)

        return encrypt

    def key_id_of(self, blob: bytes) -> str:
        if len(blob) < 2 or blob[0] != FORMAT_VERSION:
            raise DecryptionError("not a field ciphertext")
        return blob[2 : 2 + blob[1]].decode("ascii", errors="replace")

    def decrypt(self, blob: bytes, aad: bytes) -> str:
        return self.decrypt_bytes(blob, aad).decode("utf-8")

    def decrypt_bytes(self, blob: bytes, aad: bytes) -> bytes:
        key_id = self.key_id_of(blob)
        aead = self._aead.get(key_id)
        if aead is None:
            self.refresh(force=True)
            aead = self._aead.get(key_id)
            if aead is None:
                raise DecryptionError(f"unknown key {key_id!r}")
        start = 2 + blob[1]
        nonce, body = blob[start : start + NONCE_BYTES], blob[start + NONCE_BYTES :]
        try:
            return aead.decrypt(nonce, body, aad)
        except InvalidTag as exc:
            raise DecryptionError(
                "ciphertext does not authenticate for this field (tampered, moved or wrong key)"
            ) from exc

    def blind_index(self, kind: str, value: str) -> bytes:
        normalised = normalise(kind, value)
        # hmac.digest: the one-shot C path, same bytes as hmac.new(...).digest().
        return hmac.digest(
            self.keyring.index_key, f"{kind}:{normalised}".encode(), "sha256"
        )[:INDEX_BYTES]


def aad_for(table: str, column: str, row_id: object) -> bytes:
    return f"{table}.{column}.{row_id}".encode()


_NON_DIGITS = re.compile(r"[^0-9]")


def normalise(kind: str, value: str) -> str:
    """What counts as "the same" national ID or phone for exact-match search."""
    value = value.strip()
    if kind == "phone":
        digits = _NON_DIGITS.sub("", value)
        # +86 138... and 138... are the same mainland number.
        if digits.startswith("86") and len(digits) == 13:
            digits = digits[2:]
        return digits
    if kind == "national_id":
        return value.upper().replace(" ", "")
    return value


# -- the process-wide cipher, installed by create_app() or the CLI ----------------------
_cipher: FieldCipher | None = None


def install(cipher: FieldCipher) -> None:
    global _cipher
    _cipher = cipher


def cipher() -> FieldCipher:
    if _cipher is None:
        raise KeyringError("no keyring installed: the application was not configured")
    return _cipher


def load_cipher(path: Path, *, create: bool = False) -> FieldCipher:
    if create and not path.exists():
        Keyring.generate().save(path)
    return FieldCipher(Keyring.load(path), path)


class EncryptedField:
    """A model attribute that reads and writes ``<name>_ct`` through the cipher, bound to
    the row's table, column and primary key. The row's id must be set before a value."""

    def __init__(self, column: str, index: str | None = None, *, binary: bool = False) -> None:
        self.column = column
        self.index = index  # blind-index kind; stored in ``<column>_bidx``
        self.binary = binary  # bytes in and out (documents), not text

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def _aad(self, obj: object) -> bytes:
        row_id = obj.id  # type: ignore[attr-defined]
        if row_id is None:
            raise ValueError(f"{type(obj).__name__}.id must be set before {self.name}")
        return aad_for(obj.__tablename__, self.column, row_id)  # type: ignore[attr-defined]

    def __get__(self, obj: object, owner: type | None = None) -> str | None:
        if obj is None:
            return self  # type: ignore[return-value]
        blob = getattr(obj, f"{self.column}_ct")
        if blob is None:
            return None
        if self.binary:
            return cipher().decrypt_bytes(blob, self._aad(obj))  # type: ignore[return-value]
        return cipher().decrypt(blob, self._aad(obj))

    def __set__(self, obj: object, value: str | bytes | None) -> None:
        c = cipher()
        if value is None:
            blob = None
        elif isinstance(value, bytes):
            blob = c.encrypt_bytes(value, self._aad(obj))
        else:
            blob = c.encrypt(value, self._aad(obj))
        setattr(obj, f"{self.column}_ct", blob)
        if self.index:
            indexed = None if value is None else c.blind_index(
                self.index, value.decode() if isinstance(value, bytes) else value)
            setattr(obj, f"{self.column}_bidx", indexed)
