"""How events come in: written now, queued in the journal, upserted, or imported.

Every path claims its ids first (`Claims`), so two writes of one id never make two
copies and a failed write leaves nothing behind. `add` writes to Chroma before it
answers (the journal takes the batch while a Chroma server is away); `enqueue` answers
once the batch is fsynced in the journal (the phone's small writes); `enqueue_upsert`
rewrites ids whose content changed (apps that resend a window of records); `upsert`
replaces by id at once (a re-scraped post); `import_records` reuses exported vectors.
"""

from __future__ import annotations

import builtins
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from app.errors import StoreUnavailableError
from app.storage.embeddings import Embedder
from app.storage.events import transfer
from app.storage.events.claims import Claims
from app.storage.events.codec import new_event, same_content
from app.storage.events.index import EventIndex
from app.storage.events.link import StoreLink
from app.storage.events.outbox import Outbox
from app.storage.events.reader import EventReader
from app.storage.events.types import AddResult, Event, NewEvent
from app.storage.events.writer import EventWriter

log = logging.getLogger(__name__)


class EventIntake:
    def __init__(
        self,
        *,
        index: EventIndex,
        writer: EventWriter,
        outbox: Outbox,
        reader: EventReader,
        link: StoreLink,
        embedder: Embedder,
        drain: Callable[[], Awaitable[None]],
    ) -> None:
        self._index = index
        self._writer = writer
        self._unwritten = writer.unwritten
        self._claims = Claims(index, self._unwritten)
        self._outbox = outbox
        self._reader = reader
        self.link = link
        self._embedder = embedder
        self._drain = drain

    async def add(self, events: list[NewEvent]) -> AddResult:
        """Write new events before returning; a known id is a duplicate, never a 2nd copy.

        All or nothing. While Chroma is away the batch goes to the durable outbox instead
        (one fsynced append: also all or nothing) and reaches Chroma once it is back.
        """
        ids, fresh, _ = await self._claims.write_claimed(events, self._store_or_queue)
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
        _, fresh, flags = await self._claims.write_claimed(events, self._outbox.put)
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
            await self._claims.wait_free(latest)
            try:
                stored = {e.id: e for e in await self._reader.fetch(list(latest))}
            except Exception:
                stored = {}
            if not self._claims.busy(latest):
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
        done = self._claims.hold(batch)
        try:
            await self._outbox.put(batch)
        except BaseException:
            self._claims.release(fresh)
            for event_id, ((ts, kind), vector) in replaced.items():
                self._index.add(event_id, ts, kind)
                if vector is not None:
                    self._index.attach(event_id, vector)
            raise
        finally:
            self._claims.settle(batch, done)
        self._unwritten.difference_update(e.id for e in fresh)
        self._index.touch(replaced)  # a reader that fetched the old copy meanwhile refetches
        return len(fresh), len(replaced)

    async def upsert(self, events: list[NewEvent]) -> None:
        """Replace events by id (a re-scraped blog post keeps its URL-derived id)."""
        now = time.time()
        latest = {e.id or uuid.uuid4().hex: e for e in events}
        if any(event_id in self._outbox.pending for event_id in latest):
            await self._drain()
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
        self._index.touch(latest)

    async def import_records(self, records: builtins.list[dict[str, Any]]) -> AddResult:
        """Idempotent: known ids are duplicates; embeddings are reused when the model matches."""
        ids, fresh, _ = self._claims.claim(transfer.to_new_events(records))
        reuse, vectors, reembed = transfer.plan_import(
            fresh, records, self._embedder.name, self._embedder.dim
        )
        try:
            if reuse:
                await self._writer.write(reuse, vectors)
            await self._writer.store(reembed)
        except BaseException:
            self._claims.release(fresh)
            raise
        return AddResult(ids=ids, created=len(fresh), duplicates=len(records) - len(fresh))
