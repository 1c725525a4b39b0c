"""The in-memory index stays sorted whichever way events come and go."""

from __future__ import annotations

import random

from app.storage.events.index import EventIndex
from app.storage.events.vectors import VectorTable


def _index(n: int) -> EventIndex:
    rows = ((f"e{i}", float(i), "note" if i % 3 else "mood") for i in range(n))
    return EventIndex.build(rows, VectorTable(4))


def test_batches_and_single_adds_give_the_same_sorted_lists() -> None:
    rng = random.Random(3)
    rows = [(f"n{i}", rng.uniform(0, 500), rng.choice(["note", "walk"])) for i in range(300)]
    batched, single = _index(500), _index(500)
    batched.add_many([*rows, ("e1", 9999.0, "note")])  # a known id is not added again
    for row in rows:
        single.add(*row)
    assert batched.keys(None, None, None) == single.keys(None, None, None)
    for kind in ("note", "walk", "mood"):
        assert batched.select(kind, None, None) == single.select(kind, None, None)
    assert batched.get("e1") == (1.0, "note")
    assert batched.counts() == single.counts() == (800, single.counts()[1])


def test_removing_a_chunk_keeps_order_and_drops_empty_types() -> None:
    index = _index(1000)
    index.remove_many([f"e{i}" for i in range(0, 1000, 3)])  # every "mood"
    keys = index.keys(None, None, None)
    assert keys == sorted(keys) and len(keys) == len(index) == 666
    assert index.counts()[1] == {"note": 666}
    assert index.select("mood", None, None) == []
