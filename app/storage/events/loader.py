"""Opening the event log: connect, check the embedder, page the index and vectors in.

An unbounded `get` fails past 32,766 rows, so this pages with limit/offset. Blocking:
`EventStore.open` runs it in a worker thread (Chroma's `get` releases the GIL).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from chromadb.api.models.Collection import Collection

from app.storage.embeddings import Embedder
from app.storage.events import chroma
from app.storage.events.index import EventIndex
from app.storage.events.journal import read_journal
from app.storage.events.types import Event
from app.storage.events.vectors import VectorTable
from app.values import is_number

PAGE = 2000  # measured at 100k: as fast as 5000, less RSS and shorter GIL slices


def connect(
    chroma_dir: Path, chroma_url: str | None, embedder: Embedder, outbox_path: Path, namespace: str
) -> tuple[Collection, EventIndex, list[Event], list[str]]:
    """Blocking. The collection, its index, and the journal's events and warnings."""
    client = chroma.make_client(chroma_dir, chroma_url)
    collection = chroma.open_collection(
        client, chroma.active_collection(client, namespace), embedder
    )
    recovered, warnings = read_journal(outbox_path)
    return collection, load_index(collection, embedder.dim), recovered, warnings


def load_index(collection: Collection, dim: int) -> EventIndex:
    """(timestamp, id, type) of every event plus its unit vector, one page at a time."""
    expected = collection.count()
    vectors = VectorTable(dim, capacity=expected + expected // 16)
    rows: list[tuple[str, float, str]] = []
    offset = 0
    while True:
        got = collection.get(include=["embeddings", "metadatas"], limit=PAGE, offset=offset)
        ids, metas = got["ids"], got["metadatas"] or []
        page = [_row(event_id, meta) for event_id, meta in zip(ids, metas, strict=True)]
        if page:
            embeddings = got["embeddings"]
            matrix = np.asarray(embeddings if embeddings is not None else [], dtype=np.float32)
            vectors.extend(page, matrix)
            rows.extend(page)
        if len(ids) < PAGE:
            return EventIndex.build(rows, vectors)
        offset += len(ids)


def _row(event_id: str, meta: object) -> tuple[str, float, str]:
    fields = meta if isinstance(meta, dict) else {}
    ts = fields.get("timestamp", 0.0)
    valid = is_number(ts)
    return event_id, float(ts) if valid else 0.0, str(fields.get("type", ""))
