"""Who is calling and what they may do: tokens, scopes, and the one rule table.

Every protected route goes through `require_token`, which finds the token, and then
checks the scope the request's method and path need (`required_scope`). Other entry
points (the MCP server) use the same two pieces: `authenticate_bearer(runtime, header)`
gives a `Principal` or None, and `Principal.allows(scope)` says whether it may act.

Apps that cannot send a bearer header (OwnTracks sends HTTP Basic, some loggers only
take a URL) may give the token as the Basic password or as `?token=`, but only on
`/v1/ingest/*` and `/v1/import/*`; everywhere else those are ignored (401).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import time
from dataclasses import dataclass

from fastapi import HTTPException, Request

from app.runtime import Runtime

LEVELS = {"read": 1, "write": 2, "full": 3}
ADMIN = "admin"
APP_PREFIXES = ("/v1/ingest/", "/v1/import/")
_WRITE_ROUTES = {
    ("PUT", "/v1/mood"),
    ("POST", "/v1/thoughts"),
    ("POST", "/v1/events"),
    ("POST", "/v1/search"),
}


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: the token's name ("admin" for HEARTH_API_TOKEN) and scope."""

    name: str
    scope: str

    def allows(self, scope: str) -> bool:
        return LEVELS.get(self.scope, 0) >= LEVELS[scope]


def required_scope(method: str, path: str) -> str:
    """The scope API.md "Token scopes" gives this request."""
    if path.startswith(APP_PREFIXES):
        return "write"
    if method in ("GET", "HEAD"):
        if path == "/v1/export" or path.startswith("/v1/export/"):
            return "full"
        return "read"
    if (method, path.rstrip("/")) in _WRITE_ROUTES:
        return "write"
    return "full"


def authenticate(runtime: Runtime, token: str | None) -> Principal | None:
    if not token:
        return None
    admin = runtime.settings.api_token
    if admin is not None and hmac.compare_digest(token.encode(), admin.get_secret_value().encode()):
        return Principal(ADMIN, "full")
    found = runtime.tokens.match(token, time.time())
    return Principal(*found) if found is not None else None


def authenticate_bearer(runtime: Runtime, header_value: str | None) -> Principal | None:
    """The caller named by an `Authorization: Bearer <token>` value, or None."""
    scheme, _, token = (header_value or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return authenticate(runtime, token.strip())


def _basic_password(header_value: str) -> str | None:
    scheme, _, encoded = header_value.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    _user, sep, password = decoded.partition(":")
    return password if sep else None


def presented_token(request: Request) -> str | None:
    """The bearer token; for app routes also the Basic password or `?token=`."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if not request.scope["path"].startswith(APP_PREFIXES):
        return None
    return _basic_password(header) if header else request.query_params.get("token")


def unauthorized() -> HTTPException:
    return HTTPException(
        401, "missing or invalid bearer token", headers={"WWW-Authenticate": "Bearer"}
    )


async def require_token(request: Request) -> Principal:
    """401 without a valid token, 403 naming the scope when the token's is too small."""
    token = presented_token(request)
    if not token:  # refused before anything is looked up
        raise unauthorized()
    runtime: Runtime = request.app.state.runtime
    principal = authenticate(runtime, token)
    if principal is None:
        raise unauthorized()
    needed = required_scope(request.method, request.scope["path"])
    if not principal.allows(needed):
        raise HTTPException(
            403, f"this token's scope is {principal.scope!r}; this request needs scope {needed!r}"
        )
    request.state.principal = principal
    return principal
