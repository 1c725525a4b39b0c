"""Filtered vector search without Chroma's slow metadata filters.

At 100k events an unfiltered query costs ~2 ms, a `where` on type ~50-100 ms and a time
range ~250-330 ms. The index tells us how many events match a filter, so we pick:
- everything matches: the plain query;
- a broad filter: one unfiltered query oversampled to `n / selectivity * OVERSAMPLE`
  (k=400 still costs ~6 ms) and post-filtered through the index;
- a narrow filter: exact ranking of just the matching events, by fetching their vectors
  (`get(ids)`, ~23 ms per 1000 at 100k) or Chroma's `query(ids=...)` above that.
Results equal Chroma's own filtered query (tests/storage/test_search.py checks it).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any

import anyio.to_thread
import numpy as np
from chromadb.api.models.Collection import Collection
from chromadb.errors import ChromaError

from app.storage.event_codec import from_chroma, score
from app.storage.event_index import EventIndex
from app.storage.event_types import Event

OVERSAMPLE = 2.0
MAX_K = 1000
FETCH_MAX = 1000
FETCH_CHUNK = 1000
_INCLUDE: Any = ["documents", "metadatas", "distances"]

Hit = tuple[Event, float]


class Searcher:
    def __init__(
        self, collection: Collection, index: EventIndex, unsearchable: Callable[[str], bool]
    ) -> None:
        self._collection = collection
        self._index = index
        self._unsearchable = unsearchable
        self.last_plan = ""

    async def search(
        self,
        vector: np.ndarray,
        *,
        n: int,
        kind: str | None,
        since: float | None,
        until: float | None,
    ) -> list[Hit]:
        total = len(self._index)
        if total == 0 or n <= 0:
            return []
        matching = self._index.count_matching(kind, since, until)
        if matching == 0:
            return []
        if matching >= total:
            self.last_plan = "plain"
            return await self._query(vector, min(n, total))
        k = math.ceil(n * OVERSAMPLE * total / matching) + 10
        if matching > FETCH_MAX and k <= MAX_K:
            self.last_plan = "oversample"
            hits = await self._query(vector, min(k, total))
            kept = [h for h in hits if self._index.matches(h[0].id, kind, since, until)]
            if len(kept) >= n or k >= total:
                return kept[:n]
        ids = [i for i in self._index.select(kind, since, until) if not self._unsearchable(i)]
        if not ids:
            return []
        if len(ids) <= FETCH_MAX:
            self.last_plan = "exact-fetch"
            return await self._rank_fetched(vector, ids, n)
        self.last_plan = "exact-ids"
        try:
            return await self._query(vector, min(n, len(ids)), ids=ids)
        except ChromaError:
            # An id deleted between select and query; rank what is still there instead.
            return await self._rank_fetched(vector, ids, n)

    async def _query(self, vector: np.ndarray, k: int, ids: list[str] | None = None) -> list[Hit]:
        call = partial(
            self._collection.query,
            query_embeddings=[vector],
            n_results=k,
            ids=ids,
            include=_INCLUDE,
        )
        got = await anyio.to_thread.run_sync(call)
        docs, metas, dists = got["documents"], got["metadatas"], got["distances"]
        assert docs is not None and metas is not None and dists is not None
        return [
            (from_chroma(event_id, doc, meta), score(dist))
            for event_id, doc, meta, dist in zip(
                got["ids"][0], docs[0], metas[0], dists[0], strict=True
            )
        ]

    async def _rank_fetched(self, vector: np.ndarray, ids: list[str], n: int) -> list[Hit]:
        def rank() -> list[tuple[str, float]]:
            found: list[str] = []
            blocks: list[np.ndarray] = []
            for i in range(0, len(ids), FETCH_CHUNK):
                got = self._collection.get(ids=ids[i : i + FETCH_CHUNK], include=["embeddings"])
                if got["ids"]:
                    found.extend(got["ids"])
                    blocks.append(np.asarray(got["embeddings"], dtype=np.float32))
            if not found:
                return []
            matrix = np.concatenate(blocks)
            norms = np.linalg.norm(matrix, axis=1) * float(np.linalg.norm(vector))
            distances = 1.0 - (matrix @ vector.astype(np.float32)) / np.maximum(norms, 1e-12)
            order = np.argsort(distances, kind="stable")[:n]
            return [(found[j], float(distances[j])) for j in order]

        ranked = await anyio.to_thread.run_sync(rank)
        if not ranked:
            return []
        wanted = [event_id for event_id, _ in ranked]
        got = await anyio.to_thread.run_sync(
            partial(self._collection.get, ids=wanted, include=["documents", "metadatas"])
        )
        by_id = {
            event_id: from_chroma(event_id, doc, meta)
            for event_id, doc, meta in zip(
                got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True
            )
        }
        return [(by_id[e], score(d)) for e, d in ranked if e in by_id]
