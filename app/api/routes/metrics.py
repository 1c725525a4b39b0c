"""Prometheus metrics (behind the token like everything but /health); see app.metrics."""

from __future__ import annotations

import time

import anyio.to_thread
from fastapi import APIRouter, Request, Response

from app.api.deps import StatusDep
from app.metrics import CONTENT_TYPE_LATEST, Scrape, render

router = APIRouter(tags=["status"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text"}},
)
async def metrics(service: StatusDep, request: Request) -> Response:
    events = service.events_summary()
    scrape = Scrape(
        uptime_s=time.time() - service.started_at,
        events_total=events["total"],
        events_by_type=events["by_type"],
        jobs=service.jobs.jobs(),
        backups=await service.backups(),  # reads the disk in a thread
    )
    # The process collector reads /proc: a few small files, still not on the loop.
    body = await anyio.to_thread.run_sync(render, request.app.state.metrics_registry, scrape)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
