"""The phone's two hottest routes, answered in front of the router: its poll,
`GET /v1/state`, and its mood change, `PUT /v1/mood` (`MoodPut`, below).

A phone polls `GET /v1/state` more than all the others together, and walking FastAPI's route
table and solving the router's token dependency cost more than the answer itself (in
one process: ~110 of ~180 us a request, against ~70 us for a bare FastAPI route). This
middleware runs the same token check (`require_token`) and the same endpoint
(`routes.phone.get_state`) as the declared route, which keeps `/docs` true, but without
the walk. Metrics and the access log see it as that route.
"""

from __future__ import annotations

import inspect
import json

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.answers import MoodWritten
from app.api.auth import require_token
from app.api.routes.phone import get_state, put_mood, router
from app.api.schemas import MoodIn

PATH = "/v1/state"


def declared(endpoint: object) -> BaseRoute:
    """The route declared for `endpoint`: metrics and the access log label by it."""
    return next(r for r in router.routes if getattr(r, "endpoint", None) is endpoint)


class StatePoll:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.route = declared(get_state)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        scope["route"] = self.route
        request = Request(scope, receive)
        try:
            await require_token(request)
        except HTTPException as exc:
            refusal = JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
            )
            await refusal(scope, receive, send)
            return
        response = await get_state(request)
        await response(scope, receive, send)


MOOD_PATH = "/v1/mood"


class MoodPut:
    """A phone's mood change, `PUT /v1/mood`, answered in front of the router.

    The hottest write: with one phone the request's own path (routing, dependencies,
    validation) was most of the server's time per PUT, more than the journal's fsync. Runs
    the same token check, the same body model (`MoodIn`, from `json.loads` as FastAPI
    parses it), the same `PhoneSync.set_mood` and the same answer model as the declared
    route. Anything out of the ordinary (another content type, a body that does not
    parse or validate) is handed to the router with the body replayed, so refusals are
    the router's own, word for word. Errors go through the app's own exception handlers.
    Added inside `LastResort`, so an unforeseen error is its JSON 500.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.route = declared(put_mood)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != MOOD_PATH or scope["method"] != "PUT":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        if request.headers.get("content-type") != "application/json":
            await self.app(scope, receive, send)
            return
        scope["route"] = self.route
        try:
            await require_token(request)
            body = await request.body()  # the body cap (413) is `BodyLimit`'s, outside
            try:
                mood = MoodIn.model_validate(json.loads(body))
            except (ValueError, ValidationError, RecursionError):
                await self.app(scope, _replay(body, receive), send)
                return
            phone = request.app.state.runtime.phone
            written = await phone.set_mood(mood.mood, mood.context, mood.updated_at)
            response: Response = JSONResponse(
                MoodWritten.model_validate(written).model_dump(mode="json")
            )
        except Exception as exc:
            handled = await _handled(request, exc)
            if handled is None:
                raise
            response = handled
        await response(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """`receive` for the router: the body already read, then the connection's own."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _handled(request: Request, exc: Exception) -> Response | None:
    """The app's own answer to `exc` (its exception handlers, looked up as Starlette
    does, by the exception's classes in order), or None if no handler takes it."""
    handlers = request.app.exception_handlers
    for kind in type(exc).__mro__:
        handler = handlers.get(kind)
        if handler is not None:
            answer = handler(request, exc)
            return await answer if inspect.isawaitable(answer) else answer
    return None
