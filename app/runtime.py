"""Runtime: every long-lived part of one Hearth process, built in one order and closed in
reverse. The server's lifespan and the offline CLI commands both build one, so they share
the wiring (and the data-directory lock) instead of repeating it.

Order: lock -> state -> tokens -> location fixes -> embedder -> (Chroma child) -> event
log -> phone sync, moods -> outbound HTTP -> blog -> notifier -> jobs -> status. Each part
gets what it needs passed in; nothing is filled in later, so no route can meet a half-built runtime.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from dataclasses import dataclass, field

import anyio.to_thread
import httpx

from app.children import release_free_memory
from app.config import Settings
from app.errors import ConfigError, StorageError
from app.jobs.registry import build_jobs
from app.jobs.scheduler import JobRunner
from app.services.backup.create import clear_leftovers
from app.services.blog import BlogService
from app.services.blog.feeds import feeds_document
from app.services.blog.fetch import make_http_client
from app.services.moods import MoodRecorder
from app.services.notify import Notifier, build_notifier
from app.services.phone import PhoneSync
from app.services.status import StatusService
from app.storage.embeddings import get_embedder
from app.storage.events import ChromaChild, EventStore, StoreLink
from app.storage.files import ensure_private_dir
from app.storage.gate import WriteGate
from app.storage.locations import LocationStore
from app.storage.lock import DataDirLock
from app.storage.space import SpaceGuard
from app.storage.state import StateManager
from app.storage.tokens import TokenStore

log = logging.getLogger(__name__)
TOKEN_FLUSH_S = 60.0


@dataclass
class Runtime:
    settings: Settings
    lock: DataDirLock
    gate: WriteGate
    state: StateManager
    tokens: TokenStore
    events: EventStore
    phone: PhoneSync
    moods: MoodRecorder
    http: httpx.AsyncClient
    blog: BlogService
    notifier: Notifier
    jobs: JobRunner
    status: StatusService
    locations: LocationStore
    chroma_child: ChromaChild | None = None  # the event store's own Chroma process, if any
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    async def open(cls, settings: Settings, *, purpose: str, serving: bool = False) -> Runtime:
        """Build every part; a part that fails undoes the ones built before it.

        `serving`: for the server, whose event store runs in a Chroma child process unless
        HEARTH_CHROMA_MODE=inline (the offline commands always open the files inline)."""
        async with contextlib.AsyncExitStack() as undo:
            lock = DataDirLock(settings.data_dir, purpose).acquire()
            undo.callback(lock.release)
            runtime = await cls._build(settings, lock, undo, serving=serving)
            undo.pop_all()
            return runtime

    @classmethod
    async def _build(
        cls,
        settings: Settings,
        lock: DataDirLock,
        undo: contextlib.AsyncExitStack,
        *,
        serving: bool,
    ) -> Runtime:
        gate = WriteGate(
            SpaceGuard(
                settings.data_dir,
                min_free_bytes=settings.min_free_bytes,
                min_free_percent=settings.min_free_percent,
            )
        )
        state = StateManager(settings.state_dir, gate=gate, recent_limit=settings.recent_thoughts)
        for warning in await anyio.to_thread.run_sync(state.load):
            log.warning("state: %s", warning)
        tokens = TokenStore(settings.state_dir)
        tokens.refresh(time.time())
        locations = await LocationStore.open(settings.state_dir / "locations.sqlite3", gate)
        undo.push_async_callback(anyio.to_thread.run_sync, locations.close)
        child, events = await cls._open_events(settings, gate, undo, serving=serving)
        phone = PhoneSync(state, events)
        await phone.recover()
        moods = MoodRecorder(state, events)  # moods from apps and imports
        feeds = feeds_document(settings.state_dir / "feeds.json", gate)
        for warning in await anyio.to_thread.run_sync(feeds.load):
            state.warnings.append(warning)
        http = make_http_client()
        undo.push_async_callback(http.aclose)
        blog = BlogService(
            settings=settings,
            client=http,
            cache=state.blog_cache,
            feeds=feeds,
            events=events,
            on_change=state.rebuild_recent,
        )
        notifier = build_notifier(
            settings, gate=gate, last_mood_at=lambda: float(state.current_mood()["updated_at"])
        )
        state.warnings += await anyio.to_thread.run_sync(notifier.load)
        jobs = JobRunner(
            build_jobs(
                settings, events=events, state=state, gate=gate, blog=blog, locations=locations
            ),
            state_path=settings.state_dir / "jobs.json",
            tz=settings.tz,
            gate=gate,
            on_finish=notifier.job_finished,
        )
        status = StatusService(
            settings,
            events=events,
            state=state,
            tokens=tokens,
            jobs=jobs,
            extra_warnings=lambda: [*blog.warnings(), *notifier.warnings(), *locations.warnings],
            space=gate.space,
            chroma_child=child,
        )
        return cls(
            settings,
            lock,
            gate,
            state,
            tokens,
            events,
            phone,
            moods,
            http,
            blog,
            notifier,
            jobs,
            status,
            locations,
            chroma_child=child,
        )

    @staticmethod
    async def _open_events(
        settings: Settings, gate: WriteGate, undo: contextlib.AsyncExitStack, *, serving: bool
    ) -> tuple[ChromaChild | None, EventStore]:
        embedder = await anyio.to_thread.run_sync(get_embedder)
        url, child = settings.chroma_url, None
        if url is None:
            ensure_private_dir(settings.chroma_dir)
            if serving and settings.chroma_mode == "child":
                child = ChromaChild(settings.chroma_dir, settings.data_dir / "chroma.log")
                url = await child.start()
                undo.push_async_callback(child.stop)
        events = await EventStore.open(
            chroma_dir=settings.chroma_dir,
            chroma_url=url,
            embedder=embedder,
            outbox_path=settings.state_dir / "outbox.jsonl",
            gate=gate,
            link=StoreLink(timeout_s=settings.store_timeout_s),
            local_server=child is not None,
        )
        undo.push_async_callback(events.close)
        return child, events

    def check_exposure(self) -> None:
        """Refuse to serve a non-loopback address with no token to protect it."""
        no_token = self.status.no_token
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

    async def start(self) -> None:
        """The server's background work: the scheduler, the token-use flusher and the
        notifier's once-a-minute checks (stale backup, low disk, mood reminder)."""
        # What exists now (the model, Chroma, the index) lives as long as the process. Out
        # of the collector's sight it is no longer walked by every full collection, which
        # with ~470k objects took 4-6 s on a busy 2-core machine and stalled every request.
        await anyio.to_thread.run_sync(gc.collect)
        gc.freeze()
        # Loading the index through the Chroma child decodes every vector from JSON; the
        # freed heap stays with the process unless it is handed back.
        await anyio.to_thread.run_sync(release_free_memory)
        # A backup cut short by a kill leaves its staging copy and temp archive behind.
        await anyio.to_thread.run_sync(clear_leftovers, self.settings.backups_dir)
        await self.jobs.start()
        self._tasks.append(asyncio.create_task(self._flush_tokens_forever()))
        self._tasks.append(asyncio.create_task(self.notifier.run_forever()))

    async def _flush_tokens_forever(self) -> None:
        while True:
            await asyncio.sleep(TOKEN_FLUSH_S)
            try:
                await anyio.to_thread.run_sync(self.tokens.flush_last_used)
            except (OSError, ValueError, StorageError) as exc:
                log.warning("could not record token use: %s", exc)

    async def close(self) -> None:
        await self.jobs.shutdown()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        try:
            await self.blog.aclose()
            await self.notifier.drain()
            await self.events.close()
            if self.chroma_child is not None:
                await self.chroma_child.stop()
            await self.state.drain()
            await anyio.to_thread.run_sync(self.locations.close)
            with contextlib.suppress(OSError, ValueError, StorageError):
                await anyio.to_thread.run_sync(self.tokens.flush_last_used)
        finally:
            await self.http.aclose()
            self.lock.release()
