"""Filtered vector search without Chroma's slow metadata filters.

At 100k events an unfiltered Chroma query costs ~2 ms, the same query with a `where` on
type ~50-100 ms and on a time range ~250-330 ms. So:
- no filter: Chroma's HNSW query, as is;
- a filter: the matching rows come from a numpy mask over the in-memory vector table
  (`EventIndex.vectors`, ~0.1 ms), then whichever is cheaper for that many rows:
  - "exact": a dot product over the matching rows (~0.25 us per row) and a top-n
    partition; only the winners' documents are fetched (`get(ids=...)`, ~0.4 ms);
  - "oversample": for a broad filter, gathering rows costs more than one HNSW query
    (20k rows: exact ~9.5 ms, oversampled ~5 ms), so ask Chroma for
    `n / selectivity * OVERSAMPLE` neighbours without a filter and keep the matching
    ones (the index says which); too few left -> "exact".
  The cost model is measured at 100k (scripts/bench/events.py prints the plan).
Results equal Chroma's own filtered query (tests/storage/test_search.py checks every
path). "exact" is exact by construction; "oversample" and Chroma's own filtered query
are both HNSW-approximate, so at scale either may miss a true neighbour now and then.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import anyio.to_thread
import numpy as np
from chromadb.api.models.Collection import Collection

from app.storage.events.codec import from_chroma, score
from app.storage.events.index import EventIndex
from app.storage.events.link import StoreLink
from app.storage.events.types import Event

OVERSAMPLE = 2.0
MAX_K = 1000
QUERY_COST_ROWS = 8000  # one HNSW query costs about as much as ranking this many rows...
RESULT_COST_ROWS = 40  # ...plus this many per neighbour asked for
INLINE_ROWS = 4096  # rank this few rows on the loop (< 1 ms); more go to a thread

Hit = tuple[Event, float]


class Searcher:
    def __init__(self, collection: Collection, index: EventIndex, link: StoreLink) -> None:
        self._collection = collection
        self._link = link
        self._index = index
        self.last_plan = ""

    async def search(
        self,
        vector: np.ndarray,
        *,
        n: int,
        type: str | None,
        since: float | None,
        until: float | None,
    ) -> list[Hit]:
        table = self._index.vectors
        # The table holds the events whose vectors Chroma has. An empty one means "ask
        # nobody": Chroma (1.5.9) fails a query that runs while a collection's first vector
        # is being written ("Nothing found on disk"), e.g. the first thought after an
        # install, or journal lines replayed into a fresh store.
        if n <= 0 or not len(table):
            return []
        if type is None and since is None and until is None:
            self.last_plan = "plain"
            return await self._query(vector, min(n, len(table)))
        with table.reading():
            rows = table.select(type, since, until)
            if not len(rows):
                self.last_plan = "empty"
                return []
            k = math.ceil(n * OVERSAMPLE * len(table) / len(rows)) + 10
            ranked = None
            if k <= MAX_K and QUERY_COST_ROWS + k * RESULT_COST_ROWS < len(rows):
                self.last_plan = "oversample"
                ranked = await self._oversample(vector, min(k, len(table)), n, type, since, until)
            if ranked is None:
                self.last_plan = "exact"
                rank = partial(table.rank, vector, rows, n)
                if len(rows) <= INLINE_ROWS:
                    similar = rank()
                else:
                    similar = await anyio.to_thread.run_sync(rank)
                ranked = [(event_id, 1.0 - sim) for event_id, sim in similar]
        return await self._hydrate(ranked)

    async def _oversample(
        self,
        vector: np.ndarray,
        k: int,
        n: int,
        type: str | None,
        since: float | None,
        until: float | None,
    ) -> list[tuple[str, float]] | None:
        """The top `n` matching ids among `k` unfiltered neighbours, or None if too few."""
        got = await self._link.call(
            self._collection.query, query_embeddings=[vector], n_results=k, include=["distances"]
        )
        dists = got["distances"]
        assert dists is not None
        index, table = self._index, self._index.vectors
        kept = [
            (event_id, float(dist))
            for event_id, dist in zip(got["ids"][0], dists[0], strict=True)
            if event_id in table and index.matches(event_id, type, since, until)
        ]
        if len(kept) < n and k < len(table):
            return None
        return kept[:n]

    async def _query(self, vector: np.ndarray, k: int) -> list[Hit]:
        include: Any = ["documents", "metadatas", "distances"]
        got = await self._link.call(
            self._collection.query, query_embeddings=[vector], n_results=k, include=include
        )
        docs, metas, dists = got["documents"], got["metadatas"], got["distances"]
        assert docs is not None and metas is not None and dists is not None
        return [
            (from_chroma(event_id, doc, meta), score(dist))
            for event_id, doc, meta, dist in zip(
                got["ids"][0], docs[0], metas[0], dists[0], strict=True
            )
        ]

    async def _hydrate(self, ranked: list[tuple[str, float]]) -> list[Hit]:
        """Fetch the documents of ranked (id, cosine distance) pairs, keeping the order."""
        if not ranked:
            return []
        got = await self._link.call(
            self._collection.get,
            ids=[event_id for event_id, _ in ranked],
            include=["documents", "metadatas"],
        )
        by_id = {
            event_id: from_chroma(event_id, doc, meta)
            for event_id, doc, meta in zip(
                got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True
            )
        }
        return [(by_id[e], score(d)) for e, d in ranked if e in by_id]
