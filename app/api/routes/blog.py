"""The owner's blog: scraped posts, and a scrape on demand (the `scrape_blog` job)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from app.api.answers import BlogPosts, RunId
from app.api.deps import BlogDep, JobsDep
from app.jobs.registry import SCRAPE

router = APIRouter(prefix="/v1/blog", tags=["blog"])


@router.get("/posts", response_model=BlogPosts)
async def blog_posts(
    blog: BlogDep, limit: Annotated[int, Query(ge=1, le=500)] = 20
) -> dict[str, Any]:
    return {"items": blog.posts(limit)}


@router.post("/refresh", status_code=status.HTTP_202_ACCEPTED, response_model=RunId)
async def blog_refresh(runner: JobsDep) -> dict[str, str]:
    return {"run_id": runner.run_now(SCRAPE)}
