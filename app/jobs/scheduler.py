"""The in-process job runner: APScheduler for timing, our own records for everything else.

APScheduler alone silently skips a run missed while the box was down (its misfire
grace is 1 s and re-adding a job moves the next run to the next period), so the
runner keeps each job's last success in `state/jobs.json` and, at start, runs a job
once if its schedule fired since then. A job never overlaps itself, a failure is
logged and recorded without stopping anything, and shutdown lets a running job finish.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import anyio.to_thread
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger

from app import cron
from app.errors import ConflictError, NotFoundError, StorageError
from app.jobs.records import JobRecords
from app.storage.gate import WriteGate

log = logging.getLogger(__name__)

CANCELLED = "cancelled at shutdown"


@dataclass(frozen=True)
class JobSpec:
    name: str
    schedule: str
    func: Callable[[], Awaitable[dict[str, Any]]]
    catch_up: bool = True
    run_if_never: bool = False
    """Catch up a job that never succeeded even for fire times before it was first seen."""
    trigger: BaseTrigger | None = None
    """Used instead of `schedule` when set: crontab has no sub-minute periods."""


class JobRunner:
    def __init__(
        self,
        specs: list[JobSpec],
        *,
        state_path: Path,
        tz: str,
        gate: WriteGate | None = None,
        history: int = 50,
        clock: Callable[[], float] = time.time,
        on_finish: Callable[[str, dict[str, Any]], Awaitable[None]] | None = None,
    ) -> None:
        """`on_finish(name, record)` runs after each run that ended ok or in error (not
        cancelled); its failures are logged and never change the run's record."""
        self._specs = {spec.name: spec for spec in specs}
        self._tz = ZoneInfo(tz)
        self._triggers = {
            spec.name: spec.trigger or cron.trigger(spec.schedule, self._tz) for spec in specs
        }
        self._records = JobRecords(state_path, gate=gate, history=history)
        self._clock = clock
        self._scheduler: AsyncIOScheduler | None = None
        self._current: dict[str, dict[str, Any]] = {}
        self._tasks: dict[str, asyncio.Task[dict[str, Any]]] = {}
        self._closing = False
        self._on_finish = on_finish
        self.warnings: list[str] = []

    async def start(self) -> None:
        self.warnings = await anyio.to_thread.run_sync(self._records.load)
        await self._records.register(list(self._specs), self._clock())
        scheduler = AsyncIOScheduler(timezone=self._tz)
        for name, trigger in self._triggers.items():
            scheduler.add_job(
                self._tick,
                trigger=trigger,
                args=[name],
                id=name,
                name=name,
                misfire_grace_time=None,
                coalesce=True,
                max_instances=1,
                replace_existing=True,
            )
        scheduler.start()
        self._scheduler = scheduler
        for spec in self._specs.values():
            if spec.catch_up and self._missed(spec):
                log.info("job %s missed a scheduled run while stopped: running it now", spec.name)
                self._launch(spec.name, "catch_up")

    async def run_once(self, name: str) -> dict[str, Any]:
        """Run one job now without the scheduler (the CLI's manual runs), recording it."""
        self.warnings = await anyio.to_thread.run_sync(self._records.load)
        await self._records.register(list(self._specs), self._clock())
        return await self.wait(self.run_now(name))

    def _missed(self, spec: JobSpec) -> bool:
        since = self._records.last_success(spec.name)
        if since is None and not spec.run_if_never:
            since = self._records.first_seen(spec.name)
        after = _dt((since or 0.0) + 0.001, self._tz)
        fire = self._triggers[spec.name].get_next_fire_time(None, after)
        return fire is not None and fire.timestamp() <= self._clock()

    async def _tick(self, name: str) -> None:
        if self._closing:
            return
        if name in self._current:
            log.info("job %s is still running: scheduled run skipped", name)
            return
        self._launch(name, "schedule")

    def run_now(self, name: str) -> str:
        if name not in self._specs:
            raise NotFoundError(f"no job named {name!r}")
        if self._closing:
            raise ConflictError("the service is shutting down")
        if name in self._current:
            raise ConflictError(f"job {name!r} is already running")
        return self._launch(name, "manual")

    def _launch(self, name: str, trigger: str) -> str:
        run_id = uuid.uuid4().hex
        record: dict[str, Any] = {
            "run_id": run_id,
            "job": name,
            "trigger": trigger,
            "started_at": self._clock(),
            "finished_at": None,
            "status": "running",
            "error": None,
            "stats": {},
        }
        self._current[name] = record
        task = asyncio.create_task(self._run(self._specs[name], record), name=f"job-{name}")
        self._tasks[run_id] = task
        task.add_done_callback(lambda _t: self._tasks.pop(run_id, None))
        return run_id

    async def _run(self, spec: JobSpec, record: dict[str, Any]) -> dict[str, Any]:
        cancelled = False
        try:
            await self._records.save_run(record)
            stats = await spec.func()
            record = {**record, "status": "ok", "stats": dict(stats or {})}
        except asyncio.CancelledError:
            cancelled = True
            record = {**record, "status": "error", "error": CANCELLED}
        except Exception as exc:
            log.exception("job %s failed", spec.name)
            record = {
                **record,
                "status": "error",
                "error": f"{type(exc).__name__}: {exc}",
                "storage_error": isinstance(exc, StorageError),
            }
        record["finished_at"] = self._clock()
        try:
            await self._records.save_run(record)
        except Exception:
            log.exception("could not record the end of job %s", spec.name)
        finally:
            self._current.pop(spec.name, None)
        if cancelled:
            raise asyncio.CancelledError
        if self._on_finish is not None:
            try:
                await self._on_finish(spec.name, record)
            except Exception:
                log.exception("after job %s: the finish hook failed", spec.name)
        return record

    def jobs(self) -> list[dict[str, Any]]:
        items = []
        for name in self._specs:
            last = self._current.get(name) or next(iter(self._records.runs(name)), None)
            items.append(
                {
                    "name": name,
                    "schedule": self._specs[name].schedule,
                    "next_run_at": self._next_run_at(name),
                    "last_success_at": self._records.last_success(name),
                    "last_failure_at": self._records.last_failure(name),
                    "last_run": _public(last) if last else None,
                }
            )
        return items

    def _next_run_at(self, name: str) -> float | None:
        if self._scheduler is None or self._closing:
            return None
        job = self._scheduler.get_job(name)
        if job is None or job.next_run_time is None:
            return None
        return float(job.next_run_time.timestamp())

    async def wait(self, run_id: str) -> dict[str, Any]:
        """The run's final record, once it has one (even if it could not be saved)."""
        task = self._tasks.get(run_id)
        if task is not None:
            await asyncio.wait([task])
            if not task.cancelled():
                return task.result()
        record = self._records.find(run_id)
        if record is None:
            raise NotFoundError(f"no run {run_id!r}")
        return record

    async def shutdown(self, timeout: float = 30) -> None:
        self._closing = True
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        tasks = list(self._tasks.values())
        if tasks:
            names = ", ".join(t.get_name() for t in tasks)
            log.info("waiting up to %.0f s for running jobs: %s", timeout, names)
            _done, pending = await asyncio.wait(tasks, timeout=timeout)
            for task in pending:
                log.warning("job %s did not finish in time: cancelling it", task.get_name())
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=max(5.0, timeout / 2))
        await self._records.drain()


def _dt(epoch: float, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(epoch, tz)


def _public(record: dict[str, Any]) -> dict[str, Any]:
    keys = ("run_id", "started_at", "finished_at", "status", "error", "stats", "trigger")
    return {key: record.get(key) for key in keys}
