"""Ids in flight: reserved in the index before their write, settled once it is durable.

A write claims its new ids at once (they join the index, so a concurrent write of the
same id sees a duplicate) and marks them unwritten until Chroma has them. A retry that
arrives while the first attempt is still writing must not be answered "duplicate"
before that write is durable (or has failed, making it new again), so it waits for the
first attempt to settle. A failed write releases its claim.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence

from app.storage.events.codec import new_event
from app.storage.events.index import EventIndex
from app.storage.events.types import Event, NewEvent

Claimed = tuple[list[str], list[Event], list[bool]]


class Claims:
    def __init__(self, index: EventIndex, unwritten: set[str]) -> None:
        self._index = index
        self._unwritten = unwritten
        self._settling: dict[str, asyncio.Future[None]] = {}

    def busy(self, ids: Iterable[str]) -> bool:
        return any(i in self._settling for i in ids)

    async def wait_free(self, ids: Iterable[str]) -> None:
        """Until no id of `ids` is being written by another call."""
        wanted = list(ids)
        while busy := {self._settling[i] for i in wanted if i in self._settling}:
            await asyncio.wait(busy)

    def hold(self, events: Sequence[Event]) -> asyncio.Future[None]:
        """Mark `events` as being written; `settle` with the returned future ends it."""
        done = asyncio.get_running_loop().create_future()
        for event in events:
            self._settling[event.id] = done
        return done

    def settle(self, events: Sequence[Event], done: asyncio.Future[None]) -> None:
        for event in events:
            if self._settling.get(event.id) is done:
                del self._settling[event.id]
        done.set_result(None)

    def claim(self, events: Sequence[NewEvent]) -> Claimed:
        """Assign ids and reserve the new ones at once, so a concurrent write sees them."""
        now = time.time()
        ids: list[str] = []
        fresh: list[Event] = []
        flags: list[bool] = []
        taken: set[str] = set()  # an id twice in one batch: the second is a duplicate
        for new in events:
            event_id = new.id or uuid.uuid4().hex
            ids.append(event_id)
            created = event_id not in self._index and event_id not in taken
            flags.append(created)
            if created:
                taken.add(event_id)
                fresh.append(new_event(new, event_id, now))
        self._index.add_many((e.id, e.timestamp, e.type) for e in fresh)
        self._unwritten.update(e.id for e in fresh)
        return ids, fresh, flags

    def release(self, events: Iterable[Event]) -> None:
        """Take back the claim of events whose write failed."""
        for event in events:
            if event.id in self._unwritten:
                self._unwritten.discard(event.id)
                self._index.remove(event.id)

    async def write_claimed(
        self, events: Sequence[NewEvent], write: Callable[[list[Event]], Awaitable[None]]
    ) -> Claimed:
        """Claim the ids, write the new events with `write`, undo the claim if it fails."""
        await self.wait_free(e.id for e in events if e.id)
        ids, fresh, flags = self.claim(events)
        done = self.hold(fresh)
        try:
            await write(fresh)
        except BaseException:
            self.release(fresh)
            raise
        finally:
            self.settle(fresh, done)
        return ids, fresh, flags
