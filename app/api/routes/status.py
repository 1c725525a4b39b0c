from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter

import app
from app.api.deps import RuntimeDep

router = APIRouter(prefix="/v1", tags=["status"])


@router.get("/status")
async def status(runtime: RuntimeDep) -> dict[str, Any]:
    total, by_type = runtime.events.counts()
    return {
        "version": app.__version__,
        "uptime_s": round(time.time() - runtime.started_at, 3),
        "events": {"total": total, "by_type": by_type},
        "embedder": runtime.events.embedder_name,
        "storage": await runtime.storage(),
        "jobs": runtime.jobs_view(),
        "backups": runtime.backups_summary(),
        "warnings": runtime.warnings(),
    }
