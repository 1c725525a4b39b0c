"""`/health`: public and cheap (a probe every few seconds); says only whether storage works."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.api.answers import Health
from app.api.deps import StatusDep

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
async def health(service: StatusDep) -> JSONResponse:
    """ "degraded" (still 200): the event store is away or busy, or the disk is under the
    free-space margin; state routes keep answering, writes queue or are refused (507)."""
    status = service.health()
    return JSONResponse({"status": status}, status_code=503 if status == "unhealthy" else 200)
