"""Every searchable event's unit vector in one float32 matrix, for exact filtered search.

Chroma filters by metadata slowly (50-330 ms at 100k events) and `query(ids=...)` is
no better, while a dot product over the few thousand rows a narrow filter selects costs
well under a millisecond. So each event written to Chroma also gets a row here: its
normalized vector, timestamp and type code. A filter becomes a boolean mask over the
timestamp/type arrays, the ranking a dot product over the masked rows.

The vectors live in fixed blocks of BLOCK_ROWS rows, not one array: growing adds a block
and copies nothing. One array grown by 1.5x copied every vector on the event loop's
thread (157 MB at 100k: 30-50 ms alone, 240-300 ms on a busy 2-core box, seen by a
/health probe during an import).
Rows are appended, freed on delete and reused. A search may run in a worker thread
while the loop adds and deletes: `reading()` marks it, and while any search runs a
freed row is not reused, so a row number always names the event it was ranked for.
float32, not float16: numpy has no half-precision BLAS (a float16 product over 100k
rows measured ~8x slower than float32). The product is `einsum`, not `matmul`: OpenBLAS
runs a gemv this size on every core, and on a busy 2-core box waking those threads cost
15-240 ms where einsum's single-threaded SIMD loop takes 0.5 ms per 2k rows.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator, Sequence

import numpy as np

GROW = 1.5  # the small timestamp and type arrays still grow by copying
BLOCK = 2048  # rows ranked per einsum call
SHIFT = 13
BLOCK_ROWS = 1 << SHIFT  # 12 MB of float32 at 384-d
MASK = BLOCK_ROWS - 1
MIN_CAPACITY = 1024


class VectorTable:
    def __init__(self, dim: int, capacity: int = 0) -> None:
        self.dim = dim
        capacity = max(MIN_CAPACITY, capacity)
        self._blocks: list[np.ndarray] = []
        self._add_blocks(capacity)
        self._ts = np.full(capacity, np.nan)
        self._type = np.full(capacity, -1, dtype=np.int32)  # -1: a free row
        self._ids: list[str | None] = []
        self._rows: dict[str, int] = {}
        self._free: list[int] = []
        self._limbo: list[int] = []
        self._codes: dict[str, int] = {}
        self._readers = 0

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._rows

    @property
    def nbytes(self) -> int:
        vectors = sum(block.nbytes for block in self._blocks)
        return vectors + self._ts.nbytes + self._type.nbytes

    def put(self, event_id: str, ts: float, type: str, vector: np.ndarray) -> None:
        """Add or replace an event's row; `vector` need not be normalized."""
        self.discard(event_id)
        if self._free:
            row = self._free.pop()
        else:
            row = len(self._ids)
            if row == len(self._type):
                self._grow(row + 1)
            self._ids.append(None)
        norm = float(np.linalg.norm(vector))
        # Vector first, type code last: a concurrent mask never sees a half-written row.
        self._blocks[row >> SHIFT][row & MASK] = vector / norm if norm > 0 else vector
        self._ts[row] = ts
        self._ids[row] = event_id
        self._rows[event_id] = row
        self._type[row] = self._codes.setdefault(type, len(self._codes))

    def extend(self, rows: Sequence[tuple[str, float, str]], vectors: np.ndarray) -> None:
        """Bulk append events not in the table yet (loading at open): no per-row numpy."""
        start, count = len(self._ids), len(rows)
        if start + count > len(self._type):
            self._grow(start + count)
        block = np.asarray(vectors, dtype=np.float32).reshape(count, self.dim)
        norms = np.linalg.norm(block, axis=1, keepdims=True)
        unit = block / np.where(norms > 0, norms, 1.0)
        row = start
        while row < start + count:  # the part of the range in each block
            at = row & MASK
            size = min(BLOCK_ROWS - at, start + count - row)
            self._blocks[row >> SHIFT][at : at + size] = unit[row - start : row - start + size]
            row += size
        self._ts[start : start + count] = [ts for _, ts, _ in rows]
        self._type[start : start + count] = [
            self._codes.setdefault(type, len(self._codes)) for _, _, type in rows
        ]
        for offset, (event_id, _, _) in enumerate(rows):
            self._rows[event_id] = start + offset
        self._ids.extend(event_id for event_id, _, _ in rows)

    def discard(self, event_id: str) -> None:
        row = self._rows.pop(event_id, None)
        if row is None:
            return
        self._type[row] = -1
        self._ts[row] = np.nan
        self._ids[row] = None
        (self._limbo if self._readers else self._free).append(row)

    def vector(self, event_id: str) -> np.ndarray | None:
        row = self._rows.get(event_id)
        return None if row is None else self._blocks[row >> SHIFT][row & MASK].copy()

    def _add_blocks(self, capacity: int) -> None:
        while len(self._blocks) * BLOCK_ROWS < capacity:
            self._blocks.append(np.zeros((BLOCK_ROWS, self.dim), dtype=np.float32))

    def _grow(self, needed: int) -> None:
        capacity = max(needed, int(len(self._type) * GROW))
        self._add_blocks(capacity)
        ts = np.full(capacity, np.nan)
        ts[: len(self._ids)] = self._ts[: len(self._ids)]
        type = np.full(capacity, -1, dtype=np.int32)
        type[: len(self._ids)] = self._type[: len(self._ids)]
        # A search in a thread keeps the old arrays; it never mixes old and new ones.
        self._ts, self._type = ts, type

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """While a search runs (maybe in a thread), freed rows wait before reuse."""
        self._readers += 1
        try:
            yield
        finally:
            self._readers -= 1
            if not self._readers and self._limbo:
                self._free.extend(self._limbo)
                self._limbo.clear()

    def select(self, type: str | None, since: float | None, until: float | None) -> np.ndarray:
        """Row numbers of live events with that type and `since <= timestamp < until`."""
        end = len(self._ids)
        types, ts = self._type[:end], self._ts[:end]
        if type is None:
            mask = types >= 0
        else:
            code = self._codes.get(type)
            if code is None:
                return np.zeros(0, dtype=np.intp)
            mask = types == code
        if since is not None:
            mask &= ts >= since
        if until is not None:
            mask &= ts < until
        return np.flatnonzero(mask)

    def rank(self, query: np.ndarray, rows: np.ndarray, n: int) -> list[tuple[str, float]]:
        """The `n` rows most similar to `query` as (id, cosine similarity), best first.

        `rows` ascending, as `select` gives them. Blocking and O(len(rows)); call it in a
        thread for big selections, inside `reading()`.
        """
        blocks, ids = list(self._blocks), self._ids
        norm = float(np.linalg.norm(query))
        unit = (query / norm if norm > 0 else query).astype(np.float32, copy=False)
        sims = np.empty(len(rows), dtype=np.float32)
        # Where each storage block's rows begin and end in `rows`.
        bounds = np.searchsorted(rows, np.arange(len(blocks) + 1) * BLOCK_ROWS)
        for b, (first, last) in enumerate(itertools.pairwise(bounds.tolist())):
            for i in range(first, last, BLOCK):  # gathered rows stay in cache
                end = min(i + BLOCK, last)
                local = rows[i:end] & MASK
                np.einsum("ij,j->i", blocks[b][local], unit, out=sims[i:end])
        k = min(n, len(rows))
        if k <= 0:
            return []
        top = np.argpartition(-sims, k - 1)[:k] if k < len(rows) else np.arange(len(rows))
        top = top[np.argsort(-sims[top], kind="stable")]
        out = []
        for j in top:
            event_id = ids[rows[j]]
            if event_id is not None:
                out.append((event_id, float(sims[j])))
        return out
