"""The free-space guard: refuse a write before it starts when the disk is nearly full.

A write that meets a full disk halfway is the worst case: Chroma's `upsert` holds the
GIL for its whole run, and on a full disk that run did not end (the server froze for
minutes, /health included), and a batch cut short left part of itself behind. So every
write asks first, and is refused (507) while free space is under the margin, which
leaves room for the work already running to finish. The check is one `statvfs`,
cached for a second, so it costs nothing on the hot path; space freed by the owner is
seen within that second, with no restart.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.errors import LowSpaceError

log = logging.getLogger(__name__)
CACHE_S = 1.0


@dataclass(frozen=True)
class Usage:
    free: int
    total: int


def statvfs_usage(path: Path) -> Usage:
    st = os.statvfs(path)
    return Usage(free=st.f_bavail * st.f_frsize, total=st.f_blocks * st.f_frsize)


class SpaceGuard:
    """Writes need `min_free_bytes` and `min_free_percent` of the filesystem left free."""

    def __init__(
        self,
        path: Path,
        *,
        min_free_bytes: int,
        min_free_percent: float,
        probe: Callable[[Path], Usage] = statvfs_usage,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self.min_free_bytes = min_free_bytes
        self.min_free_percent = min_free_percent
        self._probe = probe
        self._clock = clock
        self._cached: tuple[float, Usage] | None = None
        self._low = False

    def usage(self) -> Usage | None:
        now = self._clock()
        if self._cached is None or now - self._cached[0] >= CACHE_S:
            try:
                self._cached = (now, self._probe(self.path))
            except OSError:
                return None
        return self._cached[1]

    def margin(self, usage: Usage) -> int:
        return max(self.min_free_bytes, int(usage.total * self.min_free_percent / 100))

    def headroom(self) -> int | None:
        """Bytes a write may still use (negative: under the margin); None if unknown."""
        usage = self.usage()
        return None if usage is None else usage.free - self.margin(usage)

    @property
    def low(self) -> bool:
        room = self.headroom()
        return room is not None and room < 0

    def check(self, needed: int = 0) -> None:
        """Raise LowSpaceError when `needed` more bytes would cross the margin."""
        usage = self.usage()
        if usage is None:
            return  # cannot tell: let the write itself report a real error
        margin = self.margin(usage)
        if usage.free - needed >= margin:
            if self._low:
                log.warning("free space is back above the margin: writes accepted again")
                self._low = False
            return
        if not self._low:
            log.error(
                "disk nearly full (%d MiB free, margin %d MiB): writes refused until freed",
                usage.free >> 20,
                margin >> 20,
            )
            self._low = True
        raise LowSpaceError(
            f"storage full: {usage.free >> 20} MiB free, Hearth keeps {margin >> 20} MiB"
            " in reserve; free some space (old backups, other files) and retry"
        )
