"""Mood insights and "on this day" (API.md "Mood insights")."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic_core import to_json

from app.api.answers import Answer, EventOut
from app.api.deps import InsightsDep
from app.api.schemas import QueryTime
from app.errors import InvalidInputError

router = APIRouter(prefix="/v1/insights", tags=["insights"])


class MoodDay(Answer):
    date: str
    score: float | None
    entries: int
    moods: dict[str, int]


class ActivityMood(Answer):
    activity: str
    average: float
    entries: int


class AboutMood(Answer):
    text: str
    average: float | None
    entries: int
    overall: float | None


class MoodInsights(Answer):
    days: list[MoodDay]
    average: float | None
    logged_days: int
    streak_days: int
    by_activity: list[ActivityMood]
    about: AboutMood | None = None


class OnThisDay(Answer):
    items: list[EventOut]


@router.get("/mood", response_class=Response, responses={200: {"model": MoodInsights}})
async def mood_insights(
    insights: InsightsDep,
    since: Annotated[QueryTime | None, Query()] = None,
    until: Annotated[QueryTime | None, Query()] = None,
    about: Annotated[str | None, Query(min_length=1, max_length=2000)] = None,
) -> Response:
    if since is not None and until is not None and since > until:
        raise InvalidInputError("since is after until")
    answer = await insights.mood(since=since, until=until, about=about)
    # A decade is ~3,650 days: validating that through the response model cost more than
    # computing it, so the answer (MoodInsights, as documented) is serialized directly.
    return Response(to_json(answer), media_type="application/json")


@router.get("/on-this-day", response_model=OnThisDay)
async def on_this_day(
    insights: InsightsDep,
    day: Annotated[date | None, Query(alias="date")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    items = await insights.on_this_day(day or insights.today(), limit)
    return {"items": [e.to_api() for e in items]}
