"""Filtered search gives what Chroma's own (slow) filtered query gives, on every path.

Our filtered search ranks from an in-memory vector table (or an oversampled plain
query for broad filters); Chroma's `query(where=...)` is the reference. Equal scores may
come back in either order, so ids are compared up to ties.
"""

from __future__ import annotations

import dataclasses
import random
import time
from functools import partial
from typing import Any

import anyio.to_thread
import pytest

from app.storage.events import loader as event_loader
from app.storage.events import search as event_search
from app.storage.events.store import EventStore
from app.storage.events.types import Event, NewEvent
from tests.storage.events.conftest import StoreSetup

pytestmark = pytest.mark.anyio
T0 = 1_763_600_000.0
TOPICS = ["work meeting", "long run", "family dinner", "bad sleep", "new song", "rainy walk"]
TIE = 1e-5


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
    ("thought", None, None),  # ~60%
    ("mood", None, None),  # ~30%
    ("blog", None, None),  # a handful
    (None, T0 + 100, T0 + 250),
    ("thought", T0 + 50, None),
    (None, None, T0 + 280),
    ("mood", T0 + 299, T0 + 300),
    ("nope", None, None),
]
# The cost model is tuned for 100k events; these settings make 300 events walk each path.
PATHS: list[dict[str, int]] = [
    {},  # exact, ranked on the loop
    {"INLINE_ROWS": 0},  # exact, ranked in a worker thread
    {"QUERY_COST_ROWS": 0, "RESULT_COST_ROWS": 0},  # oversampled plain query
]


def assert_same_ranking(ours: list[tuple[str, float]], theirs: list[tuple[str, float]]) -> None:
    assert len(ours) == len(theirs)
    for (_, mine), (_, ref) in zip(ours, theirs, strict=True):
        assert mine == pytest.approx(ref, abs=TIE)
    ref_scores = dict(theirs)
    cut = theirs[-1][1] if theirs else 1.0
    for event_id, mine in ours:
        if event_id in ref_scores:
            assert mine == pytest.approx(ref_scores[event_id], abs=TIE)
        else:  # only a tie at the cut-off may swap an event in
            assert mine == pytest.approx(cut, abs=TIE), event_id


async def assert_matches_chroma(store: EventStore, monkeypatch: pytest.MonkeyPatch) -> set[str]:
    plans = set()
    for path in PATHS:
        with monkeypatch.context() as patch:
            for name, value in path.items():
                patch.setattr(event_search, name, value)
            for query in ("feeling tired after a poor night", "jogging"):
                vector = store._embedder.embed_array([query])[0]
                for kind, since, until in FILTERS:
                    for n in (1, 10):
                        ours = await store.search(query, n=n, type=kind, since=since, until=until)
                        plans.add(store._search.last_plan)
                        got = await anyio.to_thread.run_sync(
                            partial(
                                store.collection.query,
                                query_embeddings=[vector],
                                n_results=n,
                                where=where(kind, since, until),
                                include=["distances"],
                            )
                        )
                        theirs = [
                            (event_id, 1 - dist / 2)
                            for event_id, dist in zip(
                                got["ids"][0], got["distances"][0], strict=True
                            )
                        ]
                        assert_same_ranking([(e.id, s) for e, s in ours], theirs)
    return plans


async def test_filtered_search_equals_chromas_filtered_query(
    setup: StoreSetup, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(3)
    kinds = ["thought"] * 6 + ["mood"] * 3 + ["blog"]

    def make(i: int, kind: str | None = None) -> NewEvent:
        text = f"{rng.choice(TOPICS)} {rng.choice(TOPICS)} #{i}"
        return NewEvent(
            id=f"e{i}", type=kind or rng.choice(kinds), text=text, timestamp=T0 + i % 300
        )

    store = await setup.open()
    try:
        await store.add([make(i) for i in range(300)])
        plans = await assert_matches_chroma(store, monkeypatch)
        assert {"plain", "exact", "oversample", "empty"} <= plans
        # Deletes free rows, new events reuse them, upserts move vectors and types.
        for i in range(0, 300, 7):
            await store.delete(f"e{i}")
        await store.delete_where(before=T0 + 20, type="mood")
        await store.add([make(i) for i in range(300, 340)])
        await store.upsert([make(i, "mood") for i in range(1, 300, 11)])
        await store.enqueue([make(i) for i in range(340, 360)])
        await store.flush()
        await assert_matches_chroma(store, monkeypatch)
    finally:
        await store.close()
    monkeypatch.setattr(event_loader, "PAGE", 16)  # rebuilt from Chroma at open, page by page
    reopened = await setup.open()
    try:
        await assert_matches_chroma(reopened, monkeypatch)
    finally:
        await reopened.close()


async def test_a_search_racing_the_first_write_answers_instead_of_failing(
    setup: StoreSetup,
) -> None:
    """Chroma fails a query that runs while the first vector of a collection is written
    ("Error creating hnsw segment reader: Nothing found on disk"), so the first phone
    thought after an install, or journal lines replayed into a fresh store after a
    `kill -9`, must not be searched for in Chroma before Chroma has a vector."""
    for round in range(6):
        case = dataclasses.replace(setup, namespace=f"{setup.namespace}r{round}")
        store = await case.open()
        try:
            await store.enqueue(
                [NewEvent(type="thought", text="the garden needs water", timestamp=T0)]
            )
            found: list[tuple[Event, float]] = []
            deadline = time.monotonic() + 30
            while not found and time.monotonic() < deadline:
                found = await store.search("watering plants")
                await anyio.sleep(0.01)
            assert [event.text for event, _ in found] == ["the garden needs water"]
        finally:
            await store.close()
