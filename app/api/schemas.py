"""Request bodies and query types, with the limits docs/contract.md states."""

from __future__ import annotations

import time
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

from app.values import parse_iso

MAX_TS = 1e11  # year 5138: anything larger is a unit mistake (milliseconds)
MAX_CLOCK_SKEW_S = 86400.0  # as for moods (app.services.phone): a wild clock is refused


def _epoch(value: object) -> object:
    """Accept epoch seconds or ISO 8601 (`2026-11-20T08:00:00Z`)."""
    if isinstance(value, str):
        text = value.strip()
        try:
            return float(text)
        except ValueError:
            pass
        parsed = parse_iso(text, assume_utc=False)
        if parsed is None:
            raise ValueError("expected epoch seconds or an ISO 8601 time with a zone (Z, +01:00)")
        return parsed
    return value


def _not_bool(value: object) -> object:
    """JSON `false` would otherwise pass as the time 0.0."""
    if isinstance(value, bool):
        raise ValueError("a time must be a number of epoch seconds, not a boolean")
    return value


def _not_far_future(value: float | None) -> float | None:
    """Newest-first views (the digest, /v1/state `updated_at`) would be pinned for years."""
    if value is not None and value > time.time() + MAX_CLOCK_SKEW_S:
        raise ValueError("more than a day ahead of the server's clock; check the device time")
    return value


Timestamp = Annotated[
    float, Field(ge=0, le=MAX_TS, allow_inf_nan=False), BeforeValidator(_not_bool)
]
ClientTime = Annotated[Timestamp, AfterValidator(_not_far_future)]
QueryTime = Annotated[Timestamp, BeforeValidator(_epoch)]
EventType = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_.-]{1,64}$")]
ClientId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:@-]{1,128}$")]
MetaKey = Annotated[str, StringConstraints(min_length=1, max_length=64)]
MetaValue = (
    bool
    | int
    | Annotated[float, Field(allow_inf_nan=False)]
    | Annotated[str, StringConstraints(max_length=2000)]
)


def _max_32(value: dict[str, object]) -> dict[str, object]:
    if len(value) > 32:
        raise ValueError("at most 32 metadata values")
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MoodIn(Strict):
    mood: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    context: Annotated[str, StringConstraints(max_length=2000)] = ""
    updated_at: Timestamp | None = None


class ThoughtIn(Strict):
    text: Annotated[str, StringConstraints(min_length=1, max_length=10000)]
    id: ClientId | None = None
    created_at: ClientTime | None = None


class EventIn(Strict):
    id: ClientId | None = None
    type: EventType
    text: Annotated[str, StringConstraints(min_length=1, max_length=32768)]
    timestamp: ClientTime | None = None
    metadata: Annotated[dict[MetaKey, MetaValue], AfterValidator(_max_32)] = {}


class EventsIn(Strict):
    events: Annotated[list[EventIn], Field(min_length=1, max_length=1000)]


class SearchIn(Strict):
    q: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    n: Annotated[int, Field(ge=1, le=100)] = 10
    type: EventType | None = None
    since: QueryTime | None = None
    until: QueryTime | None = None
    literal: bool = False


class MoodOut(BaseModel):
    mood: str
    context: str
    updated_at: float


class StateOut(BaseModel):
    """Documents /v1/state, which is served from pre-serialized bytes."""

    mood: MoodOut
    thoughts: str
    updated_at: float
