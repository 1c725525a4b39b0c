"""The owner's blog: scraped posts, and a scrape on demand (the `scrape_blog` job)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from app.api.deps import RuntimeDep
from app.jobs.registry import SCRAPE

router = APIRouter(prefix="/v1/blog", tags=["blog"])


@router.get("/posts")
async def blog_posts(
    runtime: RuntimeDep, limit: Annotated[int, Query(ge=1, le=500)] = 20
) -> dict[str, Any]:
    return {"items": runtime.require_blog().posts(limit)}


@router.post("/refresh", status_code=status.HTTP_202_ACCEPTED)
async def blog_refresh(runtime: RuntimeDep) -> dict[str, str]:
    return {"run_id": runtime.require_jobs().run_now(SCRAPE)}
