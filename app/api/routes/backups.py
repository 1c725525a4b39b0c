"""Backups and the NDJSON export: the owner's copies of everything."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from fastapi.responses import StreamingResponse

from app.api.answers import Backup, Backups
from app.api.deps import JobsDep, RuntimeDep, StatusDep
from app.jobs.registry import BACKUP
from app.services.backup.create import backup_answer
from app.services.backup.export import export_lines

router = APIRouter(prefix="/v1", tags=["backups"])


@router.get("/backups", response_model=Backups)
async def backups(service: StatusDep) -> dict[str, Any]:
    return {"items": await service.backups()}


@router.post("/backups", status_code=status.HTTP_201_CREATED, response_model=Backup)
async def create_backup(runner: JobsDep) -> dict[str, Any]:
    """Answers once the archive is written and verified (it runs as the backup job)."""
    return backup_answer(await runner.wait(runner.run_now(BACKUP)))


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}, "description": "NDJSON lines"}},
)
async def export(runtime: RuntimeDep) -> StreamingResponse:
    lines = export_lines(runtime.events, runtime.state.snapshot(), locations=runtime.locations)
    return StreamingResponse(lines, media_type="application/x-ndjson")
