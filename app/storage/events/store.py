"""The event log: Chroma is the source of truth, an in-memory index makes it fast.

Three rules shape it (numbers in docs/measurements.md):
- Chroma's write calls hold the GIL for their whole run, even in a thread, so writes go
  in small chunks with an await between them (`app.storage.events.writer`).
- Chroma cannot order results and filters slowly, so paging, counts and filtered search
  come from `EventIndex` and its in-memory vector table (`app.storage.events.search`).
- The phone's small writes go through the `Outbox`, acked at fsync speed.
- Every Chroma call goes through the `StoreLink` (a bounded wait). While a Chroma
  server is away, `add` queues its batch in the same durable outbox (delivered once it is
  back: writes are upserts by id); reads that the index and the outbox can answer are
  answered, the others raise `StoreUnavailableError` (503 + Retry-After).
Export/import live in `app.storage.events.transfer`.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import anyio.to_thread
from chromadb.api.models.Collection import Collection

from app.errors import HearthError, StoreBusyError, StoreUnavailableError
from app.storage.embeddings import Embedder
from app.storage.events import chroma, transfer
from app.storage.events.codec import (
    decode_cursor,
    encode_cursor,
    from_chroma,
    new_event,
    same_content,
)
from app.storage.events.index import EventIndex
from app.storage.events.link import StoreLink
from app.storage.events.loader import connect
from app.storage.events.outbox import Outbox
from app.storage.events.search import Searcher
from app.storage.events.types import AddResult, Event, NewEvent
from app.storage.events.writer import EventWriter
from app.storage.gate import WriteGate

log = logging.getLogger(__name__)
WATCH_S = 2.0  # server mode: how soon /health notices an outage, and its end
FLUSH_WAIT_S = 8.0  # under the API's 10 s: a route waiting on the outbox answers in time


class EventStore:
    def __init__(
        self,
        collection: Collection,
        embedder: Embedder,
        index: EventIndex,
        gate: WriteGate,
        link: StoreLink | None = None,
    ) -> None:
        self.collection = collection
        self.link = link or StoreLink()
        self.embedder_name = embedder.name
        self.warnings: list[str] = []
        self._embedder = embedder
        self._index = index
        self._gate = gate
        self._writer = EventWriter(collection, embedder, index, gate, self.link)
        self._unwritten = self._writer.unwritten
        self._settling: dict[str, asyncio.Future[None]] = {}
        self._outbox: Outbox
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
    ) -> EventStore:
        """Connect, check the pinned embedder, load index and vectors, replay the outbox."""

        collection, index, recovered, warnings = await anyio.to_thread.run_sync(
            partial(connect, chroma_dir, chroma_url, embedder, outbox_path, namespace)
        )
        store = cls(collection, embedder, index, gate, link)
        store.remote = chroma_url is not None
        store.warnings = warnings
        fresh = [e for e in recovered if e.id not in index]
        for event in fresh:
            index.add(event.id, event.timestamp, event.type)
        store._outbox = Outbox(outbox_path, store._writer.store, gate)
        store._outbox.start(fresh)
        if chroma_url:
            store._watcher = asyncio.create_task(store._watch(), name="chroma-watch")
        return store

    async def _watch(self) -> None:
        """A Chroma server's outage (and its end) is noticed even when nothing is written."""
        while True:
            await asyncio.sleep(WATCH_S)
            with contextlib.suppress(HearthError):
                if not self.link.degraded or self.link.down_since is not None:
                    await self.link.call(self.collection.count)

    # -- writing ---------------------------------------------------------------

    async def _claim_settled(
        self, events: Sequence[NewEvent]
    ) -> tuple[list[str], list[Event], list[bool], asyncio.Future[None]]:
        """Claim ids, first waiting for any of them still being written by another call.

        A retry that arrives while the first attempt is writing must not be answered
        "duplicate" before that write is durable (or has failed, making it new again).
        """
        while True:
            busy = {self._settling[e.id] for e in events if e.id and e.id in self._settling}
            if not busy:
                break
            await asyncio.wait(busy)
        ids, fresh, flags = self._claim(events)
        done = asyncio.get_running_loop().create_future()
        for event in fresh:
            self._settling[event.id] = done
        return ids, fresh, flags, done

    def _settle(self, fresh: Sequence[Event], done: asyncio.Future[None]) -> None:
        for event in fresh:
            if self._settling.get(event.id) is done:
                del self._settling[event.id]
        done.set_result(None)

    def _claim(self, events: Sequence[NewEvent]) -> tuple[list[str], list[Event], list[bool]]:
        """Assign ids and reserve the new ones at once, so a concurrent write sees them."""
        now = time.time()
        ids: list[str] = []
        fresh: list[Event] = []
        flags: list[bool] = []
        for new in events:
            event_id = new.id or uuid.uuid4().hex
            ids.append(event_id)
            created = event_id not in self._index
            flags.append(created)
            if created:
                event = new_event(new, event_id, now)
                fresh.append(event)
                self._index.add(event_id, event.timestamp, event.type)
                self._unwritten.add(event_id)
        return ids, fresh, flags

    def _release(self, events: Iterable[Event]) -> None:
        for event in events:
            if event.id in self._unwritten:
                self._unwritten.discard(event.id)
                self._index.remove(event.id)

    async def _write_claimed(
        self, events: Sequence[NewEvent], write: Callable[[list[Event]], Awaitable[None]]
    ) -> tuple[list[str], list[Event], list[bool]]:
        """Claim the ids, write the new events with `write`, undo the claim if it fails."""
        ids, fresh, flags, done = await self._claim_settled(events)
        try:
            await write(fresh)
        except BaseException:
            self._release(fresh)
            raise
        finally:
            self._settle(fresh, done)
        return ids, fresh, flags

    async def add(self, events: list[NewEvent]) -> AddResult:
        """Write new events before returning; a known id is a duplicate, never a 2nd copy.

        All or nothing. While Chroma is away the batch goes to the durable outbox instead
        (one fsynced append: also all or nothing) and reaches Chroma once it is back.
        """
        ids, fresh, _ = await self._write_claimed(events, self._store_or_queue)
        return AddResult(ids=ids, created=len(fresh), duplicates=len(events) - len(fresh))

    async def _store_or_queue(self, fresh: builtins.list[Event]) -> None:
        if not self.link.degraded:
            try:
                await self._writer.store(fresh, atomic=True)
                return
            except StoreUnavailableError as exc:
                log.warning("event store away (%s): %d events queued", exc, len(fresh))
        await self._outbox.put(fresh)
        self._unwritten.difference_update(e.id for e in fresh)

    async def enqueue(self, events: list[NewEvent]) -> list[bool]:
        """Durable in the journal before returning; in Chroma a moment later."""
        _, fresh, flags = await self._write_claimed(events, self._outbox.put)
        self._unwritten.difference_update(e.id for e in fresh)
        return flags

    async def enqueue_upsert(self, events: list[NewEvent]) -> tuple[int, int]:
        """`enqueue`, except that a known id whose content changed is rewritten; returns
        (created, updated).

        For apps that resend a window of records under stable ids, some of them changed
        since (a day's step count grows). The stored copy is compared first, so an
        unchanged resend costs no re-embedding; a copy that cannot be read (Chroma away)
        is rewritten, since the write must be durable all the same.
        """
        latest = {e.id or uuid.uuid4().hex: e for e in events}
        while True:
            busy = {self._settling[i] for i in latest if i in self._settling}
            if busy:
                await asyncio.wait(busy)
                continue
            try:
                stored = {e.id: e for e in await self._fetch(list(latest))}
            except Exception:
                stored = {}
            if not any(i in self._settling for i in latest):
                break
        now = time.time()
        batch: list[Event] = []
        fresh: list[Event] = []
        replaced: dict[str, tuple[tuple[float, str], Any]] = {}
        for event_id, new in latest.items():
            before = self._index.get(event_id)
            if before is not None and same_content(stored.get(event_id), new):
                continue
            event = new_event(new, event_id, now)
            batch.append(event)
            if before is None:
                fresh.append(event)
                self._unwritten.add(event_id)
            else:
                replaced[event_id] = (before, self._index.vectors.vector(event_id))
            self._index.add(event_id, event.timestamp, event.type)
        done = asyncio.get_running_loop().create_future()
        for event in batch:
            self._settling[event.id] = done
        try:
            await self._outbox.put(batch)
        except BaseException:
            self._release(fresh)
            for event_id, ((ts, kind), vector) in replaced.items():
                self._index.add(event_id, ts, kind)
                if vector is not None:
                    self._index.attach(event_id, vector)
            raise
        finally:
            self._settle(batch, done)
        self._unwritten.difference_update(e.id for e in fresh)
        return len(fresh), len(replaced)

    async def upsert(self, events: list[NewEvent]) -> None:
        """Replace events by id (a re-scraped blog post keeps its URL-derived id)."""
        now = time.time()
        latest = {e.id or uuid.uuid4().hex: e for e in events}
        if any(event_id in self._outbox.pending for event_id in latest):
            await self._drain_first()
        batch = [new_event(new, event_id, now) for event_id, new in latest.items()]
        for event in batch:
            self._index.add(event.id, event.timestamp, event.type)
            self._unwritten.add(event.id)
        try:
            await self._writer.store(batch)
        except BaseException:
            self._unwritten.difference_update(latest)
            await self._writer.resync(list(latest))
            raise

    @property
    def embedder_dim(self) -> int:
        return self._embedder.dim

    # -- reading ---------------------------------------------------------------

    def known(self, event_id: str) -> bool:
        return event_id in self._index

    def counts(self) -> tuple[int, dict[str, int]]:
        return self._index.counts()

    async def get(self, event_id: str) -> Event | None:
        found = await self._fetch([event_id])
        return found[0] if found else None

    async def _fetch(self, ids: list[str]) -> list[Event]:
        """Events for `ids` in that order; pending outbox events come from memory."""
        pending = self._outbox.pending
        wanted = [i for i in ids if i not in pending and i in self._index]
        by_id: dict[str, Event] = {}
        if wanted:
            got = await self.link.call(
                self.collection.get, ids=wanted, include=["documents", "metadatas"]
            )
            docs, metas = got["documents"] or [], got["metadatas"] or []
            for event_id, doc, meta in zip(got["ids"], docs, metas, strict=True):
                by_id[event_id] = from_chroma(event_id, doc, meta)
        out = []
        for event_id in ids:
            event = pending.get(event_id) or by_id.get(event_id)
            if event is not None:
                out.append(event)
        return out

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
        return await self._fetch(ids), next_cursor

    def keys(
        self,
        *,
        type: str | None = None,  # noqa: A002
        since: float | None = None,
        until: float | None = None,
    ) -> builtins.list[tuple[float, str]]:
        """(timestamp, id) oldest first, from the index alone: no store call."""
        return self._index.keys(type, since, until)

    async def get_many(self, ids: builtins.list[str]) -> builtins.list[Event]:
        """Events for `ids` in that order (unknown ids left out)."""
        return await self._fetch(ids)

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
        entry = self._index.get(event_id)
        if entry is None:
            return False
        if event_id in self._outbox.pending:
            await self._drain_first()
        self.link.check()
        vector = self._index.vectors.vector(event_id)
        self._index.remove(event_id)
        try:
            async with self._gate.write():
                await self.link.call(self.collection.delete, ids=[event_id])
        except BaseException:
            self._index.add(event_id, *entry)
            if vector is not None:
                self._index.attach(event_id, vector)
            raise
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
        include: Any = ["documents", "metadatas", "embeddings"]
        pages = [ids[i : i + batch] for i in range(0, len(ids), batch)]

        def fetch(chunk: builtins.list[str]) -> Any:
            return self.link.call(self.collection.get, ids=chunk, include=include)

        # `get` frees the GIL: the next page is read while the caller encodes this one.
        ahead = asyncio.ensure_future(fetch(pages[0])) if pages else None
        try:
            for n, chunk in enumerate(pages):
                assert ahead is not None
                got = await ahead
                if n + 1 < len(pages):
                    ahead = asyncio.ensure_future(fetch(pages[n + 1]))
                vectors = got["embeddings"] if got["embeddings"] is not None else []
                rows = {
                    event_id: transfer.export_record(event_id, doc, meta, vec, self.embedder_name)
                    for event_id, doc, meta, vec in zip(
                        got["ids"],
                        got["documents"] or [],
                        got["metadatas"] or [],
                        vectors,
                        strict=True,
                    )
                }
                yield [rows[e] for e in chunk if e in rows]
        finally:
            if ahead is not None and not ahead.done():
                ahead.cancel()

    async def import_records(self, records: builtins.list[dict[str, Any]]) -> AddResult:
        """Idempotent: known ids are duplicates; embeddings are reused when the model matches."""
        ids, fresh, _ = self._claim(transfer.to_new_events(records))
        reuse, vectors, reembed = transfer.plan_import(
            fresh, records, self.embedder_name, self._embedder.dim
        )
        try:
            if reuse:
                await self._writer.write(reuse, vectors)
            await self._writer.store(reembed)
        except BaseException:
            self._release(fresh)
            raise
        return AddResult(ids=ids, created=len(fresh), duplicates=len(records) - len(fresh))

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
