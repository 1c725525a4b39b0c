"""Backups and the NDJSON export: the owner's copies of everything."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from fastapi.responses import StreamingResponse

from app.api.deps import RuntimeDep
from app.jobs.registry import BACKUP
from app.services.backup.catalog import list_backups
from app.services.backup.export import export_lines

router = APIRouter(prefix="/v1", tags=["backups"])


@router.get("/backups")
async def backups(runtime: RuntimeDep) -> dict[str, Any]:
    return {"items": list_backups(runtime.settings.backups_dir)}


@router.post("/backups", status_code=status.HTTP_201_CREATED)
async def create_backup(runtime: RuntimeDep) -> dict[str, Any]:
    """Answers once the archive is written and verified (it runs as the backup job)."""
    jobs = runtime.require_jobs()
    record = await jobs.wait(jobs.run_now(BACKUP))
    return runtime.backup_result(record)


@router.get("/export")
async def export(runtime: RuntimeDep) -> StreamingResponse:
    lines = export_lines(runtime.events, runtime.state.snapshot())
    return StreamingResponse(lines, media_type="application/x-ndjson")
