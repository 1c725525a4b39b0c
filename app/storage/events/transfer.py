"""Export and import records of the event log, embeddings included (backups, NDJSON export).

An exported record is the API's event plus `embedding` and `embedder` (the model name),
so an import into a store using the same model reuses the vectors instead of spending
~3 ms per event re-embedding; a record from another model is re-embedded. Pure
conversions: `EventStore.export_batches` / `import_records` do the I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from app.storage.events.codec import clean_metadata, from_chroma
from app.storage.events.types import Event, NewEvent
from app.values import is_number


def export_record(
    event_id: str, doc: str, meta: Mapping[str, Any], vector: Sequence[float], embedder: str
) -> dict[str, Any]:
    record = from_chroma(event_id, doc, meta).to_api()
    # Chroma returns a numpy row: kept as is, the export writes it without converting
    # it to 384 Python floats (this runs on the event loop, once per exported event).
    record["embedding"] = vector if hasattr(vector, "tolist") else [float(x) for x in vector]
    record["embedder"] = embedder
    return record


def to_new_events(records: list[dict[str, Any]]) -> list[NewEvent]:
    return [
        NewEvent(
            id=str(r["id"]),
            type=str(r["type"]),
            text=str(r["text"]),
            timestamp=float(r["timestamp"]),
            metadata=clean_metadata(r.get("metadata") or {}),
        )
        for r in records
    ]


def plan_import(
    fresh: list[Event], records: list[dict[str, Any]], embedder: str, dim: int
) -> tuple[list[Event], np.ndarray, list[Event]]:
    """(events whose vectors are reused, those vectors, events to re-embed)."""
    source = {str(r["id"]): r for r in records}
    fresh = [_with_received(e, source[e.id]) for e in fresh]
    reuse = [e for e in fresh if _reusable(source[e.id], embedder, dim)]
    reembed = [e for e in fresh if not _reusable(source[e.id], embedder, dim)]
    vectors = np.asarray([source[e.id]["embedding"] for e in reuse], dtype=np.float32)
    return reuse, vectors, reembed


def _reusable(record: dict[str, Any], embedder: str, dim: int) -> bool:
    vector = record.get("embedding")
    matches = record.get("embedder") == embedder
    if isinstance(vector, np.ndarray):  # straight from `export_record`
        return matches and vector.shape == (dim,)
    return matches and isinstance(vector, list) and len(vector) == dim


def _with_received(event: Event, record: dict[str, Any]) -> Event:
    received = record.get("received_at")
    if not is_number(received):
        return event
    return Event(
        id=event.id,
        type=event.type,
        text=event.text,
        timestamp=event.timestamp,
        received_at=float(received),
        metadata=event.metadata,
    )
