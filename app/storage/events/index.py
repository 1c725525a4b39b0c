"""An in-memory mirror of (timestamp, id, type) for every event.

Chroma's `get` has no ordering and its metadata filters cost 50-300 ms at 100k events,
while an unfiltered vector query costs ~2 ms. Keeping the few fields we filter and sort
on in sorted lists makes counts, `known()`, newest-first paging and the choice of search
strategy a matter of bisecting in memory. Times are `since <= timestamp < until`.

`vectors` holds the embedding of every event that is in Chroma (not of those still in
the outbox or being written); removing an event here removes its vector too, so the
two can never disagree about what exists.

`revision` counts changes; `changed(type, after)` names the events of a type written
since a revision, so a reader that mirrors events (the mood log) refetches an event
rewritten under the same id and time, which the (timestamp, id) keys cannot show.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

import numpy as np

from app.storage.events.vectors import VectorTable

Key = tuple[float, str]


class EventIndex:
    def __init__(self, vectors: VectorTable) -> None:
        self.vectors = vectors
        self._meta: dict[str, tuple[float, str]] = {}
        self._all: list[Key] = []
        self._by_type: dict[str, list[Key]] = {}
        self.revision = 0
        self._written: dict[str, dict[str, int]] = {}  # type -> id -> revision, oldest first

    @classmethod
    def build(cls, rows: Iterable[tuple[str, float, str]], vectors: VectorTable) -> EventIndex:
        """Bulk load (id, timestamp, type) rows: one sort instead of n inserts."""
        index = cls(vectors)
        for event_id, ts, type in rows:
            index._meta[event_id] = (ts, type)
        index._rebuild()
        return index

    def _rebuild(self) -> None:
        self._all = sorted((ts, event_id) for event_id, (ts, _) in self._meta.items())
        self._by_type = {}
        for ts, event_id in self._all:
            self._by_type.setdefault(self._meta[event_id][1], []).append((ts, event_id))

    def __len__(self) -> int:
        return len(self._meta)

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._meta

    def get(self, event_id: str) -> tuple[float, str] | None:
        """(timestamp, type) of an event."""
        return self._meta.get(event_id)

    def add(self, event_id: str, ts: float, type: str) -> None:
        if event_id in self._meta:
            self.remove(event_id)
        self._meta[event_id] = (ts, type)
        bisect.insort(self._all, (ts, event_id))
        bisect.insort(self._by_type.setdefault(type, []), (ts, event_id))
        self._mark(event_id, type)

    def touch(self, event_ids: Iterable[str]) -> None:
        """Mark events as changed again once their new content can be read."""
        for event_id in event_ids:
            found = self._meta.get(event_id)
            if found is not None:
                self._mark(event_id, found[1])

    def _mark(self, event_id: str, type: str) -> None:
        self.revision += 1
        written = self._written.setdefault(type, {})
        written.pop(event_id, None)  # re-inserted last: the dict stays in revision order
        written[event_id] = self.revision

    def changed(self, type: str, after: int) -> list[str]:
        """Ids of `type` written (added, rewritten or touched) since revision `after`."""
        out = []
        for event_id, revision in reversed(self._written.get(type, {}).items()):
            if revision <= after:
                break
            out.append(event_id)
        return out

    def add_many(self, rows: Iterable[tuple[str, float, str]]) -> None:
        """`add` for a batch of new ids: one merge instead of an insert each (at 100k
        events, 1000 inserts into the middle of the lists cost ~60 ms on the loop)."""
        fresh = [(event_id, ts, kind) for event_id, ts, kind in rows if event_id not in self._meta]
        if len(fresh) < 64:
            for row in fresh:
                self.add(*row)
            return
        for event_id, ts, kind in fresh:
            self._meta[event_id] = (ts, kind)
            self._by_type.setdefault(kind, []).append((ts, event_id))
            self._mark(event_id, kind)
        # Sorted lists plus one appended run: timsort merges the two runs in one pass.
        self._all.extend((ts, event_id) for event_id, ts, _ in fresh)
        self._all.sort()
        for kind in {kind for _, _, kind in fresh}:
            self._by_type[kind].sort()

    def remove(self, event_id: str) -> bool:
        found = self._meta.pop(event_id, None)
        if found is None:
            return False
        self.vectors.discard(event_id)
        ts, type = found
        self.revision += 1
        self._written.get(type, {}).pop(event_id, None)
        _discard(self._all, (ts, event_id))
        bucket = self._by_type[type]
        _discard(bucket, (ts, event_id))
        if not bucket:
            del self._by_type[type]
        return True

    def remove_many(self, event_ids: Iterable[str]) -> None:
        ids = [i for i in event_ids if i in self._meta]
        if len(ids) < 64:
            for event_id in ids:
                self.remove(event_id)
            return
        gone = set(ids)
        for event_id in ids:
            _, type = self._meta.pop(event_id)
            self._written.get(type, {}).pop(event_id, None)
            self.vectors.discard(event_id)
        # One filtering pass keeps the lists sorted: no re-sort (at 100k events a sort
        # is ~100 ms on the loop, once per retention chunk).
        self._all = [key for key in self._all if key[1] not in gone]
        by_type = {t: [k for k in keys if k[1] not in gone] for t, keys in self._by_type.items()}
        self._by_type = {t: keys for t, keys in by_type.items() if keys}
        self.revision += 1

    def attach(self, event_id: str, vector: np.ndarray) -> None:
        """Make an indexed event searchable once its vector is in Chroma."""
        found = self._meta.get(event_id)
        if found is not None:
            self.vectors.put(event_id, found[0], found[1], vector)

    def counts(self) -> tuple[int, dict[str, int]]:
        return len(self._meta), {type: len(keys) for type, keys in self._by_type.items()}

    def _span(
        self, type: str | None, since: float | None, until: float | None
    ) -> tuple[list[Key], int, int]:
        keys = self._all if type is None else self._by_type.get(type, [])
        lo = 0 if since is None else bisect.bisect_left(keys, (since, ""))
        hi = len(keys) if until is None else bisect.bisect_left(keys, (until, ""))
        return keys, lo, max(lo, hi)

    def keys(self, type: str | None, since: float | None, until: float | None) -> list[Key]:
        """(timestamp, id) oldest first: one slice of the sorted list."""
        keys, lo, hi = self._span(type, since, until)
        return keys[lo:hi]

    def select(self, type: str | None, since: float | None, until: float | None) -> list[str]:
        keys, lo, hi = self._span(type, since, until)
        return [event_id for _, event_id in keys[lo:hi]]

    def matches(
        self, event_id: str, type: str | None, since: float | None, until: float | None
    ) -> bool:
        found = self._meta.get(event_id)
        if found is None:
            return False
        ts, event_type = found
        return (
            (type is None or event_type == type)
            and (since is None or ts >= since)
            and (until is None or ts < until)
        )

    def page(
        self,
        type: str | None,
        since: float | None,
        until: float | None,
        before: Key | None,
        limit: int,
    ) -> tuple[list[str], bool]:
        """Up to `limit` ids newest first, strictly older than `before`; and whether more exist."""
        keys, lo, hi = self._span(type, since, until)
        if before is not None:
            hi = max(lo, min(hi, bisect.bisect_left(keys, before)))
        start = max(lo, hi - limit)
        return [event_id for _, event_id in reversed(keys[start:hi])], start > lo

    def key(self, event_id: str) -> Key:
        ts, _ = self._meta[event_id]
        return ts, event_id

    def older_than(
        self, before: float, type: str | None, exclude_types: frozenset[str] | set[str]
    ) -> list[str]:
        keys, lo, hi = self._span(type, None, before)
        return [
            event_id
            for _, event_id in keys[lo:hi]
            if not exclude_types or self._meta[event_id][1] not in exclude_types
        ]


def _discard(keys: list[Key], key: Key) -> None:
    i = bisect.bisect_left(keys, key)
    if i < len(keys) and keys[i] == key:
        del keys[i]
