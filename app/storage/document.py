"""Durable in-memory documents with group commit.

Reads come from memory. An update is applied in memory at once (the event loop makes
the read-modify-write atomic), then the caller waits until a flush that includes it has
reached the disk. Concurrent updates share one flush (group commit), so a burst of
writes costs far fewer fsyncs than writes. If a flush fails, every update not yet
durable is rolled back and its callers get the error: an acknowledged write is on disk,
an unacknowledged one is nowhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

import anyio.to_thread

from app.storage.files import atomic_write, load_or_recover
from app.storage.gate import WriteGate

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")
DEFER_S = 0.05  # deferred values are written at most once per DEFER_S: a burst shares a write


class DurableDocument(Generic[T]):
    """One file, loaded once, written atomically; values must be treated as immutable."""

    def __init__(
        self,
        path: Path,
        *,
        encode: Callable[[T], bytes],
        decode: Callable[[bytes], T],
        default: Callable[[], T],
        gate: WriteGate | None = None,
    ) -> None:
        self.path = path
        self._gate = gate
        self._encode = encode
        self._decode = decode
        self._default = default
        self._value: T = default()
        self._durable: T = self._value
        self._waiting: asyncio.Future[None] | None = None
        self._inflight: asyncio.Future[None] | None = None
        self._flusher: asyncio.Task[None] | None = None
        self.version = 0
        self._pinned = 0  # version of the newest value made durable elsewhere
        self._urgent = False  # someone awaits the next write: no deferral
        self._wakeup: asyncio.Future[None] | None = None

    def load(self) -> list[str]:
        """Read (or recover, or create) the file; blocking, call once at start."""
        value, warnings = load_or_recover(self.path, self._decode, self._default)
        data = self._encode(value)
        if not self.path.exists() or warnings or self.path.read_bytes() != data:
            # Persist defaults, recoveries and schema upgrades so the disk matches memory.
            atomic_write(self.path, data)
        self._value = self._durable = value
        return warnings

    def encode(self, value: T) -> bytes:
        return self._encode(value)

    def decode(self, data: bytes) -> T:
        return self._decode(data)

    @property
    def value(self) -> T:
        return self._value

    async def update(self, change: Callable[[T], tuple[T, R]]) -> R:
        """Apply `change(old) -> (new, result)` and return `result` once `new` is durable.

        Returning the same object as `old` means "no change" and skips the write, but
        still waits until the value it saw is durable: a caller must never be told about
        a value that a crash could still take back.
        """
        new, result = change(self._value)
        if new is self._value:
            await self.settled()
            return result
        self._value = new
        self.version += 1
        if self._waiting is None:
            self._waiting = asyncio.get_running_loop().create_future()
        waiting = self._waiting
        self._hurry()
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_loop())
        await asyncio.shield(waiting)
        return result

    def set_deferred(self, value: T) -> None:
        """Take `value` now and write the file in the background, without waiting.

        Only for a value that is already durable elsewhere (the event log's journal),
        which recovery at start replays over the file: a crash before this write loses
        nothing. So the value is never rolled back; a failed write is logged and the
        next update writes the file again.
        """
        self._value = self._durable = value
        self.version += 1
        self._pinned = self.version
        if self._waiting is None:
            self._waiting = asyncio.get_running_loop().create_future()
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_loop())

    async def settled(self) -> None:
        """Return once the current in-memory value is on disk (or raise its write error)."""
        pending = self._waiting or self._inflight
        if pending is not None:
            self._hurry()
            await asyncio.shield(pending)

    def _hurry(self) -> None:
        self._urgent = True
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    async def _flush_loop(self) -> None:
        while self._waiting is not None:
            if not self._urgent:
                # Only deferred values wait: a stream of them must not keep the disk busy
                # with back-to-back rewrites of this file (they slowed the journal's fsync).
                self._wakeup = asyncio.get_running_loop().create_future()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup, DEFER_S)
                self._wakeup = None
            self._urgent = False
            batch, self._waiting = self._waiting, None
            self._inflight = batch
            snapshot, snapshot_version = self._value, self.version
            try:
                await self._write(self._encode(snapshot))
            except Exception as exc:
                log.warning("writing %s failed: %s", self.path.name, exc)
                # Everything not yet durable is undone, including updates made on top of it.
                self._value = self._durable
                self.version += 1  # readers caching by version must see the rollback
                for fut in (batch, self._waiting):
                    if fut is not None and not fut.done():
                        fut.set_exception(exc)
                        fut.exception()  # mark retrieved: a cancelled caller must not warn
                self._waiting = self._inflight = None
                return
            if self._pinned <= snapshot_version:  # never step back behind a pinned value
                self._durable = snapshot
            self._inflight = None
            if not batch.done():
                batch.set_result(None)

    async def _write(self, data: bytes) -> None:
        if self._gate is None:
            await anyio.to_thread.run_sync(atomic_write, self.path, data)
            return
        async with self._gate.write():
            await anyio.to_thread.run_sync(atomic_write, self.path, data)

    async def drain(self) -> None:
        """Wait for writes in flight (used at shutdown and before a backup copy); a
        deferred value is written now, not after its `DEFER_S`."""
        while self._flusher is not None and not self._flusher.done():
            self._hurry()
            await asyncio.shield(self._flusher)
