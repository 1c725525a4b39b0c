"""Every call into Chroma goes through one link: a bounded wait, and no pile-up.

A Chroma server can go away (connection refused), hang (a call that never returns) or
be slow; an embedded store can stall on a full disk. A worker thread cannot be killed,
so the link bounds the *wait*: a call that has not returned after `timeout_s` answers
`StoreBusyError` (503 + Retry-After), the store stays marked busy while that thread
still runs, and new calls are refused at once instead of queueing behind it. A refused
connection marks the store away (`StoreUnavailableError`) until a call succeeds again,
which is what /health reports as "degraded". Calls run on a small private pool, so
stuck calls never starve the thread pool the rest of the server uses.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

import httpx
from chromadb.errors import ChromaError

from app.errors import HearthError, StorageFullError, StoreBusyError, StoreUnavailableError

log = logging.getLogger(__name__)
T = TypeVar("T")
WORKERS = 8
WATCH_S = 2.0  # server mode: how soon /health notices an outage, and its end
_FULL = ("disk is full", "No space left", "database or disk is full")


def translate(exc: BaseException) -> BaseException:
    """The error Hearth reports for what a Chroma call raised (or `exc` itself)."""
    if isinstance(exc, httpx.TransportError | ConnectionError):
        name = exc.__class__.__name__
        return StoreUnavailableError(f"the event store cannot be reached ({name})")
    if isinstance(exc, ChromaError | httpx.HTTPStatusError):
        message = str(exc)
        if any(marker in message for marker in _FULL):
            return StorageFullError("storage full: the event store could not write")
        return StoreUnavailableError(f"the event store failed: {message[:200]}")
    return exc


class StoreLink:
    def __init__(self, *, timeout_s: float = 5.0, retry_after_s: int = 5) -> None:
        self.timeout_s = timeout_s
        self.retry_after_s = retry_after_s
        self.down_since: float | None = None
        self.last_error = ""
        self._stuck = 0
        self._pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="chroma")

    @property
    def degraded(self) -> bool:
        return self.down_since is not None or self._stuck > 0

    def state(self) -> str | None:
        """A warning for /v1/status while the store is away or busy, else None."""
        if self._stuck:
            return f"event store busy: {self._stuck} call(s) overran {self.timeout_s:g} s"
        if self.down_since is not None:
            return f"event store unreachable since {time.ctime(self.down_since)}: {self.last_error}"
        return None

    def check(self) -> None:
        """Fail fast while the store is known to be away or stuck."""
        if self._stuck:
            raise StoreBusyError(
                "the event store is still busy with an earlier call; retry shortly",
                retry_after=self.retry_after_s,
            )
        if self.down_since is not None:
            raise StoreUnavailableError(
                f"the event store cannot be reached ({self.last_error}); retry shortly",
                retry_after=self.retry_after_s,
            )

    async def call(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run `fn` in the link's pool, waiting at most `timeout_s` for it."""
        if self._stuck:
            self.check()
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._pool, partial(fn, *args, **kwargs))
        try:
            result = await asyncio.wait_for(asyncio.shield(future), self.timeout_s)
        except TimeoutError:
            self._stuck += 1
            future.add_done_callback(self._unstick)
            log.error("event store: a call overran %.1f s; busy until it returns", self.timeout_s)
            raise StoreBusyError(
                f"the event store did not answer within {self.timeout_s:g} s",
                retry_after=self.retry_after_s,
            ) from None
        except Exception as exc:
            mapped = translate(exc)
            if isinstance(mapped, StoreUnavailableError):
                mapped.retry_after = self.retry_after_s
                if isinstance(exc, httpx.TransportError | ConnectionError):
                    self._mark_down(exc)
            if mapped is exc:
                raise
            raise mapped from exc
        if self.down_since is not None:
            log.warning("event store reachable again")
            self.down_since = None
        return result

    async def watch(self, probe: Callable[[], object]) -> None:
        """Call `probe` every WATCH_S while the store is fine or away (not while a call is
        stuck), so an outage and its end are noticed even when nothing is written."""
        while True:
            await asyncio.sleep(WATCH_S)
            with contextlib.suppress(HearthError):
                if not self.degraded or self.down_since is not None:
                    await self.call(probe)

    def _mark_down(self, exc: BaseException) -> None:
        if self.down_since is None:
            log.error("event store unreachable: %s", exc)
            self.down_since = time.time()
        self.last_error = exc.__class__.__name__

    def _unstick(self, _future: asyncio.Future[Any]) -> None:
        self._stuck -= 1
        if not self._stuck:
            log.warning("event store: the overrunning call has returned")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
