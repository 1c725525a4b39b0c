"""Getting events and their vectors into Chroma and the in-memory index, loop-friendly.

Chroma's `upsert` holds the GIL for its whole run, even in a thread (~1.2 ms per item:
100 items lag the loop ~124 ms), so writes go in chunks of `WRITE_CHUNK` with an await
between (32 items: ~40 ms of GIL, under the 100 ms a probe may wait; bigger chunks when
Chroma runs in another process, where its lock is not ours), each holding
`gate.write()` only for its own chunk. Embedding releases the GIL,
so the next group is embedded while the current one is written. Once a chunk is in
Chroma its vectors join the index's vector table, which is what makes it searchable.
Every call goes through the `StoreLink` (bounded wait), and every chunk through the
gate's free-space check; `store(..., atomic=True)` checks the whole batch's space first
and takes back the chunks already written if a later one fails, so a refused batch
leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import anyio.to_thread
import numpy as np
from chromadb.api.models.Collection import Collection

from app.errors import StoreUnavailableError
from app.storage.embeddings import Embedder
from app.storage.events.codec import to_chroma
from app.storage.events.index import EventIndex
from app.storage.events.link import StoreLink
from app.storage.events.types import Event
from app.storage.gate import WriteGate

log = logging.getLogger(__name__)
WRITE_CHUNK = 32
EMBED_GROUP = 64
DELETE_CHUNK = 100
# Chroma served by another process (its child, or a server) holds that process's lock,
# not ours: one call per embedded group, and deletes in bigger calls. Fewer calls is less
# of Chroma's fixed cost per call, including its re-read of the unsaved log backlog.
SERVED_WRITE_CHUNK = EMBED_GROUP
SERVED_DELETE_CHUNK = 1000
BYTES_PER_EVENT = 8192  # SQLite rows, full-text index, the vector twice (HNSW + queue)


def space_needed(events: Sequence[Event]) -> int:
    """A generous guess of what writing `events` adds to Chroma's files."""
    return sum(BYTES_PER_EVENT + 4 * len(e.text.encode()) for e in events)


class EventWriter:
    def __init__(
        self,
        collection: Collection,
        embedder: Embedder,
        index: EventIndex,
        gate: WriteGate,
        link: StoreLink,
        *,
        served: bool = False,
    ) -> None:
        self._write_chunk = SERVED_WRITE_CHUNK if served else WRITE_CHUNK
        self._delete_chunk = SERVED_DELETE_CHUNK if served else DELETE_CHUNK
        self._collection = collection
        self._link = link
        self._embedder = embedder
        self._index = index
        self._gate = gate
        self.unwritten: set[str] = set()

    async def store(self, events: list[Event], *, atomic: bool = False) -> None:
        """Embed in groups (torch frees the GIL) while writing the previous group.

        `atomic`: all or nothing (the API's batches): space for the whole batch is
        checked first, and a failure part-way takes back what was written.
        """
        if atomic and self._gate.space is not None:
            self._gate.space.check(space_needed(events))
        written: list[str] = []
        try:
            await self._store(events, written)
        except StoreUnavailableError:
            raise  # the caller queues the whole batch in the outbox: upserts, so no harm
        except BaseException:
            if atomic and written:
                await self._take_back(written)
            raise

    async def _take_back(self, ids: list[str]) -> None:
        try:
            async with self._gate.write(frees=True):
                await self._link.call(self._collection.delete, ids=ids)
        except Exception:
            log.exception("could not take back %d events of a failed batch", len(ids))
            return
        self._index.remove_many(ids)

    async def _store(self, events: list[Event], written: list[str]) -> None:
        groups = [events[i : i + EMBED_GROUP] for i in range(0, len(events), EMBED_GROUP)]
        if not groups:
            return
        embed = self._embedder.embed_array
        ahead = asyncio.ensure_future(anyio.to_thread.run_sync(embed, [e.text for e in groups[0]]))
        try:
            for n, group in enumerate(groups):
                vectors = await ahead
                if n + 1 < len(groups):
                    texts = [e.text for e in groups[n + 1]]
                    ahead = asyncio.ensure_future(anyio.to_thread.run_sync(embed, texts))
                await self.write(group, vectors, written)
        finally:
            if not ahead.done():
                ahead.cancel()

    async def write(
        self, events: list[Event], vectors: np.ndarray, written: list[str] | None = None
    ) -> None:
        """Upsert events with precomputed vectors, chunk by chunk (`written` collects ids)."""
        size = self._write_chunk
        for i in range(0, len(events), size):
            chunk = events[i : i + size]
            block = vectors[i : i + size]
            ids = [e.id for e in chunk]
            async with self._gate.write(space_needed(chunk)):
                if written is not None:
                    written += ids  # a call that overran its wait may still land
                await self._link.call(
                    self._collection.upsert,
                    ids=ids,
                    embeddings=block,
                    documents=[e.text for e in chunk],
                    metadatas=[to_chroma(e) for e in chunk],
                )
            for event, vector in zip(chunk, block, strict=True):
                self.unwritten.discard(event.id)
                self._index.attach(event.id, vector)

    async def resync(self, ids: list[str]) -> None:
        """After a failed write, make the index agree with what Chroma really holds."""
        got = await self._link.call(
            self._collection.get, ids=ids, include=["metadatas", "embeddings"]
        )
        metas = got["metadatas"] or []
        vectors = got["embeddings"] if got["embeddings"] is not None else [None] * len(metas)
        found = {
            event_id: (meta, vector)
            for event_id, meta, vector in zip(got["ids"], metas, vectors, strict=True)
        }
        for event_id in ids:
            meta, vector = found.get(event_id, (None, None))
            if meta is None:
                self._index.remove(event_id)
                continue
            self._index.add(event_id, float(meta["timestamp"]), str(meta["type"]))  # type: ignore[arg-type]
            if vector is not None:
                self._index.attach(event_id, np.asarray(vector, dtype=np.float32))

    async def delete_one(self, event_id: str) -> None:
        """Out of the index first (no search finds it meanwhile), back in if Chroma fails."""
        self._link.check()
        entry = self._index.get(event_id)
        if entry is None:
            return
        vector = self._index.vectors.vector(event_id)
        self._index.remove(event_id)
        try:
            async with self._gate.write():
                await self._link.call(self._collection.delete, ids=[event_id])
        except BaseException:
            self._index.add(event_id, *entry)
            if vector is not None:
                self._index.attach(event_id, vector)
            raise

    async def delete_many(self, ids: list[str]) -> int:
        """Delete in small calls with a yield between (retention), so the loop stays live."""
        deleted = 0
        size = self._delete_chunk
        for i in range(0, len(ids), size):
            chunk = [e for e in ids[i : i + size] if e in self._index]
            async with self._gate.write():
                await self._link.call(self._collection.delete, ids=chunk)
            self._index.remove_many(chunk)
            deleted += len(chunk)
            await asyncio.sleep(0)
        return deleted
