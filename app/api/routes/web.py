"""The web app (the phone client and dashboard) at `/`: public, static, nothing private.

Every datum the app shows comes from /v1 with the bearer token, so these routes need none.
Static URLs carry the build id and are cached for a year; the page, the service worker and
the manifest are revalidated on every load (304 while the build is unchanged).
"""

from __future__ import annotations

from functools import cache

from fastapi import APIRouter, HTTPException, Request, Response

import app as hearth
from app.web import Asset, WebBundle

router = APIRouter(tags=["web"], include_in_schema=False)

# No inline script or style, nothing from another origin; `require-trusted-types-for`
# makes the browser refuse any string written into an HTML sink such as innerHTML.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; manifest-src 'self'; worker-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
    "require-trusted-types-for 'script'; trusted-types hearth"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
REVALIDATE = "no-cache"
FOREVER = "public, max-age=31536000, immutable"


@cache
def bundle() -> WebBundle:
    """Read once, on first use (a few dozen kB)."""
    return WebBundle.load(hearth.__version__)


@router.get("/")
async def index(request: Request) -> Response:
    return _page("index.html", request)


@router.get("/sw.js")
async def service_worker(request: Request) -> Response:
    return _page("sw.js", request, {"Service-Worker-Allowed": "/"})


@router.get("/manifest.webmanifest")
async def manifest(request: Request) -> Response:
    return _page("manifest.webmanifest", request)


@router.get("/static/{build}/{path:path}")
async def static(build: str, path: str, request: Request) -> Response:
    """Only the current build's files: an old URL must not get new bytes cached forever."""
    web = bundle()
    asset = web.static.get(path)
    if build != web.build or asset is None:
        raise HTTPException(404, "no such file")
    return _send(asset, request, {"Cache-Control": FOREVER})


def _page(name: str, request: Request, extra: dict[str, str] | None = None) -> Response:
    web = bundle()
    etag = f'"{web.build}"'
    headers = {"Cache-Control": REVALIDATE, "ETag": etag, **(extra or {})}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers={**SECURITY_HEADERS, **headers})
    return _send(web.pages[name], request, headers)


def _send(asset: Asset, request: Request, headers: dict[str, str]) -> Response:
    headers = {**SECURITY_HEADERS, **headers, "Vary": "Accept-Encoding"}
    body = asset.body
    if asset.gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
        body = asset.gzipped
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=asset.media_type, headers=headers)
