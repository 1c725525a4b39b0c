"""The event log: batch ingest, paging, get/delete by id, semantic search."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from fastapi.exceptions import RequestValidationError

from app.api.answers import EventOut, EventPage, EventsAdded, SearchResults
from app.api.deps import EventsDep, LocationsDep, PhoneDep, SearchDep
from app.api.schemas import EventsIn, EventType, QueryTime, SearchIn
from app.storage.events import NewEvent
from app.storage.locations import FIX_PREFIX, LOCATION

router = APIRouter(prefix="/v1", tags=["events"])


async def valid_event(event_id: str, events: EventsDep, locations: LocationsDep) -> dict[str, Any]:
    """An event, or a location fix (ids `loc:<device>:<ms>`, kept in the fix store)."""
    fix = await locations.get(event_id) if event_id.startswith(FIX_PREFIX) else None
    if fix is not None:
        return fix.to_event()
    found = await events.get(event_id)
    if found is None:
        raise HTTPException(404, f"no event with id {event_id!r}")
    return found.to_api()


EventDep = Annotated[dict[str, Any], Depends(valid_event)]


@router.post("/events", response_model=EventsAdded)
async def add_events(body: EventsIn, events: EventsDep) -> dict[str, Any]:
    now = time.time()
    batch = [
        NewEvent(
            type=e.type,
            text=e.text,
            timestamp=now if e.timestamp is None else e.timestamp,
            metadata=dict(e.metadata),
            id=e.id,
        )
        for e in body.events
    ]
    result = await events.add(batch)
    return {"ids": result.ids, "created": result.created, "duplicates": result.duplicates}


@router.get("/events", response_model=EventPage)
async def list_events(
    events: EventsDep,
    locations: LocationsDep,
    type: Annotated[EventType | None, Query()] = None,
    since: Annotated[QueryTime | None, Query()] = None,
    until: Annotated[QueryTime | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> dict[str, Any]:
    if type == LOCATION:
        return await _list_fixes(locations, since, until, limit, cursor)
    try:
        items, next_cursor = await events.list(
            type=type, since=since, until=until, limit=limit, cursor=cursor
        )
    except ValueError as exc:
        where = {"loc": ("query", "cursor"), "msg": f"invalid cursor: {exc}", "type": "value_error"}
        raise RequestValidationError([where]) from exc
    return {"items": [e.to_api() for e in items], "next_cursor": next_cursor}


async def _list_fixes(
    locations: LocationsDep,
    since: float | None,
    until: float | None,
    limit: int,
    cursor: str | None,
) -> dict[str, Any]:
    """Location fixes live in their own store; they page here like any event type."""
    try:
        fixes, next_cursor = await locations.page(
            since=since, until=until, limit=limit, cursor=cursor
        )
    except ValueError as exc:
        raise HTTPException(422, f"invalid cursor: {exc}") from exc
    return {"items": [f.to_event() for f in fixes], "next_cursor": next_cursor}


@router.get("/events/{event_id}", response_model=EventOut)
async def get_event(event: EventDep) -> dict[str, Any]:
    return event


@router.delete("/events/{event_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_event(
    event_id: str, events: EventsDep, phone: PhoneDep, locations: LocationsDep
) -> Response:
    if event_id.startswith(FIX_PREFIX) and await locations.delete(event_id):
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    if not await events.delete(event_id):
        raise HTTPException(404, f"no event with id {event_id!r}")
    await phone.forget(event_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/search", response_model=SearchResults, response_model_exclude_unset=True)
async def search_get(search: SearchDep, query: Annotated[SearchIn, Query()]) -> dict[str, Any]:
    return await _search(search, query)


@router.post("/search", response_model=SearchResults, response_model_exclude_unset=True)
async def search_post(body: SearchIn, search: SearchDep) -> dict[str, Any]:
    return await _search(search, body)


async def _search(search: SearchDep, query: SearchIn) -> dict[str, Any]:
    return await search.search(
        query.q,
        n=query.n,
        type=query.type,
        since=query.since,
        until=query.until,
        literal=query.literal,
    )
