"""The in-memory vector table: a row always names the event it was ranked for."""

from __future__ import annotations

import numpy as np

from app.storage.events.vectors import BLOCK_ROWS, MIN_CAPACITY, VectorTable


def unit(dim: int, axis: int) -> np.ndarray:
    vector = np.zeros(dim, dtype=np.float32)
    vector[axis] = 1.0
    return vector


def test_select_and_rank_follow_type_time_and_similarity() -> None:
    table = VectorTable(4)
    table.put("a", 10.0, "mood", unit(4, 0) * 3)  # stored normalized
    table.put("b", 20.0, "mood", unit(4, 1))
    table.put("c", 30.0, "thought", unit(4, 0) + unit(4, 1))
    rows = table.select("mood", None, None)
    assert [event_id for event_id, _ in table.rank(unit(4, 0), rows, 5)] == ["a", "b"]
    both = table.select(None, 20.0, 30.0)  # since <= ts < until
    assert [event_id for event_id, _ in table.rank(unit(4, 0), both, 5)] == ["b"]
    assert len(table.select("nope", None, None)) == 0
    (best, sim), *_ = table.rank(unit(4, 0), table.select(None, None, None), 1)
    assert (best, round(sim, 6)) == ("a", 1.0)


def test_freed_rows_wait_for_running_searches_before_reuse() -> None:
    table = VectorTable(4)
    table.put("old", 1.0, "mood", unit(4, 0))
    with table.reading():
        rows = table.select(None, None, None)
        table.discard("old")
        table.put("new", 2.0, "mood", unit(4, 0))  # must not land in old's row
        assert table.rank(unit(4, 0), rows, 5) == []
    table.discard("new")
    table.put("newer", 3.0, "mood", unit(4, 2))  # reuses a freed row once nobody reads
    assert len(table.select(None, None, None)) == 1
    assert "newer" in table and "old" not in table and len(table) == 1


def test_growing_keeps_every_row_and_bulk_load_normalizes() -> None:
    table = VectorTable(3)
    count = MIN_CAPACITY * 2 + 5
    rng = np.random.default_rng(1)
    block = rng.standard_normal((count, 3)).astype(np.float32) * 7
    table.extend([(f"e{i}", float(i), "k") for i in range(count)], block)
    table.put("extra", -1.0, "k", block[0])
    assert len(table) == count + 1
    rows = table.select(None, None, None)
    ranked = dict(table.rank(block[5], rows, count + 1))
    assert max(ranked.values()) <= 1.0 + 1e-6 and ranked["e5"] > 0.999
    assert np.allclose(np.linalg.norm(table.vector("e9")), 1.0)  # type: ignore[arg-type]


def test_rows_across_storage_blocks_rank_like_brute_force() -> None:
    """Vectors live in fixed blocks (growing copies none): ranks across block edges,
    from bulk loads that straddle them and single puts past them, match a plain product."""
    rng = np.random.default_rng(7)
    count = BLOCK_ROWS * 2 + 300
    vectors = rng.standard_normal((count, 8)).astype(np.float32)
    table = VectorTable(8, capacity=100)
    half = BLOCK_ROWS + 50

    def type_of(i: int) -> str:
        return "note" if i < half or i % 3 else "mood"

    table.extend([(f"e{i}", float(i), "note") for i in range(half)], vectors[:half])
    for i in range(half, count):
        table.put(f"e{i}", float(i), type_of(i), vectors[i])
    assert len(table) == count
    query = rng.standard_normal(8).astype(np.float32)
    units = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    expected = units @ (query / np.linalg.norm(query))
    for type in (None, "note", "mood"):
        rows = table.select(type, 100.0, float(count - 100))
        got = table.rank(query, rows, 25)
        ids = [i for i in range(100, count - 100) if type in (None, type_of(i))]
        best = sorted(ids, key=lambda i: -expected[i])[:25]
        assert [event_id for event_id, _ in got] == [f"e{i}" for i in best]
        assert np.allclose([sim for _, sim in got], expected[best], atol=1e-5)
    assert np.allclose(table.vector(f"e{BLOCK_ROWS}"), units[BLOCK_ROWS], atol=1e-6)
