"""`/health`: public and cheap (a probe every few seconds); says only whether storage works."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.api.answers import Health
from app.api.deps import StatusDep

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
async def health(service: StatusDep) -> JSONResponse:
    if service.storage_ok():
        return JSONResponse({"status": "ok"})
    return JSONResponse({"status": "unhealthy"}, status_code=503)
