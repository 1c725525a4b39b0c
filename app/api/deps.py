"""Annotated dependency aliases. All are `async def`: a plain `def` dependency runs in
the thread pool and halves throughput (docs/measurements.md). Tokens and scopes are
checked in app.api.auth."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.auth import Principal, require_token
from app.jobs.scheduler import JobRunner
from app.runtime import Runtime
from app.services.blog import BlogService
from app.services.insights import Insights
from app.services.moods import MoodRecorder
from app.services.phone import PhoneSync
from app.services.search import SearchService
from app.services.status import StatusService
from app.storage.events import EventStore
from app.storage.locations import LocationStore
from app.storage.state import StateManager


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def _part(name: str) -> Callable[[Request], Awaitable[Any]]:
    """A dependency returning one part of the runtime (async: no thread-pool hop)."""

    async def get(request: Request) -> Any:
        return getattr(request.app.state.runtime, name)

    get.__name__ = f"get_{name}"
    return get


# Routes whose apps authenticate otherwise too (HTTP Basic, ?token=): their own dependency.
_OWN_AUTH = ("/v1/ingest/", "/v1/import/")
_NO_BODY = frozenset({"GET", "HEAD", "OPTIONS"})


class AuthFirst:
    """The token is checked before a request body is read or parsed.

    FastAPI parses the body before it runs dependencies, so without this a caller with
    no token could make the server parse 2 MiB bodies and read its parser's errors.
    The route dependency still runs (it names the caller); this only answers 401 sooner.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if (
            scope["type"] == "http"
            and scope["method"] not in _NO_BODY
            and (path.startswith("/v1/") or path == "/metrics" or path.startswith("/metrics/"))
            and not path.startswith(_OWN_AUTH)
        ):
            try:
                await require_token(Request(scope))
            except HTTPException as exc:
                response = JSONResponse(
                    {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


StateDep = Annotated[StateManager, Depends(_part("state"))]
PhoneDep = Annotated[PhoneSync, Depends(_part("phone"))]
EventsDep = Annotated[EventStore, Depends(_part("events"))]
StatusDep = Annotated[StatusService, Depends(_part("status"))]
JobsDep = Annotated[JobRunner, Depends(_part("jobs"))]
BlogDep = Annotated[BlogService, Depends(_part("blog"))]
MoodsDep = Annotated[MoodRecorder, Depends(_part("moods"))]
LocationsDep = Annotated[LocationStore, Depends(_part("locations"))]
AuthDep = Annotated[Principal, Depends(require_token)]


async def get_search(request: Request) -> SearchService:
    search: SearchService = request.app.state.memory.search
    return search


async def get_insights(request: Request) -> Insights:
    insights: Insights = request.app.state.memory.insights
    return insights


SearchDep = Annotated[SearchService, Depends(get_search)]
InsightsDep = Annotated[Insights, Depends(get_insights)]
