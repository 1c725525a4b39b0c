"""Jobs, the blog and backups: all run through the scheduler's registry."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from fastapi.responses import StreamingResponse

from app.api.deps import RuntimeDep
from app.jobs.registry import BACKUP, SCRAPE
from app.services.backups import list_backups
from app.services.export import export_lines

router = APIRouter(prefix="/v1", tags=["jobs"])


@router.get("/jobs")
async def jobs(runtime: RuntimeDep) -> dict[str, Any]:
    return {"jobs": runtime.jobs_view()}


@router.post("/jobs/{name}/run", status_code=status.HTTP_202_ACCEPTED)
async def run_job(name: str, runtime: RuntimeDep) -> dict[str, str]:
    return {"run_id": runtime.require_jobs().run_now(name)}


@router.get("/blog/posts")
async def blog_posts(
    runtime: RuntimeDep, limit: Annotated[int, Query(ge=1, le=500)] = 20
) -> dict[str, Any]:
    return {"items": runtime.require_blog().posts(limit)}


@router.post("/blog/refresh", status_code=status.HTTP_202_ACCEPTED)
async def blog_refresh(runtime: RuntimeDep) -> dict[str, str]:
    return {"run_id": runtime.require_jobs().run_now(SCRAPE)}


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
