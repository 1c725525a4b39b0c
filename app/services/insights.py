"""How have I been: mood by day, streaks, activities, mood around a topic, on this day.

Moods come from `MoodLog` (memory, kept in step with the event log's index), so a
decade of entries is summed in milliseconds; `about=` costs one search by meaning.
"""

from __future__ import annotations

import bisect
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from app.services.mood_log import MoodEntry, MoodEvents, MoodLog
from app.services.mood_scores import MoodScores
from app.storage.events import Event

AROUND_S = 12 * 3600.0
ABOUT_CANDIDATES = 60
ABOUT_MAX = 30
ABOUT_MIN_SCORE = 0.68  # cosine similarity 0.36: related, not merely the same register
ON_THIS_DAY_FROM = 1970


class InsightEvents(MoodEvents, Protocol):
    async def search(
        self,
        q: str,
        *,
        n: int,
        type: str | None,
        since: float | None,
        until: float | None,
    ) -> list[tuple[Event, float]]: ...

    async def list(
        self,
        *,
        type: str | None,
        since: float | None,
        until: float | None,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[Event], str | None]: ...


class Insights:
    def __init__(
        self,
        events: InsightEvents,
        scores: MoodScores,
        tz: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.events = events
        self.tz = ZoneInfo(tz)
        self.clock = clock
        self.moods = MoodLog(events, scores, tz)

    def today(self) -> date:
        return datetime.fromtimestamp(self.clock(), self.tz).date()

    async def mood(
        self, *, since: float | None, until: float | None, about: str | None = None
    ) -> dict[str, Any]:
        everything = await self.moods.sync()
        entries = self.moods.span(since, until)
        average = _mean(e.score for e in entries)
        days = _days(entries)
        answer: dict[str, Any] = {
            "days": days,
            "average": average,
            "logged_days": len(days),
            "streak_days": self._streak({e.date for e in everything}),
            "by_activity": _by_activity(entries),
        }
        if about is not None:
            answer["about"] = await self._about(about, entries, since, until, average)
        return answer

    def _streak(self, dates: set[str]) -> int:
        day = self.today()
        if day.isoformat() not in dates:
            day -= timedelta(days=1)
        streak = 0
        while day.isoformat() in dates:
            streak += 1
            day -= timedelta(days=1)
        return streak

    async def _about(
        self,
        text: str,
        entries: list[MoodEntry],
        since: float | None,
        until: float | None,
        overall: float | None,
    ) -> dict[str, Any]:
        hits = await self.events.search(
            text, n=ABOUT_CANDIDATES, type=None, since=since, until=until
        )
        times = [e.timestamp for e, s in hits if e.type != "mood" and s >= ABOUT_MIN_SCORE]
        stamps = [e.ts for e in entries]
        near: set[int] = set()
        for ts in times[:ABOUT_MAX]:
            lo = bisect.bisect_left(stamps, ts - AROUND_S)
            hi = bisect.bisect_right(stamps, ts + AROUND_S)
            near.update(range(lo, hi))
        chosen = [entries[i] for i in sorted(near)]
        return {
            "text": text,
            "average": _mean(e.score for e in chosen),
            "entries": len(chosen),
            "overall": overall,
        }

    async def on_this_day(self, day: date, limit: int) -> list[Event]:
        """Events of the same month and day in earlier years, newest year first."""
        found: list[Event] = []
        for year in range(day.year - 1, ON_THIS_DAY_FROM - 1, -1):
            if len(found) >= limit:
                break
            try:
                start = datetime(year, day.month, day.day, tzinfo=self.tz)
            except ValueError:  # 29 February in a common year
                continue
            end = datetime.combine(start.date() + timedelta(days=1), start.timetz())
            items, _ = await self.events.list(
                type=None,
                since=start.timestamp(),
                until=end.timestamp(),
                limit=limit - len(found),
                cursor=None,
            )
            found += items
        return found


def _mean(scores: Iterable[int | None]) -> float | None:
    known = [s for s in scores if s is not None]
    return round(sum(known) / len(known), 3) if known else None


def _days(entries: list[MoodEntry]) -> list[dict[str, Any]]:
    by_day: dict[str, list[MoodEntry]] = {}
    for entry in entries:
        by_day.setdefault(entry.date, []).append(entry)
    return [
        {
            "date": day,
            "score": _mean(e.score for e in items),
            "entries": len(items),
            "moods": dict(Counter(e.label for e in items)),
        }
        for day, items in sorted(by_day.items())
    ]


def _by_activity(entries: list[MoodEntry]) -> list[dict[str, Any]]:
    grouped: dict[str, list[MoodEntry]] = {}
    for entry in entries:
        for activity in entry.activities:
            grouped.setdefault(activity, []).append(entry)
    rows = [
        {"activity": name, "average": _mean(e.score for e in items), "entries": len(items)}
        for name, items in grouped.items()
    ]
    kept = [row for row in rows if row["average"] is not None]
    return sorted(kept, key=lambda row: (-row["entries"], row["activity"]))
