"""A durable queue in front of Chroma, so a phone's PUT is acked at fsync speed.

Embedding and writing an event to Chroma takes tens of milliseconds; appending a line to
a journal and fsyncing it takes about one. `put` appends (concurrent puts share one
write+fsync: group commit) and returns once the lines are on disk; a background task
embeds and writes them to Chroma in batches through `sink`, then compacts the journal.
Writes are upserts by id, so replaying a journal after a crash is idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio.to_thread

from app.errors import StorageError, StoreUnavailableError
from app.storage.events import journal
from app.storage.events.types import Event
from app.storage.gate import WriteGate

log = logging.getLogger(__name__)

Sink = Callable[[list[Event]], Awaitable[None]]
COMPACT_EVERY = 512
LINGER_S = 0.1  # let a burst of phone writes gather into one embedding batch
MAX_RETRY_S = 5.0  # after an outage, queued events reach Chroma within seconds
# Writing to Chroma holds the GIL (~1.2 ms an event), longer than a whole put: during a
# burst of puts the drain waits for a pause of LINGER_S, unless this many are waiting.
DEFER_MAX = 20_000


class Outbox:
    def __init__(self, path: Path, sink: Sink, gate: WriteGate, *, batch: int = 64) -> None:
        self.path = path
        self.pending: dict[str, Event] = {}
        self._sink = sink
        self._gate = gate
        self._batch = batch
        self._queue: list[tuple[bytes, list[Event], asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._drainer: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._drained = asyncio.Condition()
        self._since_compact = 0
        self._last_put = 0.0
        self._flushing = 0

    def start(self, recovered: list[Event]) -> None:
        """Begin draining; `recovered` are journal events that Chroma does not have yet."""
        for event in recovered:
            self.pending[event.id] = event
        self._since_compact = COMPACT_EVERY  # rewrite the replayed journal once drained
        self._drainer = asyncio.create_task(self._drain_loop(), name="outbox-drain")
        self._kick()

    def _kick(self) -> None:
        self._idle.clear()
        self._wake.set()

    async def put(self, events: list[Event]) -> None:
        """Return once every event is in the journal on disk; raise StorageError otherwise."""
        if not events:
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._last_put = time.monotonic()
        self._queue.append((b"".join(journal.encode_line(e) for e in events), events, fut))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_loop(), name="outbox-append")
        await asyncio.shield(fut)

    async def _write_loop(self) -> None:
        try:
            await self._write_queued()
        finally:
            self._kick()  # the drainer decides whether everything is idle now

    async def _write_queued(self) -> None:
        while self._queue:
            group, self._queue = self._queue, []
            try:
                async with self._gate.write(), self._lock:
                    data = b"".join(lines for lines, _, _ in group)
                    await anyio.to_thread.run_sync(journal.append, self.path, data)
                    # Still under the lock: a compaction must never see the journal
                    # holding these lines while `pending` does not (it would drop them).
                    for _, events, _ in group:
                        for event in events:
                            self.pending[event.id] = event
            except Exception as exc:
                for _, _, fut in group:
                    if not fut.done():
                        fut.set_exception(exc)
                        fut.exception()
                continue
            for _, _, fut in group:
                if not fut.done():
                    fut.set_result(None)
            self._kick()

    async def _drain_loop(self) -> None:
        delay = 0.5
        while True:
            await self._wake.wait()
            if len(self.pending) < self._batch:
                await asyncio.sleep(LINGER_S)
            self._wake.clear()
            while self.pending:
                await self._yield_to_puts()
                batch = list(itertools.islice(self.pending.values(), self._batch))
                try:
                    await self._sink(batch)
                except (StorageError, StoreUnavailableError) as exc:
                    # Expected while Chroma is away or the disk is full: no traceback.
                    log.warning("outbox: %d events wait (%s); retrying", len(batch), exc)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, MAX_RETRY_S)
                    continue
                except Exception:
                    log.exception(
                        "outbox: writing %d events to Chroma failed; retrying", len(batch)
                    )
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, MAX_RETRY_S)
                    continue
                delay = 0.5
                for event in batch:
                    if self.pending.get(event.id) is event:
                        del self.pending[event.id]
                self._since_compact += len(batch)
                await self._compact()
                async with self._drained:
                    self._drained.notify_all()
            if not self._queue and (self._writer is None or self._writer.done()):
                self._idle.set()

    async def _yield_to_puts(self) -> None:
        """Wait while puts keep coming (a burst), unless someone waits in `flush`."""
        while (
            not self._flushing
            and len(self.pending) < DEFER_MAX
            and time.monotonic() - self._last_put < LINGER_S
        ):
            await asyncio.sleep(LINGER_S)

    async def _compact(self) -> None:
        """Drop drained lines: truncate when nothing is pending, else rewrite now and then
        (only a short remainder: encoding a long backlog would stall the loop)."""
        if self.pending and (
            self._since_compact < COMPACT_EVERY or len(self.pending) > COMPACT_EVERY
        ):
            return
        try:
            async with self._gate.write(frees=not self.pending), self._lock:
                remaining = b"".join(journal.encode_line(e) for e in self.pending.values())
                await anyio.to_thread.run_sync(journal.rewrite, self.path, remaining)
            self._since_compact = 0
        except Exception:
            log.exception("outbox: compacting %s failed; it will be replayed harmlessly", self.path)

    async def flush(self, timeout: float | None = None) -> None:
        """Wait until everything put before this call is in Chroma (journal compacted).

        Only what was put so far: under steady phone traffic the queue is never empty,
        and a backup or an export waiting for that would wait forever. With Chroma away
        it would wait for as long as the outage lasts: `timeout` bounds the wait
        (TimeoutError); the events stay queued either way.
        """
        await asyncio.wait_for(self._flush(), timeout)

    async def _flush(self) -> None:
        if self._queue or (self._writer is not None and not self._writer.done()):
            marker: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._queue.append((b"", [], marker))  # appends are in order: when it is done,
            if self._writer is None or self._writer.done():  # every earlier put is too
                self._writer = asyncio.create_task(self._write_loop(), name="outbox-append")
            with contextlib.suppress(Exception):
                await asyncio.shield(marker)
        targets = set(self.pending)
        self._flushing += 1
        try:
            async with self._drained:
                await self._drained.wait_for(lambda: targets.isdisjoint(self.pending))
        finally:
            self._flushing -= 1

    async def close(self, timeout: float = 30.0) -> None:
        """Drain, then stop; anything left after `timeout` stays in the journal for next time."""
        try:
            await self.flush(timeout)
        except TimeoutError:
            log.warning(
                "outbox: %d events not yet in Chroma; kept in %s", len(self.pending), self.path
            )
        if self._drainer is not None:
            self._drainer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._drainer
            self._drainer = None
