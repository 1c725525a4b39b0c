"""Reading events from Chroma by id (which ids a page holds comes from the index).

Chroma cannot order results and its metadata filters are slow, so the in-memory
`EventIndex` picks the ids and Chroma is asked only for those.
Events still in the outbox (acknowledged, not yet in Chroma) are answered from memory.
The export reads pages the same way, with their vectors.
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from chromadb.api.models.Collection import Collection

from app.storage.events.codec import from_chroma
from app.storage.events.index import EventIndex
from app.storage.events.link import StoreLink
from app.storage.events.transfer import export_record
from app.storage.events.types import Event


class EventReader:
    def __init__(
        self,
        collection: Collection,
        index: EventIndex,
        link: StoreLink,
        pending: Callable[[], Mapping[str, Event]],
    ) -> None:
        self._collection = collection
        self._index = index
        self._link = link
        self._pending = pending

    async def fetch(self, ids: builtins.list[str]) -> builtins.list[Event]:
        """Events for `ids` in that order (unknown ids left out)."""
        pending = self._pending()
        wanted = [i for i in ids if i not in pending and i in self._index]
        by_id: dict[str, Event] = {}
        if wanted:
            got = await self._link.call(
                self._collection.get, ids=wanted, include=["documents", "metadatas"]
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

    async def export_pages(
        self, ids: builtins.list[str], embedder: str, batch: int
    ) -> AsyncIterator[builtins.list[dict[str, Any]]]:
        """Export records of `ids` in that order, a page at a time, with their vectors."""
        include: Any = ["documents", "metadatas", "embeddings"]
        pages = [ids[i : i + batch] for i in range(0, len(ids), batch)]

        def fetch(chunk: builtins.list[str]) -> Any:
            return self._link.call(self._collection.get, ids=chunk, include=include)

        # `get` frees the GIL: the next page is read while the caller encodes this one.
        ahead = asyncio.ensure_future(fetch(pages[0])) if pages else None
        try:
            for n, chunk in enumerate(pages):
                assert ahead is not None
                got = await ahead
                if n + 1 < len(pages):
                    ahead = asyncio.ensure_future(fetch(pages[n + 1]))
                vectors = got["embeddings"] if got["embeddings"] is not None else []
                found = zip(
                    got["ids"], got["documents"] or [], got["metadatas"] or [], vectors, strict=True
                )
                rows = {
                    event_id: export_record(event_id, doc, meta, vector, embedder)
                    for event_id, doc, meta, vector in found
                }
                yield [rows[e] for e in chunk if e in rows]
        finally:
            if ahead is not None and not ahead.done():
                ahead.cancel()
