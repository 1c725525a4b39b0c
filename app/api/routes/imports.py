"""Files exported by other apps, imported as they are: Daylio's CSV."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request

from app.api.answers import DaylioImported
from app.api.deps import MoodsDep, RuntimeDep
from app.errors import InvalidInputError
from app.services.ingest.daylio import import_daylio

router = APIRouter(prefix="/v1/import", tags=["import"])

_CSV_BODY = {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}


@router.post("/daylio", response_model=DaylioImported, openapi_extra={"requestBody": _CSV_BODY})
async def daylio(request: Request, runtime: RuntimeDep, moods: MoodsDep) -> dict[str, Any]:
    """The whole file is checked first: any bad row -> 422 naming each `line N`, and
    nothing is stored. Times are read in HEARTH_TZ; a re-import stores nothing new."""
    if request.headers.get("content-type", "").startswith("multipart/"):
        raise InvalidInputError(
            "send the CSV file itself as the body (curl --data-binary @daylio_export.csv "
            "-H 'Content-Type: text/csv'), not as a form upload"
        )
    body = await request.body()
    return await import_daylio(body, tz=ZoneInfo(runtime.settings.tz), moods=moods)
