"""One gate in front of every write to the data directory.

Writers (state files, Chroma) hold it shared; a backup holds it exclusively for the
short copy into its staging dir, so the copy never sees a half-finished write.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class WriteGate:
    def __init__(self) -> None:
        self._writers = 0
        self._paused = False
        self._cond = asyncio.Condition()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[None]:
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
