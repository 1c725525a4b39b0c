"""The job registry over HTTP: what runs, when, and "run it now"."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from app.api.answers import Jobs, RunId
from app.api.deps import JobsDep

router = APIRouter(prefix="/v1", tags=["jobs"])


@router.get("/jobs", response_model=Jobs)
async def jobs(runner: JobsDep) -> dict[str, Any]:
    return {"jobs": runner.jobs()}


@router.post("/jobs/{name}/run", status_code=status.HTTP_202_ACCEPTED, response_model=RunId)
async def run_job(name: str, runner: JobsDep) -> dict[str, str]:
    return {"run_id": runner.run_now(name)}
