"""The whole answer of a search: time words, explicit bounds, ranking.

`/v1/search` (GET and POST) and the MCP tool `search_memory` share it, so they cannot
drift apart. Time words become `since`/`until` in HEARTH_TZ; an explicit bound wins
over the words' bound on the same side; words that contradict the explicit bounds (or
each other) leave the query literal. A query without time words is searched exactly as
before and its answer has no `interpreted` key.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import anyio.to_thread

from app.errors import InvalidInputError
from app.services import timewords
from app.storage.events import Event


class Searchable(Protocol):
    async def search(
        self,
        q: str,
        *,
        n: int,
        type: str | None,
        since: float | None,
        until: float | None,
    ) -> list[tuple[Event, float]]: ...


class SearchService:
    def __init__(self, events: Searchable, tz: str, clock: Callable[[], float] = time.time) -> None:
        self.events = events
        self.tz = ZoneInfo(tz)
        self.clock = clock

    async def interpret(self, q: str) -> timewords.TimeWords | None:
        """dateparser costs a few ms (the first call ~1 s), so named dates parse off the loop."""
        now = datetime.fromtimestamp(self.clock(), self.tz)
        if timewords.names_a_date(q):
            return await anyio.to_thread.run_sync(timewords.interpret, q, now)
        return timewords.interpret(q, now)

    async def search(
        self,
        q: str,
        *,
        n: int = 10,
        type: str | None = None,  # noqa: A002 (the API's name)
        since: float | None = None,
        until: float | None = None,
        literal: bool = False,
    ) -> dict[str, Any]:
        if since is not None and until is not None and since > until:
            raise InvalidInputError("since is after until")
        text, interpreted = q, None
        words = None if literal else await self.interpret(q)
        if words is not None:
            lo = since if since is not None else _epoch(words.since)
            hi = until if until is not None else _epoch(words.until)
            if lo is not None and hi is not None and lo >= hi:
                lo, hi = since, until  # the words contradict an explicit bound: it wins
            text = words.text or q
            since, until = lo, hi
            interpreted = {"since": since, "until": until, "text": text}
        hits = await self.events.search(text, n=n, type=type, since=since, until=until)
        answer: dict[str, Any] = {"results": [{**e.to_api(), "score": s} for e, s in hits]}
        if interpreted is not None:
            answer["interpreted"] = interpreted
        return answer


def _epoch(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()
