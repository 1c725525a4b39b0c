"""Export and import of the whole event log, embeddings included (backups, NDJSON export).

An exported record is the API's event plus `embedding` and `embedder` (the model name),
so an import into a store using the same model reuses the vectors instead of spending
~3 ms per event re-embedding; a record from another model is re-embedded.
`EventStore.export_batches` / `import_records` delegate here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from typing import TYPE_CHECKING, Any

import anyio.to_thread
import numpy as np

from app.storage.event_codec import clean_metadata, from_chroma
from app.storage.event_types import AddResult, Event, NewEvent

if TYPE_CHECKING:
    from app.storage.events import EventStore


async def export_batches(store: EventStore, batch: int) -> AsyncIterator[list[dict[str, Any]]]:
    """Every event, oldest first, with its embedding."""
    await store.flush()
    ids = store._index.select(None, None, None)
    for i in range(0, len(ids), batch):
        chunk = ids[i : i + batch]
        got = await anyio.to_thread.run_sync(
            partial(
                store.collection.get,
                ids=chunk,
                include=["documents", "metadatas", "embeddings"],
            )
        )
        rows = {}
        vectors = got["embeddings"] if got["embeddings"] is not None else []
        for event_id, doc, meta, vec in zip(
            got["ids"], got["documents"] or [], got["metadatas"] or [], vectors, strict=True
        ):
            record = from_chroma(event_id, doc, meta).to_api()
            record["embedding"] = [float(x) for x in vec]
            record["embedder"] = store.embedder_name
            rows[event_id] = record
        yield [rows[e] for e in chunk if e in rows]


async def import_records(store: EventStore, records: list[dict[str, Any]]) -> AddResult:
    """Idempotent: known ids are duplicates; embeddings are reused when the model matches."""
    news = [
        NewEvent(
            id=str(r["id"]),
            type=str(r["type"]),
            text=str(r["text"]),
            timestamp=float(r["timestamp"]),
            metadata=clean_metadata(r.get("metadata") or {}),
        )
        for r in records
    ]
    ids, fresh, _ = store._claim(news)
    source = {str(r["id"]): r for r in records}
    fresh = [_with_received(e, source[e.id]) for e in fresh]
    dim = store._embedder.dim
    reuse = [e for e in fresh if _reusable(source[e.id], store.embedder_name, dim)]
    reembed = [e for e in fresh if not _reusable(source[e.id], store.embedder_name, dim)]
    try:
        if reuse:
            vectors = np.asarray([source[e.id]["embedding"] for e in reuse], dtype=np.float32)
            await store._writer.write(reuse, vectors)
        await store._writer.store(reembed)
    except BaseException:
        store._release(fresh)
        raise
    return AddResult(ids=ids, created=len(fresh), duplicates=len(records) - len(fresh))


def _reusable(record: dict[str, Any], embedder_name: str, dim: int) -> bool:
    vector = record.get("embedding")
    matches = record.get("embedder") == embedder_name
    return matches and isinstance(vector, list) and len(vector) == dim


def _with_received(event: Event, record: dict[str, Any]) -> Event:
    received = record.get("received_at")
    if not isinstance(received, int | float) or isinstance(received, bool):
        return event
    return Event(
        id=event.id,
        type=event.type,
        text=event.text,
        timestamp=event.timestamp,
        received_at=float(received),
        metadata=event.metadata,
    )
