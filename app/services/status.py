"""Status, built once: `/v1/status`, `/metrics`, `/health` and `hearth stats` all read it.

It only reads: the parts it looks at are passed in, and the job runner is seen through
a small protocol so this floor does not import the jobs floor above it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import anyio.to_thread

import app
from app.config import Settings
from app.services.backup.catalog import list_backups
from app.storage.events import ChromaChild, EventStore
from app.storage.space import SpaceGuard
from app.storage.state import StateManager
from app.storage.tokens import TokenStore

MIN_FREE_BYTES = 64 * 1024
SIZE_CACHE_S = 60.0


class JobsView(Protocol):
    warnings: list[str]

    def jobs(self) -> list[dict[str, Any]]: ...


class StatusService:
    def __init__(
        self,
        settings: Settings,
        *,
        events: EventStore,
        state: StateManager,
        tokens: TokenStore,
        jobs: JobsView,
        extra_warnings: Callable[[], list[str]] = list,
        space: SpaceGuard | None = None,
        chroma_child: ChromaChild | None = None,
    ) -> None:
        self.chroma_child = chroma_child
        self.space = space
        self.settings = settings
        self.events = events
        self.state = state
        self.tokens = tokens
        self.jobs = jobs
        self.extra_warnings = extra_warnings
        self.started_at = time.time()
        self._size = (0.0, 0)

    @property
    def no_token(self) -> bool:
        """Neither an admin token nor a device token: every /v1 route answers 401."""
        return not self.settings.api_token and self.tokens.count == 0

    def health(self) -> str:
        """ok | degraded (event store away or busy, disk under the margin) | unhealthy."""
        if not self.storage_ok():
            return "unhealthy"
        if self.events.link.degraded or (self.space is not None and self.space.low):
            return "degraded"
        return "ok"

    def storage_ok(self) -> bool:
        state_dir = self.settings.state_dir
        try:
            usage = shutil.disk_usage(state_dir)
        except OSError:
            return False
        return os.access(state_dir, os.W_OK) and usage.free > MIN_FREE_BYTES

    async def storage(self) -> dict[str, int]:
        now = time.monotonic()
        if now - self._size[0] > SIZE_CACHE_S or not self._size[0]:
            size = await anyio.to_thread.run_sync(_tree_size, self.settings.data_dir)
            self._size = (now, size)
        free = shutil.disk_usage(self.settings.data_dir).free
        return {"data_dir_bytes": self._size[1], "disk_free_bytes": free}

    async def backups(self) -> list[dict[str, Any]]:
        return await anyio.to_thread.run_sync(list_backups, self.settings.backups_dir)

    async def backups_summary(self) -> dict[str, Any]:
        items = await self.backups()
        return {"count": len(items), "newest_at": items[0]["created_at"] if items else None}

    def events_summary(self) -> dict[str, Any]:
        total, by_type = self.events.counts()
        return {"total": total, "by_type": by_type}

    def store_process(self) -> dict[str, Any]:
        """Where Chroma runs: the service's child process, inline, or a server elsewhere."""
        child = self.chroma_child
        if child is not None:
            return {"mode": "child", "pid": child.pid, "restarts": child.restarts}
        mode = "server" if self.settings.chroma_url else "inline"
        return {"mode": mode, "pid": None, "restarts": 0}

    def warnings(self) -> list[str]:
        found = [*self.state.warnings, *self.events.warnings]
        store = self.events.link.state()
        if store:
            found.append(store)
        if self.space is not None and self.space.low:
            found.append("disk nearly full: writes are refused until space is freed")
        if self.tokens.warning:
            found.append(self.tokens.warning)
        found += self.jobs.warnings
        found += self.extra_warnings()
        if self.settings.exposed and self.no_token:
            found.append("exposed host with no token configured")
        return found

    async def snapshot(self) -> dict[str, Any]:
        """The `/v1/status` answer."""
        return {
            "version": app.__version__,
            "uptime_s": round(time.time() - self.started_at, 3),
            "events": self.events_summary(),
            "embedder": self.events.embedder_name,
            "store": self.store_process(),
            "storage": await self.storage(),
            "jobs": self.jobs.jobs(),
            "backups": await self.backups_summary(),
            "warnings": self.warnings(),
        }


def _tree_size(root: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
    return total
