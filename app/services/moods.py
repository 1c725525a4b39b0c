"""Moods from any source (an app's sync, an import file): always history, current only if newer.

The phone PUTs one mood at a time; an app sends many at once, of any age. Each change
joins the mood history and the event log (type `mood`) under an id that is stable for its
source, so a resend stores nothing twice, and the newest change becomes the current mood
only when it is newer than the stored one (last write wins, as for PUT /v1/mood).

A batch is one journal append and one mood-file write, run in parallel: acknowledged
after two fsyncs, not 2N. If only one of them lands before a crash the caller saw no 2xx;
its retry finds the events by id and the mood "same", so both agree again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from app.storage.events import NewEvent, Scalar
from app.storage.state import Json, StateManager

MAX_CLOCK_SKEW_S = 86400.0  # as for PUT: a wild clock must not freeze the current mood


class MoodEventSink(Protocol):
    async def enqueue(self, events: list[NewEvent]) -> list[bool]: ...

    async def enqueue_upsert(self, events: list[NewEvent]) -> tuple[int, int]: ...


@dataclass(frozen=True)
class MoodChange:
    """One mood at its own time; `id` is stable for its source (a resend has the same)."""

    id: str
    mood: str
    context: str
    at: float
    source: str
    activities: tuple[str, ...] = ()
    details: Mapping[str, Scalar] = field(default_factory=dict)


@dataclass(frozen=True)
class Recorded:
    created: int
    updated: int
    duplicates: int
    applied: bool  # the newest change is now the current mood


def mood_text(mood: str, context: str) -> str:
    return f"{mood}. {context}".strip() if context else mood


def to_event(change: MoodChange) -> NewEvent:
    text = mood_text(change.mood, change.context)
    metadata: dict[str, Scalar] = {
        "mood": change.mood,
        "context": change.context,
        "source": change.source,
    }
    if change.activities:
        # One scalar (metadata holds no lists): insights split it on " | " as Daylio writes it.
        metadata["activities"] = " | ".join(change.activities)
        text = f"{text} [{metadata['activities']}]"
    metadata.update(change.details)
    return NewEvent(type="mood", text=text, timestamp=change.at, metadata=metadata, id=change.id)


class MoodRecorder:
    """Writes mood changes (history, event log, current mood); `mood_log.MoodLog` reads them."""

    def __init__(
        self, state: StateManager, events: MoodEventSink, clock: Callable[[], float] = time.time
    ) -> None:
        self.state = state
        self.events = events
        self.clock = clock

    async def record(self, changes: Sequence[MoodChange], *, replace: bool) -> Recorded:
        """Store every change; `replace`: a known id with other content is rewritten
        (an app's entry edited since it was sent), else it counts as a duplicate."""
        if not changes:
            return Recorded(created=0, updated=0, duplicates=0, applied=False)
        events = [to_event(c) for c in changes]
        write = self._write_upsert(events) if replace else self._write_new(events)
        (created, updated), applied = await asyncio.gather(write, self._apply_newest(changes))
        return Recorded(created, updated, len(events) - created - updated, applied)

    async def _write_new(self, events: list[NewEvent]) -> tuple[int, int]:
        flags = await self.events.enqueue(events)
        return sum(flags), 0

    async def _write_upsert(self, events: list[NewEvent]) -> tuple[int, int]:
        return await self.events.enqueue_upsert(events)

    async def _apply_newest(self, changes: Sequence[MoodChange]) -> bool:
        horizon = self.clock() + MAX_CLOCK_SKEW_S
        candidates = [c for c in changes if c.at <= horizon]
        if not candidates:
            await self.state.mood.settled()
            return False
        newest = max(candidates, key=lambda c: c.at)
        new = {"mood": newest.mood, "context": newest.context, "updated_at": newest.at}

        def change(current: Json) -> tuple[Json, bool]:
            if newest.at < current["updated_at"]:
                return current, False
            if all(current[k] == v for k, v in new.items()):
                return current, True
            return {**current, **new}, True

        return await self.state.mood.update(change)
