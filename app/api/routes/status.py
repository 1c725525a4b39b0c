"""`/v1/status`: the one place an owner looks (built by the status service)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.api.answers import Status
from app.api.deps import StatusDep

router = APIRouter(prefix="/v1", tags=["status"])


@router.get("/status", response_model=Status)
async def status(service: StatusDep) -> dict[str, Any]:
    return await service.snapshot()
