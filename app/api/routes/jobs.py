"""The job registry over HTTP: what runs, when, and "run it now"."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from app.api.deps import RuntimeDep

router = APIRouter(prefix="/v1", tags=["jobs"])


@router.get("/jobs")
async def jobs(runtime: RuntimeDep) -> dict[str, Any]:
    return {"jobs": runtime.jobs_view()}


@router.post("/jobs/{name}/run", status_code=status.HTTP_202_ACCEPTED)
async def run_job(name: str, runtime: RuntimeDep) -> dict[str, str]:
    return {"run_id": runtime.require_jobs().run_now(name)}
