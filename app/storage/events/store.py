"""The event log's face: Chroma is the source of truth, an in-memory index makes it fast.

The rules that shape it (numbers in docs/measurements.md):
- Chroma's write calls hold the GIL for their whole run, even in a thread, so writes go
  in small chunks with an await between them (`app.storage.events.writer`).
- Chroma cannot order results and filters slowly, so paging, counts and filtered search
  come from `EventIndex` and its in-memory vector table (`app.storage.events.search`).
- The phone's small writes go through the `Outbox`, acked at fsync speed; every way in
  claims its ids first (`app.storage.events.intake`, `claims`).
- Every Chroma call goes through the `StoreLink` (a bounded wait). While a Chroma
  server is away, `add` queues its batch in the same durable outbox (delivered once it is
  back: writes are upserts by id); reads that the index and the outbox can answer are
  answered, the others raise `StoreUnavailableError` (503 + Retry-After).
Reads and export pages are `app.storage.events.reader`; export records are
`app.storage.events.transfer`.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import logging
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import Any

import anyio.to_thread
from chromadb.api.models.Collection import Collection

from app.errors import StoreBusyError
from app.storage.embeddings import Embedder
from app.storage.events import chroma
from app.storage.events.codec import decode_cursor, encode_cursor
from app.storage.events.index import EventIndex
from app.storage.events.intake import EventIntake
from app.storage.events.link import StoreLink
from app.storage.events.loader import connect
from app.storage.events.outbox import Outbox
from app.storage.events.reader import EventReader
from app.storage.events.search import Searcher
from app.storage.events.types import AddResult, Event, NewEvent
from app.storage.events.writer import EventWriter
from app.storage.gate import WriteGate

log = logging.getLogger(__name__)
FLUSH_WAIT_S = 8.0  # under the API's 10 s: a route waiting on the outbox answers in time


class EventStore:
    def __init__(
        self,
        collection: Collection,
        embedder: Embedder,
        index: EventIndex,
        gate: WriteGate,
        outbox_path: Path,
        link: StoreLink | None = None,
        *,
        served: bool = False,
    ) -> None:
        self.collection = collection
        self.link = link or StoreLink()
        self.embedder_name = embedder.name
        self.warnings: list[str] = []
        self._embedder = embedder
        self._index = index
        self._gate = gate
        self._writer = EventWriter(collection, embedder, index, gate, self.link, served=served)
        self._outbox = Outbox(outbox_path, self._writer.store, gate)
        self._reader = EventReader(collection, index, self.link, lambda: self._outbox.pending)
        self._intake = EventIntake(
            index=index,
            writer=self._writer,
            outbox=self._outbox,
            reader=self._reader,
            link=self.link,
            embedder=embedder,
            drain=self._drain_first,
        )
        self._search = Searcher(collection, index, self.link)
        self.remote = False  # a Chroma server, not the embedded store
        self._watcher: asyncio.Task[None] | None = None

    @classmethod
    async def open(
        cls,
        *,
        chroma_dir: Path,
        chroma_url: str | None,
        embedder: Embedder,
        outbox_path: Path,
        gate: WriteGate,
        namespace: str = chroma.DEFAULT_NAMESPACE,
        link: StoreLink | None = None,
        local_server: bool = False,
    ) -> EventStore:
        """Connect, check the pinned embedder, load index and vectors, replay the outbox.

        `local_server`: `chroma_url` is the service's own Chroma child over `chroma_dir`,
        so the files are here (backups copy them) although calls go over HTTP."""

        collection, index, recovered, warnings = await anyio.to_thread.run_sync(
            partial(connect, chroma_dir, chroma_url, embedder, outbox_path, namespace)
        )
        store = cls(collection, embedder, index, gate, outbox_path, link, served=bool(chroma_url))
        store.remote = chroma_url is not None and not local_server
        store.warnings = warnings
        fresh = [e for e in recovered if e.id not in index]
        for event in fresh:
            index.add(event.id, event.timestamp, event.type)
        store._outbox.start(fresh)
        if chroma_url:
            store._watcher = asyncio.create_task(
                store.link.watch(collection.count), name="chroma-watch"
            )
        return store

    # -- writing ---------------------------------------------------------------

    async def add(self, events: list[NewEvent]) -> AddResult:
        """Write new events before returning; a known id is a duplicate, never a 2nd copy
        (all or nothing; into the durable journal while a Chroma server is away)."""
        return await self._intake.add(events)

    async def enqueue(self, events: list[NewEvent]) -> list[bool]:
        """Durable in the journal before returning; in Chroma a moment later."""
        return await self._intake.enqueue(events)

    async def enqueue_upsert(self, events: list[NewEvent]) -> tuple[int, int]:
        """`enqueue`, rewriting known ids whose content changed: (created, updated)."""
        return await self._intake.enqueue_upsert(events)

    async def upsert(self, events: list[NewEvent]) -> None:
        """Replace events by id (a re-scraped blog post keeps its URL-derived id)."""
        await self._intake.upsert(events)

    @property
    def embedder_dim(self) -> int:
        return self._embedder.dim

    # -- reading ---------------------------------------------------------------

    def known(self, event_id: str) -> bool:
        return event_id in self._index

    def counts(self) -> tuple[int, dict[str, int]]:
        return self._index.counts()

    async def get(self, event_id: str) -> Event | None:
        found = await self._reader.fetch([event_id])
        return found[0] if found else None

    async def list(
        self,
        *,
        type: str | None = None,  # noqa: A002 (the API's name)
        since: float | None = None,
        until: float | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> tuple[builtins.list[Event], str | None]:
        """Newest first; the cursor is the last (timestamp, id) seen: inserts cannot shift pages."""
        before = decode_cursor(cursor) if cursor else None
        ids, more = self._index.page(type, since, until, before, max(1, limit))
        next_cursor = encode_cursor(self._index.key(ids[-1])) if more and ids else None
        return await self._reader.fetch(ids), next_cursor

    def keys(
        self,
        *,
        type: str | None = None,  # noqa: A002
        since: float | None = None,
        until: float | None = None,
    ) -> builtins.list[tuple[float, str]]:
        """(timestamp, id) oldest first, from the index alone: no store call."""
        return self._index.keys(type, since, until)

    def changed(self, *, type: str, after: int) -> tuple[int, builtins.list[str]]:  # noqa: A002
        """The revision now, and the ids of `type` written since `after` (rewrites too)."""
        return self._index.revision, self._index.changed(type, after)

    async def get_many(self, ids: builtins.list[str]) -> builtins.list[Event]:
        """Events for `ids` in that order (unknown ids left out)."""
        return await self._reader.fetch(ids)

    async def search(
        self,
        q: str,
        *,
        n: int = 10,
        type: str | None = None,  # noqa: A002
        since: float | None = None,
        until: float | None = None,
    ) -> builtins.list[tuple[Event, float]]:
        """Best first with a score in [0, 1]; events still in the outbox are not searchable yet."""
        vector = await anyio.to_thread.run_sync(self._embedder.embed_array, [q])
        return await self._search.search(vector[0], n=n, type=type, since=since, until=until)

    # -- deleting --------------------------------------------------------------

    async def delete(self, event_id: str) -> bool:
        if event_id not in self._index:
            return False
        if event_id in self._outbox.pending:
            await self._drain_first()
        await self._writer.delete_one(event_id)
        return True

    async def delete_where(
        self,
        *,
        before: float,
        type: str | None = None,  # noqa: A002
        exclude_types: set[str] | frozenset[str] = frozenset(),
        dry_run: bool = False,
    ) -> int:
        """Retention: small delete calls with a yield between, so the loop stays responsive."""
        ids = self._index.older_than(before, type, exclude_types)
        if dry_run or not ids:
            return len(ids)
        if any(i in self._outbox.pending for i in ids):
            await self._drain_first()
        return await self._writer.delete_many(ids)

    # -- export / import -------------------------------------------------------

    async def export_batches(
        self, batch: int = 500
    ) -> AsyncIterator[builtins.list[dict[str, Any]]]:
        """Every event, oldest first, with its embedding, so an import need not re-embed."""
        await self._drain_first()
        ids = self._index.select(None, None, None)
        async for page in self._reader.export_pages(ids, self.embedder_name, batch):
            yield page

    async def import_records(self, records: builtins.list[dict[str, Any]]) -> AddResult:
        """Idempotent: known ids are duplicates; embeddings are reused when the model matches."""
        return await self._intake.import_records(records)

    async def flush(self, timeout: float | None = None) -> None:
        """Wait until every queued event is in Chroma (TimeoutError after `timeout`);
        fail fast (StoreUnavailableError) while Chroma is away."""
        if self._outbox.pending and self.link.down_since is not None:
            self.link.check()
        await self._outbox.flush(timeout)

    async def _drain_first(self) -> None:
        """For a request that needs queued events in Chroma first: bounded, else 503."""
        try:
            await self.flush(FLUSH_WAIT_S)
        except TimeoutError:
            raise StoreBusyError(
                "queued events are still on their way to the event store; retry shortly",
                retry_after=self.link.retry_after_s,
            ) from None

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        try:
            # While Chroma is away the journal keeps the events for the next start.
            await self._outbox.close(timeout=1.0 if self.link.degraded else 30.0)
        finally:
            self.link.close()
