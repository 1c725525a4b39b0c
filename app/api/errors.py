"""The one place where Hearth's errors become HTTP responses."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from app.errors import (
    BackupError,
    ConflictError,
    EmbedderMismatchError,
    HearthError,
    InvalidInputError,
    NotFoundError,
    StorageError,
)

log = logging.getLogger(__name__)

_STATUS: list[tuple[type[HearthError], int]] = [
    (StorageError, 507),
    (NotFoundError, 404),
    (ConflictError, 409),
    (EmbedderMismatchError, 503),
    (InvalidInputError, 422),
    (BackupError, 500),
]


def install_error_handlers(app: FastAPI) -> None:
    async def hearth_error(_request: Request, exc: Exception) -> JSONResponse:
        for kind, status in _STATUS:
            if isinstance(exc, kind):
                if status >= 500:
                    log.error("%s: %s", type(exc).__name__, exc)
                return JSONResponse({"detail": str(exc)}, status_code=status)
        log.error("unhandled %s", type(exc).__name__, exc_info=exc)
        return JSONResponse({"detail": "internal error"}, status_code=500)

    app.add_exception_handler(HearthError, hearth_error)
