"""The one place where Hearth's errors become HTTP responses.

A store that is away is 503 with Retry-After; a full disk is 507; anything unforeseen is
a JSON 500 (`{"detail": ...}`, with the X-Request-ID the access log shows), logged with
its traceback: it is a bug to fix, never plain text.
"""

from __future__ import annotations

import json
import logging
import math
from typing import Any

import httpx
from chromadb.errors import ChromaError
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import (
    BackupError,
    ConfigError,
    ConflictError,
    DataDirLockedError,
    EmbedderMismatchError,
    HearthError,
    InvalidInputError,
    NotFoundError,
    ScrapeError,
    StorageError,
    StoreUnavailableError,
)
from app.logs import request_id

log = logging.getLogger(__name__)

# Every HearthError subclass, most specific first (a test checks none is missing).
STATUS: list[tuple[type[HearthError], int]] = [
    (StorageError, 507),
    (StoreUnavailableError, 503),
    (NotFoundError, 404),
    (ConflictError, 409),
    (InvalidInputError, 422),
    (EmbedderMismatchError, 503),
    (DataDirLockedError, 503),
    (ConfigError, 503),
    (ScrapeError, 502),
    (BackupError, 500),
]


def install_error_handlers(app: FastAPI) -> None:
    async def hearth_error(_request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, StoreUnavailableError):
            log.warning("%s: %s", type(exc).__name__, exc)
            return _unavailable(str(exc), exc.retry_after)
        if isinstance(exc, InvalidInputError):
            return JSONResponse({"detail": invalid(str(exc))}, status_code=422)
        for kind, status in STATUS:
            if isinstance(exc, kind):
                if status >= 500:
                    log.error("%s: %s", type(exc).__name__, exc)
                return JSONResponse({"detail": str(exc)}, status_code=status)
        log.error("unhandled %s", type(exc).__name__, exc_info=exc)
        return JSONResponse({"detail": "internal error"}, status_code=500)

    async def invalid_request(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        body = {"detail": _safe(jsonable_encoder(exc.errors(), exclude={"input"}))}
        # ensure_ascii: a lone surrogate in the input must not turn a 422 into a 500
        return Response(
            json.dumps(body, ensure_ascii=True, allow_nan=False),
            status_code=422,
            media_type="application/json",
        )

    async def store_error(_request: Request, exc: Exception) -> JSONResponse:
        message = str(exc)
        if "disk is full" in message or "No space left" in message:
            log.error("event store: %s", message)
            return JSONResponse({"detail": "storage full: event not written"}, status_code=507)
        log.error("event store failed: %s", message, exc_info=exc)
        return _unavailable("event store unavailable", RETRY_AFTER_S)

    async def unreachable(_request: Request, exc: Exception) -> JSONResponse:
        log.warning("event store unreachable: %s", exc)
        return _unavailable("the event store cannot be reached; retry shortly", RETRY_AFTER_S)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 400 and exc.__cause__ is not None:
            # FastAPI's "error parsing the body" (invalid UTF-8, a 5000-digit number):
            # the contract makes every unusable body a validation error.
            detail = invalid("request body is not valid JSON", "json_invalid")
            return JSONResponse({"detail": detail}, status_code=422)
        if exc.status_code == 422 and isinstance(exc.detail, str):
            # Every 422 has the documented shape (a list of {loc, msg, type}).
            return JSONResponse({"detail": invalid(exc.detail)}, status_code=422)
        return await http_exception_handler(request, exc)

    app.add_exception_handler(HearthError, hearth_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(ChromaError, store_error)
    app.add_exception_handler(httpx.TransportError, unreachable)
    app.add_middleware(LastResort)


RETRY_AFTER_S = 5


def invalid(message: str, kind: str = "value_error") -> list[dict[str, Any]]:
    """A 422 `detail` in FastAPI's documented shape, for errors found after parsing."""
    return [{"loc": ["body"], "msg": message, "type": kind}]


def _unavailable(detail: str, retry_after: int) -> JSONResponse:
    return JSONResponse(
        {"detail": detail}, status_code=503, headers={"Retry-After": str(retry_after)}
    )


class LastResort:
    """Innermost middleware: an exception no handler knows becomes a JSON 500.

    Starlette would answer it with plain text from outside every middleware, so the
    response lacked X-Request-ID; here it still passes through the request-id layer.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:
            log.error("unhandled %s in %s %s", type(exc).__name__, scope["method"],
                      scope["path"], exc_info=exc)  # fmt: skip
            if started:
                raise
            detail = {"detail": "internal error", "request_id": request_id.get()}
            await JSONResponse(detail, status_code=500)(scope, receive, send)


def _safe(value: Any) -> Any:
    """Non-finite floats (NaN, 1e400) from a rejected input become strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {k: _safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_safe(v) for v in value]
    return value
