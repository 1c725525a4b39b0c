"""How have I been: mood by day, streaks, activities, mood around a topic, on this day.

Moods come from `MoodLog` (memory, kept in step with the event log's index) and its
per-day totals, so a decade is answered from ~3,650 finished day rows and running sums
instead of a pass over every mood; `about=` costs one search by meaning.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from app.services.mood_days import MoodEntry, ratio
from app.services.mood_log import MoodEventSource, MoodLog
from app.services.mood_scores import MoodScores
from app.services.search import Searchable
from app.storage.events import Event

AROUND_S = 12 * 3600.0
ABOUT_CANDIDATES = 60
ABOUT_MAX = 30
ABOUT_MIN_SCORE = 0.68  # cosine similarity 0.36: related, not merely the same register
ON_THIS_DAY_FROM = 1970


class InsightEvents(MoodEventSource, Searchable, Protocol):
    """What insights read from the event log: keys from its index, events by id, search."""


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
        await self.moods.sync()
        lo, hi = self.moods.bounds(since, until)
        days, sums = self.moods.days.summary(lo, hi)
        average = ratio(sums.total, sums.scored)
        by_activity = [
            {"activity": name, "average": ratio(a[0], a[1]), "entries": a[2]}
            for name, a in sorted(sums.acts.items(), key=lambda item: (-item[1][2], item[0]))
            if a[1]
        ]
        answer: dict[str, Any] = {
            "days": days,
            "average": average,
            "logged_days": len(days),
            "streak_days": self.moods.days.streak(self.today()),
            "by_activity": by_activity,
        }
        if about is not None:
            near = await self._near(about, lo, hi, since, until)
            answer["about"] = {
                "text": about,
                "average": _mean(e.score for e in near),
                "entries": len(near),
                "overall": average,
            }
        return answer

    async def _near(
        self, text: str, lo: int, hi: int, since: float | None, until: float | None
    ) -> list[MoodEntry]:
        """Entries lo..hi within 12 hours of the events that match `text` by meaning."""
        entries, stamps = self.moods.entries, self.moods.timestamps  # replaced, never changed
        hits = await self.events.search(
            text, n=ABOUT_CANDIDATES, type=None, since=since, until=until
        )
        times = [e.timestamp for e, s in hits if e.type != "mood" and s >= ABOUT_MIN_SCORE]
        near: set[int] = set()
        for ts in times[:ABOUT_MAX]:
            start = bisect.bisect_left(stamps, ts - AROUND_S, lo, hi)
            end = bisect.bisect_right(stamps, ts + AROUND_S, lo, hi)
            near.update(range(start, end))
        return [entries[i] for i in sorted(near)]

    async def on_this_day(self, day: date, limit: int) -> list[Event]:
        """Events of the same month and day in earlier years, newest year first and newest
        first within a day: the ids come from the index, then one read of the store."""
        ids: list[str] = []
        for year in range(day.year - 1, ON_THIS_DAY_FROM - 1, -1):
            if len(ids) >= limit:
                break
            try:
                start = datetime(year, day.month, day.day, tzinfo=self.tz)
            except ValueError:  # 29 February in a common year
                continue
            end = datetime.combine(start.date() + timedelta(days=1), start.timetz())
            keys = self.events.keys(type=None, since=start.timestamp(), until=end.timestamp())
            ids += [event_id for _, event_id in reversed(keys[-(limit - len(ids)) :])]
        return await self.events.get_many(ids)


def _mean(scores: Iterable[int | None]) -> float | None:
    known = [s for s in scores if s is not None]
    return ratio(sum(known), len(known))
