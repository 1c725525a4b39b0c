"""Phone sync: mood (last write wins) and thoughts (idempotent by client id).

Each applied mood change and each thought is also an event. They go through the event
log's durable outbox, so a PUT is acknowledged at fsync speed and embedded in the
background; a retry after a crash finds the event by its deterministic id. A newer mood
is acknowledged once its event is in the journal (one fsync); `current_mood.txt` follows
in the background and `recover` repairs it at start.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol

from app.errors import InvalidInputError
from app.storage.events import Event, NewEvent
from app.storage.state import THOUGHTS_KEPT, Json, StateManager


class PagedEvents(Protocol):
    """Newest-first pages of events (the event log's `list`)."""

    async def list(
        self,
        *,
        type: str | None,
        since: float | None,
        until: float | None,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[Event], str | None]: ...


class EventLog(PagedEvents, Protocol):
    async def enqueue(self, events: list[NewEvent]) -> list[bool]: ...


log = logging.getLogger(__name__)
MAX_CLOCK_SKEW_S = 86400.0


def mood_event_id(mood: str, context: str, updated_at: float) -> str:
    digest = hashlib.sha256(f"{updated_at!r}\0{mood}\0{context}".encode()).hexdigest()
    return f"mood-{digest[:32]}"


class PhoneSync:
    def __init__(
        self, state: StateManager, events: EventLog, clock: Callable[[], float] = time.time
    ) -> None:
        self.state = state
        self.events = events
        self.clock = clock

    async def set_mood(self, mood: str, context: str, updated_at: float | None) -> Json:
        now = self.clock()
        ts = now if updated_at is None else updated_at
        if ts > now + MAX_CLOCK_SKEW_S:
            # Last write wins: one wild clock would freeze the mood until that date.
            raise InvalidInputError(
                "updated_at is more than a day ahead of the server's clock; check the device time"
            )
        new = {"mood": mood, "context": context, "updated_at": ts}

        def decide(current: Json) -> str:
            if ts < current["updated_at"]:
                return "stale"
            if all(current[k] == new[k] for k in new):
                return "same"
            return "apply"

        if decide(self.state.mood.value) == "stale":
            await self.state.mood.settled()  # the mood we answer with must be on disk
            return {**self.state.current_mood(), "applied": False}
        event = NewEvent(
            type="mood",
            text=f"{mood}. {context}".strip() if context else mood,
            timestamp=ts,
            metadata={"mood": mood, "context": context},
            id=mood_event_id(mood, context, ts),
        )
        # The event log's journal is the one durable write on the critical path: once it
        # holds the event, a newer mood is safe, because `recover` replays the newest
        # mood event over the file at start. The file is then written in the background.
        await self.events.enqueue([event])
        current = self.state.mood.value
        if decide(current) == "apply" and ts > current["updated_at"]:
            self.state.mood.set_deferred({**current, **new})
            return {**self.state.current_mood(), "applied": True}

        # A tie on updated_at (or a race lost meanwhile): recovery orders events by time
        # only, so this outcome must be in the file itself before it is acknowledged.
        def change(current: Json) -> tuple[Json, bool]:
            verdict = decide(current)
            if verdict == "apply":
                return {**current, **new}, True
            return current, verdict == "same"

        applied = await self.state.mood.update(change)
        return {**self.state.current_mood(), "applied": applied}

    async def recover(self) -> None:
        """Bring the mood file up to the newest mood event (the file is written behind the
        event log, so a crash can leave it one step behind)."""
        # A mood event dated over a day ahead was stored (an import) but never applied.
        horizon = self.clock() + MAX_CLOCK_SKEW_S
        events, _ = await self.events.list(
            type="mood", since=None, until=horizon, limit=1, cursor=None
        )
        if not events or events[0].timestamp <= self.state.mood.value["updated_at"]:
            return
        newest = events[0]
        new = {
            "mood": str(newest.metadata.get("mood", newest.text)),
            "context": str(newest.metadata.get("context", "")),
            "updated_at": newest.timestamp,
        }
        await self.state.mood.update(lambda current: ({**current, **new}, None))
        log.info("current_mood.txt was behind the event log: mood taken from %s", newest.id)

    async def mood_history(
        self, *, since: float | None, until: float | None, limit: int
    ) -> list[Json]:
        events, _ = await self.events.list(
            type="mood", since=since, until=until, limit=limit, cursor=None
        )
        return [
            {
                "mood": str(e.metadata.get("mood", e.text)),
                "context": str(e.metadata.get("context", "")),
                "updated_at": e.timestamp,
            }
            for e in events
        ]

    async def add_thought(
        self, text: str, thought_id: str | None, created_at: float | None
    ) -> tuple[str, bool]:
        """Returns the id and whether it was new (False: a replay of a known id)."""
        tid = thought_id or uuid.uuid4().hex
        ts = self.clock() if created_at is None else created_at
        # enqueue answers "not created" for a known id only once that id is durable.
        event = NewEvent(type="thought", text=text, timestamp=ts, id=tid)
        [created] = await self.events.enqueue([event])
        item = {"id": tid, "text": text, "created_at": ts}

        def upsert(doc: Json) -> tuple[Json, None]:
            items: list[Any] = doc["items"]
            if any(i["id"] == tid for i in items):
                return doc, None
            merged = sorted([item, *items], key=lambda i: i["created_at"], reverse=True)
            return {**doc, "items": merged[:THOUGHTS_KEPT]}, None

        await self.state.thoughts.update(upsert)
        await self.state.rebuild_recent()
        return tid, created

    async def forget(self, event_id: str) -> None:
        """A deleted thought leaves the recent list and the digest too."""
        if not any(i["id"] == event_id for i in self.state.recent_thoughts()):
            return

        def drop(doc: Json) -> tuple[Json, None]:
            return {**doc, "items": [i for i in doc["items"] if i["id"] != event_id]}, None

        await self.state.thoughts.update(drop)
        await self.state.rebuild_recent()

    def thoughts(self, limit: int) -> Json:
        return {"text": self.state.recent.value, "items": self.state.recent_thoughts(limit)}
