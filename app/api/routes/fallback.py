"""Unknown paths under /v1 and /metrics: the token is checked before anything is said."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

router = APIRouter(include_in_schema=False)
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


@router.api_route("/v1/{rest:path}", methods=_METHODS)
@router.api_route("/metrics/{rest:path}", methods=_METHODS)
async def unknown(rest: str) -> None:
    raise HTTPException(404, f"no route /{rest}")
