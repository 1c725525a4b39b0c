"""Every mood entry (time, local date, label, score, activities) kept in memory.

Insights read all moods of a range, and fetching 11k mood events from Chroma by id
takes ~1.6 s. The event log's own index says which mood events exist and when, at no
store cost, so this keeps one small entry per mood event and fetches only the ones it
has not seen (new, or moved in time); a deleted event drops out because the index no
longer lists it. An event rewritten under the same id and time keeps its old entry
until restart (no mood source rewrites a label in place today).
"""

from __future__ import annotations

import asyncio
import bisect
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from app.services.mood_scores import MoodScores
from app.storage.events import Event

FETCH_CHUNK = 2000  # ids per store call: far under SQLite's variable limit


class MoodEvents(Protocol):
    def keys(
        self, *, type: str | None, since: float | None, until: float | None
    ) -> list[tuple[float, str]]: ...

    async def get_many(self, ids: list[str]) -> list[Event]: ...


@dataclass(frozen=True)
class MoodEntry:
    ts: float
    date: str
    label: str
    score: int | None
    activities: tuple[str, ...]


class MoodLog:
    def __init__(self, events: MoodEvents, scores: MoodScores, tz: str) -> None:
        self.events = events
        self.scores = scores
        self.tz = ZoneInfo(tz)
        self._cache: dict[str, MoodEntry] = {}
        self._entries: list[MoodEntry] = []
        self._ts: list[float] = []
        self.dates: set[str] = set()
        self._keys: list[tuple[float, str]] = []
        self._lock = asyncio.Lock()

    async def sync(self) -> list[MoodEntry]:
        """All mood entries, oldest first, as the event log has them now."""
        async with self._lock:
            keys = self.events.keys(type="mood", since=None, until=None)
            if keys == self._keys:  # one C-level list comparison: nothing changed
                return self._entries
            cache = self._cache
            missing = [i for ts, i in keys if i not in cache or cache[i].ts != ts]
            for start in range(0, len(missing), FETCH_CHUNK):
                for event in await self.events.get_many(missing[start : start + FETCH_CHUNK]):
                    cache[event.id] = self._entry(event)
            self._keys = keys
            if missing or len(cache) != len(keys):
                self._cache = {i: cache[i] for _, i in keys if i in cache}
                self._entries = [self._cache[i] for _, i in keys if i in self._cache]
                self._ts = [e.ts for e in self._entries]
                self.dates = {e.date for e in self._entries}
            return self._entries

    def span(self, since: float | None, until: float | None) -> list[MoodEntry]:
        """Entries with since <= ts < until, from the last sync."""
        lo = 0 if since is None else bisect.bisect_left(self._ts, since)
        hi = len(self._ts) if until is None else bisect.bisect_left(self._ts, until)
        return self._entries[lo:hi]

    def _entry(self, event: Event) -> MoodEntry:
        mood = event.metadata.get("mood")
        label = (mood if isinstance(mood, str) and mood else event.text).strip().lower()
        raw = event.metadata.get("activities")
        activities = tuple(
            a.strip() for a in (raw.split(" | ") if isinstance(raw, str) else []) if a.strip()
        )
        day = datetime.fromtimestamp(event.timestamp, self.tz).date().isoformat()
        return MoodEntry(event.timestamp, day, label, self.scores.score(label), activities)
