"""Backups and the NDJSON export: the owner's copies of everything."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, status
from fastapi.responses import StreamingResponse

from app.api.answers import Backup, Backups
from app.api.deps import EventsDep, JobsDep, RuntimeDep, StatusDep
from app.errors import StoreUnavailableError
from app.jobs.registry import BACKUP
from app.services.backup.create import backup_answer
from app.services.backup.export import export_lines

router = APIRouter(prefix="/v1", tags=["backups"])


@router.get("/backups", response_model=Backups)
async def backups(service: StatusDep) -> dict[str, Any]:
    return {"items": await service.backups()}


@router.post("/backups", status_code=status.HTTP_201_CREATED, response_model=Backup)
async def create_backup(runner: JobsDep, events: EventsDep) -> dict[str, Any]:
    """Answers once the archive is written and verified (it runs as the backup job).

    With a Chroma server, a backup reads every event from it: while it is away, 503 at
    once (and a run that failed because it went away midway is 503 too, not 500)."""
    if events.remote:
        events.link.check()
    record = await runner.wait(runner.run_now(BACKUP))
    if record.get("status") != "ok" and events.link.degraded:
        raise StoreUnavailableError(f"backup failed: {record.get('error')}")
    return backup_answer(record)


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}, "description": "NDJSON lines"}},
)
async def export(runtime: RuntimeDep) -> StreamingResponse:
    """NDJSON; a store that is away answers 503 before the first line, not a cut stream."""
    lines = export_lines(runtime.events, runtime.state.snapshot(), locations=runtime.locations)
    first = await anext(lines)

    async def body() -> AsyncIterator[bytes]:
        yield first
        async for chunk in lines:
            yield chunk

    return StreamingResponse(body(), media_type="application/x-ndjson")
