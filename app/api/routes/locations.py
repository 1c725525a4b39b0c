"""Location fixes for maps (a GeoJSON FeatureCollection or plain JSON, oldest first, paged)
and the OwnTracks regions that name places."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, HTTPException, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.api.deps import LocationsDep
from app.api.schemas import QueryTime
from app.storage.locations import Fix, Region

router = APIRouter(prefix="/v1", tags=["locations"])


class LocationsOut(BaseModel):
    """`format=geojson` adds `"type": "FeatureCollection"` and puts the fixes in `features`."""

    type: str | None = None
    features: list[dict[str, Any]] | None = None
    items: list[dict[str, Any]] | None = None
    next_cursor: str | None


def _item(fix: Fix) -> dict[str, Any]:
    return {"timestamp": fix.ts_ms / 1000, **fix.metadata(), "id": fix.id}


def _feature(fix: Fix) -> dict[str, Any]:
    props = fix.metadata()
    del props["lat"], props["lon"]
    props["timestamp"] = fix.ts_ms / 1000
    props["id"] = fix.id
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [fix.lon, fix.lat]},
        "properties": props,
    }


@router.get("/locations", response_model=LocationsOut)
async def list_locations(
    locations: LocationsDep,
    since: Annotated[QueryTime | None, Query()] = None,
    until: Annotated[QueryTime | None, Query()] = None,
    device: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    format: Annotated[Literal["geojson", "json"], Query()] = "geojson",  # noqa: A002
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> JSONResponse:
    """Chronological, so a page draws as a track; `next_cursor` continues it."""
    try:
        fixes, next_cursor = await locations.page(
            since=since, until=until, device=device, limit=limit, cursor=cursor, newest_first=False
        )
    except ValueError as exc:
        raise HTTPException(422, f"invalid cursor: {exc}") from exc
    if format == "json":
        return JSONResponse({"items": [_item(f) for f in fixes], "next_cursor": next_cursor})
    return JSONResponse(
        {
            "type": "FeatureCollection",
            "features": [_feature(f) for f in fixes],
            "next_cursor": next_cursor,
        }
    )


class RegionOut(BaseModel):
    device: str
    key: str
    name: str
    lat: float
    lon: float
    rad: int | None
    defined_at: float


class RegionsOut(BaseModel):
    items: list[RegionOut]


def _region(region: Region) -> dict[str, Any]:
    device, key, name, lat, lon, rad, ts = region
    return {"device": device, "key": key, "name": name, "lat": lat, "lon": lon, "rad": rad,
            "defined_at": ts}  # fmt: skip


@router.get("/regions", response_model=RegionsOut)
async def list_regions(locations: LocationsDep) -> dict[str, Any]:
    """The regions OwnTracks sent (waypoints), oldest definition first."""
    regions = await anyio.to_thread.run_sync(locations.regions)
    return {"items": [_region(r) for r in regions]}


@router.delete("/regions", status_code=204)
async def delete_region(
    locations: LocationsDep,
    device: Annotated[str, Query(min_length=1, max_length=64)],
    key: Annotated[str, Query(min_length=1, max_length=64)],
) -> Response:
    """Forget a region (one deleted on the phone stays here until this)."""
    if not await locations.delete_region(device, key):
        raise HTTPException(404, "no such region")
    return Response(status_code=204)
