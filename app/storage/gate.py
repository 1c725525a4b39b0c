"""One gate in front of every write to the data directory.

Writers (state files, Chroma) hold it shared; a backup holds it exclusively for the
short copy into its staging dir, so the copy never sees a half-finished write. Being the
one door every write passes, it is also where the free-space guard refuses a write
(507) before it starts, rather than letting it meet a full disk halfway.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from app.storage.space import SpaceGuard


class WriteGate:
    def __init__(self, space: SpaceGuard | None = None) -> None:
        self.space = space
        self._writers = 0
        self._paused = False
        self._cond = asyncio.Condition()

    @asynccontextmanager
    async def write(self, needed: int = 0, *, frees: bool = False) -> AsyncIterator[None]:
        """Hold the gate for one write of about `needed` bytes (`frees`: it only shrinks
        files, e.g. truncating the drained outbox, so it is let through on a full disk)."""
        if self.space is not None and not frees:
            self.space.check(needed)
        async with self._cond:
            await self._cond.wait_for(lambda: not self._paused)
            self._writers += 1
        try:
            yield
        finally:
            async with self._cond:
                self._writers -= 1
                self._cond.notify_all()

    @asynccontextmanager
    async def paused(self) -> AsyncIterator[None]:
        """Wait for running writes to finish and hold new ones until the block exits."""
        async with self._cond:
            await self._cond.wait_for(lambda: not self._paused)
            self._paused = True
            await self._cond.wait_for(lambda: self._writers == 0)
        try:
            yield
        finally:
            async with self._cond:
                self._paused = False
                self._cond.notify_all()
