"""Annotated dependency aliases and the token check. All are `async def`: a plain `def`
dependency runs in the thread pool and halves throughput (docs/measurements.md)."""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from app.jobs.scheduler import JobRunner
from app.runtime import Runtime
from app.services.blog import BlogService
from app.services.insights import Insights
from app.services.moods import MoodLog
from app.services.phone import PhoneSync
from app.services.search import SearchService
from app.services.status import StatusService
from app.storage.events import EventStore
from app.storage.state import StateManager

_UNAUTHORIZED = HTTPException(
    401, "missing or invalid bearer token", headers={"WWW-Authenticate": "Bearer"}
)


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def require_token(request: Request) -> str:
    """The caller's token name ("admin" for HEARTH_API_TOKEN); 401 otherwise."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _UNAUTHORIZED
    runtime: Runtime = request.app.state.runtime
    admin = runtime.settings.api_token
    if admin is not None and hmac.compare_digest(token.encode(), admin.get_secret_value().encode()):
        return "admin"
    name = runtime.tokens.match(token, time.time())
    if name is None:
        raise _UNAUTHORIZED
    return name


def _part(name: str) -> Callable[[Request], Awaitable[Any]]:
    """A dependency returning one part of the runtime (async: no thread-pool hop)."""

    async def get(request: Request) -> Any:
        return getattr(request.app.state.runtime, name)

    get.__name__ = f"get_{name}"
    return get


StateDep = Annotated[StateManager, Depends(_part("state"))]
PhoneDep = Annotated[PhoneSync, Depends(_part("phone"))]
EventsDep = Annotated[EventStore, Depends(_part("events"))]
StatusDep = Annotated[StatusService, Depends(_part("status"))]
JobsDep = Annotated[JobRunner, Depends(_part("jobs"))]
BlogDep = Annotated[BlogService, Depends(_part("blog"))]
MoodsDep = Annotated[MoodLog, Depends(_part("moods"))]


async def get_search(request: Request) -> SearchService:
    search: SearchService = request.app.state.memory.search
    return search


async def get_insights(request: Request) -> Insights:
    insights: Insights = request.app.state.memory.insights
    return insights


SearchDep = Annotated[SearchService, Depends(get_search)]
InsightsDep = Annotated[Insights, Depends(get_insights)]
