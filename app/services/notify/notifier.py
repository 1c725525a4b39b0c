"""When Hearth tells its owner something: failed jobs, a stale backup, a full disk, the mood.

Each condition is sent once when it starts and not again while it lasts (state.py keeps
that across restarts); a job's recovery is sent once after its failure was. A failed
send never fails anything: it is logged and shown in /v1/status warnings until a later
send to that URL works. The periodic checks run once a minute in the server (started by
the runtime), cheap enough for that: one statvfs, one listing of the backups directory.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from app.services.notify.sender import AppriseSender, SendResult
from app.services.notify.state import Json, notify_document
from app.storage.gate import WriteGate

log = logging.getLogger(__name__)

CHECK_PERIOD_S = 60.0
LOW_DISK_FRACTION = 0.05
REMINDER_WINDOW = timedelta(hours=1)


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


class Notifier:
    def __init__(
        self,
        *,
        sender: AppriseSender,
        state_path: Path,
        gate: WriteGate | None,
        tz: str,
        backup_stale_hours: float,
        mood_reminder: str | None,
        newest_backup: Callable[[], Awaitable[float | None]],
        disk_usage: Callable[[], Awaitable[tuple[int, int]]],
        last_mood_at: Callable[[], float],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sender = sender
        self._doc = notify_document(state_path, gate, clock)
        self._tz = ZoneInfo(tz)
        self._stale_s = backup_stale_hours * 3600.0
        self._reminder = mood_reminder
        self._newest_backup = newest_backup
        self._disk_usage = disk_usage
        self._last_mood_at = last_mood_at
        self._clock = clock
        self._lock = asyncio.Lock()

    def load(self) -> list[str]:
        """Blocking: read (or create, stamping the first start) state/notify.json."""
        return self._doc.load()

    async def drain(self) -> None:
        await self._doc.drain()
        self._sender.close()

    def warnings(self) -> list[str]:
        failures: dict[str, float] = self._doc.value["failures"]
        return [f"notification to {url} failed at {_iso(at)}" for url, at in failures.items()]

    async def test(self) -> SendResult:
        return await self._send("Hearth: test notification", "Notifications from Hearth work.")

    async def job_finished(self, name: str, record: dict[str, Any]) -> None:
        """The job runner's hook: a run ended (ok or error; cancelled runs never get here)."""
        key = f"job:{name}"
        if record.get("status") == "error":
            error = record.get("error") or "unknown error"
            await self._condition(key, True, f"Hearth: job {name} failed", f"{name}: {error}")
            return
        async with self._lock:
            entry = self._doc.value["active"].get(key)
            if entry is None:
                return
            if entry.get("notified"):
                await self._send(f"Hearth: job {name} works again", f"{name} succeeded again.")
            await self._change(lambda v: _without(v, key))

    async def check(self) -> None:
        """The periodic conditions: stale backup, low disk, the daily mood reminder."""
        now = self._clock()
        newest = await self._newest_backup()
        since = newest if newest is not None else self._doc.value["first_start"]
        what = f"the newest verified backup is from {_iso(newest)}" if newest else "no backup yet"
        stale = now - since > self._stale_s
        await self._condition("backup_stale", stale, "Hearth: backups are stale", what)
        free, total = await self._disk_usage()
        low = total > 0 and free / total < LOW_DISK_FRACTION
        body = f"{free / 2**30:.1f} GiB free of {total / 2**30:.1f} GiB"
        await self._condition("disk_low", low, "Hearth: disk almost full", body)
        await self._mood_reminder(now)

    async def run_forever(self, period: float = CHECK_PERIOD_S) -> None:
        while True:
            try:
                await self.check()
            except Exception:
                log.exception("notification checks failed")
            await asyncio.sleep(period)

    async def _mood_reminder(self, now: float) -> None:
        if self._reminder is None:
            return
        local = datetime.fromtimestamp(now, self._tz)
        hours, minutes = (int(p) for p in self._reminder.split(":"))
        due = local.replace(hour=hours, minute=minutes, second=0, microsecond=0)
        today = local.date().isoformat()
        if not due <= local < due + REMINDER_WINDOW or self._doc.value["reminded_on"] == today:
            return
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        if self._last_mood_at() >= midnight.timestamp():
            return
        result = await self._send("Hearth: how are you today?", "No mood logged today yet.")
        if result.sent:
            await self._change(lambda v: {**v, "reminded_on": today})

    async def _condition(self, key: str, active: bool, title: str, body: str) -> None:
        async with self._lock:
            entry = self._doc.value["active"].get(key)
            if not active:
                if entry is not None:
                    await self._change(lambda v: _without(v, key))
                return
            if entry is not None and entry.get("notified"):
                return
            result = await self._send(title, body)
            since = entry["since"] if entry else self._clock()
            mark = {"since": since, "notified": result.sent > 0}
            if mark != entry:
                await self._change(lambda v: {**v, "active": {**v["active"], key: mark}})

    async def _send(self, title: str, body: str) -> SendResult:
        if not self._sender.configured:
            return SendResult()
        result = await self._sender.send(title, body)
        now = self._clock()
        current = self._sender.masked  # a URL taken out of the settings drops its warning
        failures = {u: t for u, t in self._doc.value["failures"].items() if u in current}
        for url in current:
            if url in result.failed:
                failures[url] = now
            else:
                failures.pop(url, None)
        if failures != self._doc.value["failures"]:
            await self._change(lambda v: {**v, "failures": failures})
        return result

    async def _change(self, change: Callable[[Json], Json]) -> None:
        try:
            await self._doc.update(lambda old: (change(old), None))
        except Exception:
            log.exception("could not record what was notified")


def _without(value: Json, key: str) -> Json:
    return {**value, "active": {k: v for k, v in value["active"].items() if k != key}}
