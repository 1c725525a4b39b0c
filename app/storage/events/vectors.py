"""Every searchable event's unit vector in one float32 matrix, for exact filtered search.

Chroma filters by metadata slowly (50-330 ms at 100k events) and `query(ids=...)` is
no better, while a dot product over the few thousand rows a narrow filter selects costs
well under a millisecond. So each event written to Chroma also gets a row here: its
normalized vector, timestamp and type code. A filter becomes a boolean mask over the
timestamp/type arrays, the ranking a dot product over the masked rows.

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
from collections.abc import Iterator, Sequence

import numpy as np

GROW = 1.5
BLOCK = 2048
MIN_CAPACITY = 1024


class VectorTable:
    def __init__(self, dim: int, capacity: int = 0) -> None:
        self.dim = dim
        capacity = max(MIN_CAPACITY, capacity)
        self._vectors = np.zeros((capacity, dim), dtype=np.float32)
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
        return self._vectors.nbytes + self._ts.nbytes + self._type.nbytes

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
        self._vectors[row] = vector / norm if norm > 0 else vector
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
        self._vectors[start : start + count] = block / np.where(norms > 0, norms, 1.0)
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
        return None if row is None else self._vectors[row].copy()

    def _grow(self, needed: int) -> None:
        capacity = max(needed, int(len(self._type) * GROW))
        vectors = np.zeros((capacity, self.dim), dtype=np.float32)
        vectors[: len(self._ids)] = self._vectors[: len(self._ids)]
        ts = np.full(capacity, np.nan)
        ts[: len(self._ids)] = self._ts[: len(self._ids)]
        type = np.full(capacity, -1, dtype=np.int32)
        type[: len(self._ids)] = self._type[: len(self._ids)]
        # A search in a thread keeps the old arrays; it never mixes old and new ones.
        self._vectors, self._ts, self._type = vectors, ts, type

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

        Blocking and O(len(rows)); call it in a thread for big selections, inside
        `reading()`.
        """
        vectors, ids = self._vectors, self._ids
        norm = float(np.linalg.norm(query))
        unit = (query / norm if norm > 0 else query).astype(np.float32, copy=False)
        sims = np.empty(len(rows), dtype=np.float32)
        for i in range(0, len(rows), BLOCK):  # gathered blocks stay in cache
            np.einsum("ij,j->i", vectors[rows[i : i + BLOCK]], unit, out=sims[i : i + BLOCK])
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
