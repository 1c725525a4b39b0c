"""Device tokens: only a SHA-256 of each token is stored, with its name and times.

Tokens are 256-bit random strings, so a fast hash is enough (nothing to brute-force).
`hearth token create/revoke` may run while the server does: the file is guarded by its
own flock and the server re-reads it when its mtime changes, so a revoke takes effect
within a second without a restart.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.errors import ConflictError, InvalidInputError, NotFoundError
from app.storage.files import atomic_write, ensure_private_dir
from app.storage.state import encode_json

SCHEMA = 1
NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
RELOAD_EVERY_S = 1.0


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "tokens.json"
        self._lock_path = state_dir / "tokens.lock"
        self._tokens: dict[str, dict[str, Any]] = {}
        self._mtime: float | None = None
        self._checked = 0.0
        self._used: dict[str, float] = {}
        self.warning: str | None = None

    @contextmanager
    def _locked(self) -> Iterator[dict[str, dict[str, Any]]]:
        ensure_private_dir(self.path.parent)
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            tokens = self._read()
            yield tokens
        finally:
            os.close(fd)

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            raw = json.loads(self.path.read_bytes())
        except FileNotFoundError:
            return {}
        tokens = raw.get("tokens") if isinstance(raw, dict) else None
        if not isinstance(tokens, dict):
            raise ValueError(f"{self.path} is not a token file")
        return tokens

    def _write(self, tokens: dict[str, dict[str, Any]]) -> None:
        atomic_write(self.path, encode_json({"schema": SCHEMA, "tokens": tokens}))

    def create(self, name: str) -> str:
        """Store a new token's hash and return the token (shown once, never stored)."""
        if not NAME_RE.match(name):
            raise InvalidInputError("token names are 1-64 characters of letters, digits, _ . -")
        token = "hth_" + secrets.token_urlsafe(32)
        with self._locked() as tokens:
            if name in tokens:
                raise ConflictError(f"a token named {name!r} exists; revoke it first")
            tokens[name] = {
                "hash": hash_token(token),
                "created_at": time.time(),
                "last_used_at": None,
            }
            self._write(tokens)
        return token

    def revoke(self, name: str) -> None:
        with self._locked() as tokens:
            if tokens.pop(name, None) is None:
                raise NotFoundError(f"no token named {name!r}")
            self._write(tokens)

    def list(self) -> list[dict[str, Any]]:
        with self._locked() as tokens:
            return [
                {"name": n, "created_at": t["created_at"], "last_used_at": t.get("last_used_at")}
                for n, t in sorted(tokens.items())
            ]

    def refresh(self, now: float) -> None:
        """Re-read the file if it changed; cheap enough to call on every request."""
        if now - self._checked < RELOAD_EVERY_S:
            return
        self._checked = now
        try:
            mtime = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            self._tokens, self._mtime = {}, None
            return
        if mtime != self._mtime:
            try:
                self._tokens = self._read()
                self.warning = None
            except (ValueError, OSError) as exc:
                # Keep the last good set: a damaged file must not lock everyone out.
                self.warning = f"{self.path.name} unreadable ({exc}); using the last good tokens"
            self._mtime = mtime

    @property
    def count(self) -> int:
        return len(self._tokens)

    def match(self, token: str, now: float) -> str | None:
        """The name of the device token equal to `token`, compared in constant time."""
        self.refresh(now)
        digest = hash_token(token)
        found = None
        for name, entry in self._tokens.items():
            if hmac.compare_digest(digest, str(entry.get("hash", ""))):
                found = name
        if found is not None:
            self._used[found] = now
        return found

    def flush_last_used(self) -> None:
        """Persist last-used times (batched: writing on every request would cost an fsync)."""
        if not self._used:
            return
        used, self._used = self._used, {}
        with self._locked() as tokens:
            for name, when in used.items():
                if name in tokens:
                    tokens[name]["last_used_at"] = when
            self._write(tokens)
        self._mtime = None
