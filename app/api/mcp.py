"""`/mcp`: the event log, moods and thoughts as Model Context Protocol tools.

Streamable HTTP in stateless mode with plain JSON answers: every call stands alone, so
nothing is kept per client and any token may call any time. The bearer token is checked
here, before the SDK sees the request (401 like `/v1`); each tool then checks the
token's scope and answers a tool error naming it. Each tool returns the JSON text of
the `/v1` answer it mirrors, computed by the same services. The SDK's DNS-rebinding
guard is off: every call carries a bearer token, which a rebinding page cannot have.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from app.api.auth import Principal, authenticate_bearer
from app.api.schemas import EventType, MoodIn, QueryTime, SearchIn, ThoughtIn
from app.errors import HearthError

_TIME = TypeAdapter(QueryTime | None)
_TYPE = TypeAdapter(EventType | None)


async def authenticate(request: Request) -> Principal | None:
    """The caller named by the bearer token (its scope included), or None."""
    return authenticate_bearer(request.app.state.runtime, request.headers.get("authorization"))


class McpEndpoint:
    """An ASGI app for `/mcp`; `running()` belongs in the app's lifespan."""

    def __init__(self) -> None:
        self.server = MCPServer(
            name="hearth",
            instructions="Hearth is a personal log: moods, thoughts and events with times. "
            "Search it by meaning (time words like 'last week' restrict the search), read "
            "mood insights, and log a mood or a thought.",
        )
        self.server.streamable_http_app(
            streamable_http_path="/mcp",
            stateless_http=True,
            json_response=True,
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        _register_tools(self.server)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with self.server.session_manager.run():
            yield

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        principal = await authenticate(Request(scope, receive))
        if principal is None:
            denied = JSONResponse(
                {"detail": "missing or invalid bearer token"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
            await denied(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.server.session_manager.handle_request(scope, receive, send)


def _app_state(ctx: Context, scope: str) -> Any:
    """The app's state once the caller's token is known to allow `scope`."""
    request = ctx.request_context.request
    assert isinstance(request, Request)
    principal: Principal = request.scope["state"]["principal"]
    if not principal.allows(scope):
        raise ToolError(f"this token lacks the scope {scope!r} this tool needs")
    return request.app.state


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _valid(adapter: TypeAdapter[Any], value: object, name: str) -> Any:
    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        raise ToolError(f"invalid {name}: {exc.errors()[0]['msg']}") from exc


def _register_tools(server: MCPServer) -> None:  # noqa: C901 (one closure per tool)
    @server.tool()
    async def search_memory(
        query: str,
        ctx: Context,
        type: str | None = None,  # noqa: A002 (the API's name)
        since: float | str | None = None,
        until: float | str | None = None,
        n: int = 10,
    ) -> str:
        """Search the log by meaning, best first. Time words in the query ("yesterday",
        "last week", "in March 2026", "since Monday") restrict it; since/until (epoch
        seconds or ISO 8601) win over them. Same answer as GET /v1/search."""
        state = _app_state(ctx, "read")
        try:
            body = SearchIn(q=query, n=n, type=type, since=since, until=until)
            return _json(
                await state.memory.search.search(
                    body.q, n=body.n, type=body.type, since=body.since, until=body.until
                )
            )
        except (ValidationError, HearthError) as exc:
            raise ToolError(str(exc)) from exc

    @server.tool()
    async def recent_events(ctx: Context, type: str | None = None, limit: int = 20) -> str:  # noqa: A002
        """The newest events, optionally of one type (mood, thought, blog ...), newest
        first. Same answer as GET /v1/events."""
        state = _app_state(ctx, "read")
        kind = _valid(_TYPE, type, "type")
        if not 1 <= limit <= 500:
            raise ToolError("limit must be 1..500")
        items, cursor = await state.runtime.events.list(type=kind, limit=limit)
        return _json({"items": [e.to_api() for e in items], "next_cursor": cursor})

    @server.tool()
    async def mood_insights(
        ctx: Context,
        since: float | str | None = None,
        until: float | str | None = None,
        about: str | None = None,
    ) -> str:
        """Mood by day (scores 1..5), average, logged days, streak, mood by activity;
        `about` adds the mood within 12 hours of events matching it by meaning, beside
        the overall mean. Same answer as GET /v1/insights/mood."""
        state = _app_state(ctx, "read")
        lo, hi = _valid(_TIME, since, "since"), _valid(_TIME, until, "until")
        if lo is not None and hi is not None and lo > hi:
            raise ToolError("since is after until")
        return _json(await state.memory.insights.mood(since=lo, until=hi, about=about or None))

    @server.tool()
    async def current_state(ctx: Context) -> str:
        """The current mood and the recent-thoughts digest. Same as GET /v1/state."""
        state = _app_state(ctx, "read")
        body, _etag = state.runtime.state.state()
        return bytes(body).decode()

    @server.tool()
    async def log_mood(mood: str, ctx: Context, context: str = "") -> str:
        """Record the current mood (a word such as good, tired, calm) with optional
        context. Same answer as PUT /v1/mood."""
        state = _app_state(ctx, "write")
        try:
            body = MoodIn(mood=mood, context=context)
            return _json(await state.runtime.phone.set_mood(body.mood, body.context, None))
        except (ValidationError, HearthError) as exc:
            raise ToolError(str(exc)) from exc

    @server.tool()
    async def add_thought(text: str, ctx: Context) -> str:
        """Write a thought into the log. Same answer as POST /v1/thoughts."""
        state = _app_state(ctx, "write")
        try:
            body = ThoughtIn(text=text)
        except ValidationError as exc:
            raise ToolError(str(exc)) from exc
        thought_id, _created = await state.runtime.phone.add_thought(body.text, None, None)
        return _json({"id": thought_id})
