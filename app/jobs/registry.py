"""The job registry: what runs, when (schedules from settings) and with which services.

Every service a job needs is passed in; nothing here reaches for a global or the runtime.
"""

from __future__ import annotations

import time
from typing import Any

from app.config import Settings
from app.jobs.scheduler import JobSpec
from app.services.backup import create as backups
from app.services.blog import BlogService
from app.services.places import daily as places_daily
from app.services.retention import cleanup as retention_cleanup
from app.storage.events import EventStore
from app.storage.gate import WriteGate
from app.storage.locations import LocationStore
from app.storage.state import StateManager

SCRAPE, CLEANUP, BACKUP = "scrape_blog", "retention_cleanup", "backup"
PLACES = "places_summary"


async def run_backup(
    settings: Settings, events: EventStore, state: StateManager, gate: WriteGate
) -> dict[str, Any]:
    async def flush() -> None:
        await events.flush()
        await state.drain()

    return await backups.create_backup(
        data_dir=settings.data_dir,
        backups_dir=settings.backups_dir,
        gate=gate,
        flush=flush,
        manifest_extra={"chroma_url": settings.chroma_url},
        keep=settings.backup_keep,
        store=events,
        logical=settings.chroma_url is not None,
    )


def build_jobs(
    settings: Settings,
    *,
    events: EventStore,
    state: StateManager,
    gate: WriteGate,
    blog: BlogService,
    locations: LocationStore,
) -> list[JobSpec]:
    async def scrape() -> dict[str, Any]:
        return await blog.refresh()

    async def cleanup() -> dict[str, Any]:
        return await retention_cleanup(events, settings, now=time.time(), locations=locations)

    async def backup() -> dict[str, Any]:
        return await run_backup(settings, events, state, gate)

    async def places() -> dict[str, Any]:
        return await places_daily.summarize(locations, events, tz=settings.tz, now=time.time())

    return [
        JobSpec(SCRAPE, settings.scrape_schedule, scrape, run_if_never=True),
        JobSpec(CLEANUP, settings.cleanup_schedule, cleanup),
        JobSpec(BACKUP, settings.backup_schedule, backup),
        JobSpec(PLACES, settings.places_schedule, places),
    ]
