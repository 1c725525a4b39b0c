"""The job registry: what runs, when (schedules from settings) and with which services."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from app.jobs.scheduler import JobSpec
from app.services.backup import create as backups
from app.services.retention import cleanup as retention_cleanup

if TYPE_CHECKING:
    from app.runtime import Runtime

SCRAPE, CLEANUP, BACKUP = "scrape_blog", "retention_cleanup", "backup"


async def run_backup(runtime: Runtime) -> dict[str, Any]:
    settings = runtime.settings

    async def flush() -> None:
        await runtime.events.flush()
        await runtime.state.drain()

    return await backups.create_backup(
        data_dir=settings.data_dir,
        backups_dir=settings.backups_dir,
        gate=runtime.gate,
        flush=flush,
        manifest_extra={"chroma_url": settings.chroma_url},
        keep=settings.backup_keep,
        store=runtime.events,
        logical=settings.chroma_url is not None,
    )


def build_jobs(runtime: Runtime) -> list[JobSpec]:
    settings = runtime.settings

    async def scrape() -> dict[str, Any]:
        return await runtime.require_blog().refresh()

    async def cleanup() -> dict[str, Any]:
        return await retention_cleanup(runtime.events, settings, now=time.time())

    async def backup() -> dict[str, Any]:
        return await run_backup(runtime)

    return [
        JobSpec(SCRAPE, settings.scrape_schedule, scrape, run_if_never=True),
        JobSpec(CLEANUP, settings.cleanup_schedule, cleanup),
        JobSpec(BACKUP, settings.backup_schedule, backup),
    ]
