"""Health Auto Export (iOS): its REST API automation posts here unchanged."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request

from app.api.answers import HealthExportOut
from app.api.deps import EventsDep, MoodsDep, RuntimeDep
from app.services.ingest.health_export import ingest_health_export

router = APIRouter(prefix="/v1/ingest", tags=["ingest"])

_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["data"],
                "properties": {
                    "data": {
                        "type": "object",
                        "properties": {
                            "metrics": {"type": "array", "items": {"type": "object"}},
                            "stateOfMind": {"type": "array", "items": {"type": "object"}},
                        },
                    }
                },
            }
        }
    },
}


@router.post(
    "/health-auto-export", response_model=HealthExportOut, openapi_extra={"requestBody": _BODY}
)
async def health_auto_export(
    request: Request, runtime: RuntimeDep, moods: MoodsDep, events: EventsDep
) -> dict[str, Any]:
    """stateOfMind -> moods (upserted by id), metrics -> `health` events (one per name
    and date). Read raw and parsed in a thread: a sync can be megabytes."""
    body = await request.body()
    tz = ZoneInfo(runtime.settings.tz)
    return await ingest_health_export(body, tz=tz, moods=moods, events=events)
