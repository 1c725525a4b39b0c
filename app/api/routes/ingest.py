"""Apps people already use, pointed at Hearth unchanged: OwnTracks and Overland.

Auth is the usual bearer token, or (these paths only) the HTTP Basic password or
`?token=`; scope `write`. Each answer is sent after the write is durable.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from app.api.deps import AuthDep, EventsDep, LocationsDep
from app.services.ingest import overland, owntracks

router = APIRouter(prefix="/v1/ingest", tags=["ingest"])


class OverlandOut(BaseModel):
    result: str
    saved: int
    skipped: int


@router.post(
    "/owntracks",
    response_model=list[dict[str, Any]],
    responses={200: {"description": "always `[]`: nothing for the app to act on"}},
)
async def ingest_owntracks(
    request: Request, principal: AuthDep, locations: LocationsDep, events: EventsDep
) -> Response:
    """One OwnTracks HTTP-mode message; `X-Limit-D` (or `?d=`) names the device."""
    body = await request.body()
    header_device = request.headers.get("x-limit-d") or request.query_params.get("d")
    message = owntracks.parse(body, header_device=header_device, fallback_device=principal.name)
    await owntracks.store(message, locations=locations, events=events)
    return Response(owntracks.ANSWER, media_type="application/json")


@router.post("/overland", response_model=OverlandOut)
async def ingest_overland(
    request: Request, principal: AuthDep, locations: LocationsDep
) -> dict[str, Any]:
    """A batch of up to 1000 GeoJSON points; a resend saves 0."""
    body = await request.body()
    batch = await anyio.to_thread.run_sync(
        partial(overland.parse, body, fallback_device=principal.name)
    )
    saved = await locations.add(batch.fixes)
    return {"result": "ok", "saved": saved, "skipped": batch.skipped}
