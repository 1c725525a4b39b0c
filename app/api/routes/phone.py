"""Phone sync: state, mood, thoughts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status

from app.api.answers import MoodHistory, MoodWritten, ThoughtId, Thoughts
from app.api.deps import PhoneDep, StateDep
from app.api.schemas import MoodIn, MoodOut, QueryTime, StateOut, ThoughtIn

router = APIRouter(prefix="/v1", tags=["phone"])


@router.get(
    "/state",
    responses={200: {"model": StateOut}, 304: {"description": "not modified since the ETag"}},
)
async def get_state(request: Request) -> Response:
    """The phone's poll: served from cached bytes, reading the request directly (each
    injected dependency costs measurable throughput on this hot path)."""
    body, etag = request.app.state.runtime.state.state()
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None and _matches(if_none_match, etag):
        return Response(status_code=304, headers={"ETag": etag})
    return Response(body, media_type="application/json", headers={"ETag": etag})


@router.get("/mood", response_model=MoodOut)
async def get_mood(state: StateDep) -> dict[str, Any]:
    return state.current_mood()


@router.put("/mood", response_model=MoodWritten)
async def put_mood(body: MoodIn, phone: PhoneDep) -> dict[str, Any]:
    return await phone.set_mood(body.mood, body.context, body.updated_at)


@router.get("/mood/history", response_model=MoodHistory)
async def mood_history(
    phone: PhoneDep,
    since: Annotated[QueryTime | None, Query()] = None,
    until: Annotated[QueryTime | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    return {"items": await phone.mood_history(since=since, until=until, limit=limit)}


@router.post(
    "/thoughts",
    status_code=status.HTTP_201_CREATED,
    response_model=ThoughtId,
    responses={200: {"model": ThoughtId, "description": "already stored (same id)"}},
)
async def post_thought(body: ThoughtIn, phone: PhoneDep, response: Response) -> dict[str, str]:
    thought_id, created = await phone.add_thought(body.text, body.id, body.created_at)
    if not created:
        response.status_code = status.HTTP_200_OK
    return {"id": thought_id}


@router.get("/thoughts", response_model=Thoughts)
async def get_thoughts(
    phone: PhoneDep, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> dict[str, Any]:
    return phone.thoughts(limit)


def _matches(header: str, etag: str) -> bool:
    """RFC 9110 weak comparison: `*`, or any listed tag equal once `W/` is dropped."""
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in tags or etag in tags
