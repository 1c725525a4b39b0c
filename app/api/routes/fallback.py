"""Unknown paths under /v1 and /metrics: the token is checked before anything is said.

A known path asked with a method it does not take is `405` with `Allow`, not `404`:
the fallback route matches every method, so without this check it would hide the 405
that Starlette gives a path it knows.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from starlette.routing import Match

router = APIRouter(include_in_schema=False)
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


@router.api_route("/v1/{rest:path}", methods=_METHODS)
@router.api_route("/metrics/{rest:path}", methods=_METHODS)
async def unknown(rest: str, request: Request) -> None:
    allowed = _allowed(request)
    if allowed:
        raise HTTPException(
            405, "method not allowed", headers={"Allow": ", ".join(sorted(allowed))}
        )
    raise HTTPException(404, f"no route /{rest}")


def _allowed(request: Request) -> set[str]:
    """The methods the other routes accept for this exact path (only asked on a miss)."""
    others = [
        route
        for route in request.app.router.routes
        if getattr(route, "original_router", None) is not router
        and getattr(route, "endpoint", None) is not unknown
    ]
    allowed: set[str] = set()
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in others):
            allowed.add(method)
    return allowed
