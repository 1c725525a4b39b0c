"""Runtime: every long-lived object of one Hearth process, built and closed in order.

The server's lifespan and the offline CLI commands both build one, so they share the
wiring (and the data-directory lock) instead of repeating it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio.to_thread
import httpx

from app.config import Settings
from app.errors import BackupError, HearthError, StorageError
from app.jobs.scheduler import JobRunner
from app.services.backup.create import list_backups
from app.services.blog.feeds import feeds_document
from app.services.blog.fetch import make_http_client
from app.services.blog.service import BlogService
from app.services.phone import PhoneSync
from app.storage.embeddings import get_embedder
from app.storage.events import EventStore
from app.storage.files import ensure_private_dir
from app.storage.gate import WriteGate
from app.storage.lock import DataDirLock
from app.storage.state import StateManager
from app.storage.tokens import TokenStore

log = logging.getLogger(__name__)
TOKEN_FLUSH_S = 60.0
MIN_FREE_BYTES = 64 * 1024
SIZE_CACHE_S = 60.0


class ConfigError(HearthError):
    """The settings cannot work (e.g. an exposed host with no token)."""


@dataclass
class Runtime:
    settings: Settings
    lock: DataDirLock
    gate: WriteGate
    state: StateManager
    tokens: TokenStore
    events: EventStore
    phone: PhoneSync
    started_at: float = field(default_factory=time.time)
    http: httpx.AsyncClient | None = None
    blog: BlogService | None = None
    jobs: JobRunner | None = None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _size: tuple[float, int] = (0.0, 0)

    @classmethod
    async def open(cls, settings: Settings, *, purpose: str) -> Runtime:
        lock = DataDirLock(settings.data_dir, purpose).acquire()
        try:
            return await cls._build(settings, lock)
        except BaseException:
            lock.release()
            raise

    @classmethod
    async def _build(cls, settings: Settings, lock: DataDirLock) -> Runtime:
        gate = WriteGate()
        state = StateManager(settings.state_dir, gate=gate, recent_limit=settings.recent_thoughts)
        warnings = await anyio.to_thread.run_sync(state.load)
        for warning in warnings:
            log.warning("state: %s", warning)
        tokens = TokenStore(settings.state_dir)
        tokens.refresh(time.time())
        embedder = await anyio.to_thread.run_sync(get_embedder)
        if settings.chroma_url is None:
            ensure_private_dir(settings.chroma_dir)
        events = await EventStore.open(
            chroma_dir=settings.chroma_dir,
            chroma_url=settings.chroma_url,
            embedder=embedder,
            outbox_path=settings.state_dir / "outbox.jsonl",
            gate=gate,
        )
        phone = PhoneSync(state, events)
        return cls(settings, lock, gate, state, tokens, events, phone)

    @property
    def no_token(self) -> bool:
        """Neither an admin token nor a device token: every /v1 route answers 401."""
        return not self.settings.api_token and self.tokens.count == 0

    def check_exposure(self) -> None:
        """Refuse to serve a non-loopback address with no token to protect it."""
        no_token = self.no_token
        if no_token and not self.settings.exposed:
            log.warning(
                "no token configured: every /v1 route answers 401 until you run "
                "`hearth token create NAME` or set HEARTH_API_TOKEN"
            )
        if self.settings.exposed and no_token:
            raise ConfigError(
                f"HEARTH_HOST={self.settings.host} is reachable from other machines but no "
                "token is configured: set HEARTH_API_TOKEN or run `hearth token create NAME`"
            )

    async def start_services(self, *, schedule: bool = True) -> None:
        """Outbound HTTP, the blog and the job registry; `schedule` starts the scheduler."""
        from app.jobs.registry import build_jobs

        self.http = make_http_client()
        feeds = feeds_document(self.settings.state_dir / "feeds.json", self.gate)
        for warning in await anyio.to_thread.run_sync(feeds.load):
            self.state.warnings.append(warning)
        self.blog = BlogService(
            settings=self.settings,
            client=self.http,
            cache=self.state.blog_cache,
            feeds=feeds,
            events=self.events,
            on_change=self.state.rebuild_recent,
        )
        self.jobs = JobRunner(
            build_jobs(self),
            state_path=self.settings.state_dir / "jobs.json",
            tz=self.settings.tz,
            gate=self.gate,
        )
        if not schedule:
            return
        await self.jobs.start()
        self._tasks.append(asyncio.create_task(self._flush_tokens_forever()))

    async def _flush_tokens_forever(self) -> None:
        while True:
            await asyncio.sleep(TOKEN_FLUSH_S)
            try:
                await anyio.to_thread.run_sync(self.tokens.flush_last_used)
            except (OSError, ValueError) as exc:
                log.warning("could not record token use: %s", exc)

    async def close(self) -> None:
        if self.jobs is not None:
            await self.jobs.shutdown()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        try:
            await self.events.close()
            await self.state.drain()
            with contextlib.suppress(OSError, ValueError):
                await anyio.to_thread.run_sync(self.tokens.flush_last_used)
        finally:
            if self.http is not None:
                await self.http.aclose()
            self.lock.release()

    # -- health and status -------------------------------------------------------------

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

    def require_jobs(self) -> JobRunner:
        if self.jobs is None:
            raise ConfigError("the scheduler is not running in this process")
        return self.jobs

    def require_blog(self) -> BlogService:
        if self.blog is None:
            raise ConfigError("the blog service is not running in this process")
        return self.blog

    @staticmethod
    def backup_result(record: dict[str, Any]) -> dict[str, Any]:
        if record.get("status") != "ok":
            if record.get("storage_error"):
                raise StorageError(f"backup failed: {record.get('error')}")
            raise BackupError(f"backup failed: {record.get('error') or 'unknown error'}")
        return dict(record.get("stats") or {})

    def jobs_view(self) -> list[dict[str, Any]]:
        return self.jobs.jobs() if self.jobs is not None else []

    def backups_summary(self) -> dict[str, Any]:
        items = list_backups(self.settings.backups_dir)
        return {"count": len(items), "newest_at": items[0]["created_at"] if items else None}

    def warnings(self) -> list[str]:
        found = [*self.state.warnings, *self.events.warnings]
        if self.tokens.warning:
            found.append(self.tokens.warning)
        if self.jobs is not None:
            found += self.jobs.warnings
        if self.blog is not None:
            found += self.blog.warnings()
        if self.settings.exposed and self.no_token:
            found.append("exposed host with no token configured")
        return found


def _tree_size(root: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
    return total
