"""Device tokens: only a SHA-256 of each token is stored, with its name, scope and times.

Tokens are 256-bit random strings, so a fast hash is enough (nothing to brute-force).
`hearth token create/revoke` may run while the server does: the file is guarded by its
own flock and the server re-reads it when it changes (checked once a second), so a
new or revoked token takes effect within a second or two without a restart.

The file is treated like every other state file: each write keeps the previous copy as
`tokens.json.bak`; a damaged file is moved aside (`tokens.json.corrupt-<time>`) and the
`.bak` put back, so one bad byte never locks every device out.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.errors import ConflictError, InvalidInputError, NotFoundError, StorageError
from app.storage.files import atomic_write, ensure_private_dir, load_or_recover
from app.storage.state import encode_json

log = logging.getLogger(__name__)
SCHEMA = 2
SCOPES = ("read", "write", "full")
NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
RELOAD_EVERY_S = 1.0
Tokens = dict[str, dict[str, Any]]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def decode_tokens(data: bytes) -> Tokens:
    raw = json.loads(data)
    tokens = raw.get("tokens") if isinstance(raw, dict) else None
    if not isinstance(tokens, dict) or not all(
        isinstance(t, dict) and isinstance(t.get("hash"), str) for t in tokens.values()
    ):
        raise ValueError("not a token file")
    return tokens


def _no_tokens() -> Tokens:
    return {}


def scope_of(entry: dict[str, Any]) -> str:
    """Tokens made before scopes existed have none: they keep full access."""
    scope = entry.get("scope")
    return scope if scope in SCOPES else "full"


class TokenStore:
    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "tokens.json"
        self._lock_path = state_dir / "tokens.lock"
        self._tokens: Tokens = {}
        self._stamp: tuple[int, int, int] | None | bool = False  # False: never read
        self._checked = 0.0
        self._used: dict[str, float] = {}
        self.warnings: list[str] = []

    @property
    def warning(self) -> str | None:
        return "; ".join(self.warnings) or None

    @contextmanager
    def _locked(self) -> Iterator[Tokens]:
        ensure_private_dir(self.path.parent)
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield self._load()
        finally:
            os.close(fd)

    def _load(self) -> Tokens:
        """Read the file (caller holds the flock); recover a damaged one from its `.bak`."""
        try:
            tokens, warnings = load_or_recover(self.path, decode_tokens, _no_tokens)
        except OSError as exc:
            raise StorageError(f"cannot read {self.path}: {exc.strerror or exc}") from exc
        if warnings:
            for warning in warnings:
                log.error("tokens: %s", warning)
            self.warnings += [w for w in warnings if w not in self.warnings]
            if tokens:
                self._write(tokens)
        return tokens

    def _write(self, tokens: Tokens) -> None:
        atomic_write(self.path, encode_json({"schema": SCHEMA, "tokens": tokens}))

    def create(self, name: str, scope: str = "full") -> str:
        """Store a new token's hash and return the token (shown once, never stored)."""
        if not NAME_RE.match(name):
            raise InvalidInputError("token names are 1-64 characters of letters, digits, _ . -")
        if scope not in SCOPES:
            raise InvalidInputError(f"scope must be one of {', '.join(SCOPES)}")
        token = "hth_" + secrets.token_urlsafe(32)
        with self._locked() as tokens:
            if name in tokens:
                raise ConflictError(f"a token named {name!r} exists; revoke it first")
            tokens[name] = {
                "hash": hash_token(token),
                "scope": scope,
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
            # Twice, so the `.bak` a damaged file is recovered from cannot revive the token.
            self._write(tokens)

    def list(self) -> list[dict[str, Any]]:
        with self._locked() as tokens:
            return [
                {
                    "name": n,
                    "scope": scope_of(t),
                    "created_at": t.get("created_at"),
                    "last_used_at": t.get("last_used_at"),
                }
                for n, t in sorted(tokens.items())
            ]

    def refresh(self, now: float) -> None:
        """Re-read the file if it changed; cheap enough to call on every request."""
        if now - self._checked < RELOAD_EVERY_S:
            return
        self._checked = now
        stamp = self._file_stamp()
        if stamp == self._stamp:
            return
        try:
            if stamp is not None:
                try:
                    self._tokens = decode_tokens(self.path.read_bytes())
                    self._stamp = stamp
                    return
                except (ValueError, UnicodeDecodeError):
                    pass
            known = len(self.warnings)
            with self._locked() as tokens:
                pass
            # An empty set that came out of a failed recovery is no reason to lock out.
            if tokens or len(self.warnings) == known:
                self._tokens = tokens
            self._stamp = self._file_stamp()
        except (OSError, StorageError) as exc:
            # Keep the last good set: an unreadable file must not lock everyone out.
            message = f"{self.path.name} unreadable ({exc}); using the last good tokens"
            if message not in self.warnings:
                self.warnings.append(message)

    def _file_stamp(self) -> tuple[int, int, int] | None:
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return None
        return info.st_mtime_ns, info.st_ino, info.st_size

    @property
    def count(self) -> int:
        return len(self._tokens)

    def match(self, token: str, now: float) -> tuple[str, str] | None:
        """(name, scope) of the device token equal to `token`, compared in constant time."""
        self.refresh(now)
        digest = hash_token(token)
        found = None
        for name, entry in self._tokens.items():
            if hmac.compare_digest(digest, str(entry.get("hash", ""))):
                found = (name, scope_of(entry))
        if found is not None:
            self._used[found[0]] = now
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
        self._stamp = False
