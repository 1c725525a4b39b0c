"""Every mood entry (time, local date, label, score, activities) kept in memory.

Insights read all moods of a range, and fetching 11k mood events from Chroma by id
takes ~1.6 s. The event log's own index says which mood events exist and when, at no
store cost, so this keeps one small entry per mood event and fetches only the ones it
has not seen: new, moved in time, or rewritten since the last sync (the index's
revision names those, so an entry relabelled under the same id and time is refetched);
a deleted event drops out because the index no longer lists it. Nothing here is the
source of truth: a start fills it from the event log, and the per-day totals
(`MoodDays`) are rebuilt from the entries whenever they change, so they cannot drift.
"""

from __future__ import annotations

import asyncio
import bisect
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from app.services.mood_days import MoodDays, MoodEntry
from app.services.mood_scores import MoodScores
from app.storage.events import Event

FETCH_CHUNK = 2000  # ids per store call: far under SQLite's variable limit


class MoodEventSource(Protocol):
    def keys(
        self, *, type: str | None, since: float | None, until: float | None
    ) -> list[tuple[float, str]]: ...

    def changed(self, *, type: str, after: int) -> tuple[int, list[str]]: ...

    async def get_many(self, ids: list[str]) -> list[Event]: ...


class MoodLog:
    """Reads every mood back from the event log for insights; `moods.MoodRecorder` writes them."""

    def __init__(self, events: MoodEventSource, scores: MoodScores, tz: str) -> None:
        self.events = events
        self.scores = scores
        self.tz = ZoneInfo(tz)
        self._cache: dict[str, MoodEntry] = {}
        self._entries: list[MoodEntry] = []
        self._ts: list[float] = []
        self._keys: list[tuple[float, str]] = []
        self._revision = 0
        self.days = MoodDays([])
        self._lock = asyncio.Lock()

    async def sync(self) -> list[MoodEntry]:
        """All mood entries, oldest first, as the event log has them now."""
        async with self._lock:
            keys = self.events.keys(type="mood", since=None, until=None)
            revision, changed = self.events.changed(type="mood", after=self._revision)
            rewritten = set(changed)
            if keys == self._keys and not rewritten:  # one C-level list comparison
                return self._entries
            cache = self._cache
            missing = [i for ts, i in keys if i in rewritten or i not in cache or cache[i].ts != ts]
            for i in rewritten:
                cache.pop(i, None)  # not served stale should its fetch miss
            for start in range(0, len(missing), FETCH_CHUNK):
                for event in await self.events.get_many(missing[start : start + FETCH_CHUNK]):
                    cache[event.id] = self._entry(event)
            self._keys = keys
            self._revision = revision
            if missing or len(cache) != len(keys):
                self._cache = {i: cache[i] for _, i in keys if i in cache}
                self._entries = [self._cache[i] for _, i in keys if i in self._cache]
                self._ts = [e.ts for e in self._entries]
                self.days = MoodDays(self._entries)
            return self._entries

    def bounds(self, since: float | None, until: float | None) -> tuple[int, int]:
        """Entry positions lo, hi with since <= ts < until, from the last sync."""
        lo = 0 if since is None else bisect.bisect_left(self._ts, since)
        hi = len(self._ts) if until is None else bisect.bisect_left(self._ts, until)
        return lo, max(lo, hi)

    @property
    def entries(self) -> list[MoodEntry]:
        """Oldest first, as of the last sync (a sync replaces the list, never changes it)."""
        return self._entries

    @property
    def timestamps(self) -> list[float]:
        """The entries' times, in the same order (replaced alike)."""
        return self._ts

    def _entry(self, event: Event) -> MoodEntry:
        mood = event.metadata.get("mood")
        label = (mood if isinstance(mood, str) and mood else event.text).strip().lower()
        raw = event.metadata.get("activities")
        activities = tuple(
            a.strip() for a in (raw.split(" | ") if isinstance(raw, str) else []) if a.strip()
        )
        day = datetime.fromtimestamp(event.timestamp, self.tz).date().isoformat()
        return MoodEntry(event.timestamp, day, label, self.scores.score(label), activities)
