"""Filtered search gives exactly what Chroma's own (slow) filtered query gives."""

from __future__ import annotations

import random
from functools import partial
from typing import Any

import anyio.to_thread
import pytest

from app.storage import event_search
from app.storage.event_types import NewEvent
from app.storage.events import EventStore

pytestmark = pytest.mark.anyio
T0 = 1_763_600_000.0
TOPICS = ["work meeting", "long run", "family dinner", "bad sleep", "new song", "rainy walk"]


def where(kind: str | None, since: float | None, until: float | None) -> dict[str, Any] | None:
    clauses: list[dict[str, Any]] = []
    if kind is not None:
        clauses.append({"type": kind})
    if since is not None:
        clauses.append({"timestamp": {"$gte": since}})
    if until is not None:
        clauses.append({"timestamp": {"$lt": until}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


FILTERS = [
    (None, None, None),
    ("thought", None, None),  # ~60%: oversampled plain query
    ("mood", None, None),  # ~30%
    ("blog", None, None),  # a handful: exact over fetched vectors
    (None, T0 + 100, T0 + 250),
    ("thought", T0 + 50, None),
    (None, None, T0 + 280),
    ("mood", T0 + 299, T0 + 300),
    ("nope", None, None),
]


async def test_filtered_search_equals_chromas_filtered_query(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(3)
    kinds = ["thought"] * 6 + ["mood"] * 3 + ["blog"]
    await store.add(
        [
            NewEvent(
                type=rng.choice(kinds),
                text=f"{rng.choice(TOPICS)} {rng.choice(TOPICS)} #{i}",
                timestamp=T0 + i,
            )
            for i in range(300)
        ]
    )
    plans = set()
    # The thresholds are tuned for 100k events; shrink them so 300 events walk every plan.
    for fetch_max, max_k in ((event_search.FETCH_MAX, event_search.MAX_K), (20, 1000), (20, 0)):
        monkeypatch.setattr(event_search, "FETCH_MAX", fetch_max)
        monkeypatch.setattr(event_search, "MAX_K", max_k)
        for query in ("feeling tired after a poor night", "jogging"):
            vector = store._embedder.embed_array([query])[0]
            for kind, since, until in FILTERS:
                for n in (1, 10):
                    ours = await store.search(query, n=n, type=kind, since=since, until=until)
                    plans.add(store._search.last_plan)
                    theirs = await anyio.to_thread.run_sync(
                        partial(
                            store.collection.query,
                            query_embeddings=[vector],
                            n_results=n,
                            where=where(kind, since, until),
                            include=["distances"],
                        )
                    )
                    assert [e.id for e, _ in ours] == theirs["ids"][0], (kind, since, until, n)
                    for (_, score), dist in zip(ours, theirs["distances"][0], strict=True):
                        assert score == pytest.approx(1 - dist / 2, abs=1e-5)
    assert {"plain", "oversample", "exact-fetch", "exact-ids"} <= plans
