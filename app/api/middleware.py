"""Pure ASGI middleware (no BaseHTTPMiddleware: it costs a task per request).

RequestContext: request id on every log line and response, the client's real IP when
the request came through a trusted proxy (cloudflared on loopback), one access-log line,
and the request's duration in the metrics histogram by route template (the router leaves
the matched route in `scope["route"]`; the histogram's children are cached per label set,
so a request costs one dict lookup and one observe).
BodyLimit: a body over the cap is refused while reading (413), before it is buffered.
"""

from __future__ import annotations

import ipaddress
import itertools
import os
import re
import time

from fastapi import HTTPException
from prometheus_client import Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.logs import access, request_id
from app.metrics import STATUS_CLASSES, UNMATCHED

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Request ids only tell lines apart: a random prefix per process and a counter cost far
# less per request than uuid4 (a syscall and an object), and stay 16 hex characters.
_ID_PREFIX = os.urandom(4).hex()
_ID_COUNTER = itertools.count()


class RequestContext:
    def __init__(
        self,
        app: ASGIApp,
        *,
        trusted_proxies: list[str],
        access_log: bool,
        histogram: Histogram | None = None,
    ) -> None:
        self.app = app
        self.histogram = histogram
        self._timers: dict[tuple[str, str, int], Histogram] = {}
        self.trusted = [ipaddress.ip_network(p, strict=False) for p in trusted_proxies]
        self.access_log = access_log
        self._trusted_peers: dict[str, bool] = {}

    def _is_trusted(self, host: str) -> bool:
        known = self._trusted_peers.get(host)
        if known is None:
            try:
                addr = ipaddress.ip_address(host)
                known = any(addr in net for net in self.trusted)
            except ValueError:
                known = False
            if len(self._trusted_peers) < 4096:
                self._trusted_peers[host] = known
        return known

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given_id = forwarded = b""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                given_id = value
            elif name == b"cf-connecting-ip" or (name == b"x-forwarded-for" and not forwarded):
                forwarded = value
        given = given_id.decode("latin-1")
        rid = (
            given
            if given and _SAFE_ID.match(given)
            else f"{_ID_PREFIX}{next(_ID_COUNTER) & 0xFFFFFFFF:08x}"
        )
        token = request_id.set(rid)
        peer = scope["client"][0] if scope.get("client") else ""
        client = peer
        if forwarded and peer and self._is_trusted(peer):
            candidate = forwarded.decode("latin-1").split(",")[-1].strip()
            if _is_ip(candidate):  # anything else is log forgery, not an address
                client = candidate
                scope = {**scope, "client": (client, 0)}
        status = 500
        started = time.perf_counter()
        raw_rid = rid.encode()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", raw_rid)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            if self.histogram is not None:
                self._observe(scope, status, elapsed)
            if self.access_log:
                access(
                    rid,
                    client,
                    scope["method"],
                    scope["path"],
                    scope.get("query_string", b""),
                    status,
                    elapsed * 1000,
                )
            request_id.reset(token)

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        route = scope.get("route")
        path = getattr(route, "path", UNMATCHED)
        method = scope["method"]
        key = (method, path, status)
        timer = self._timers.get(key)
        if timer is None:
            assert self.histogram is not None
            label = method if method in _METHODS else "OTHER"
            timer = self.histogram.labels(label, path, STATUS_CLASSES[status // 100 % 10])
            if len(self._timers) < 4096:
                self._timers[key] = timer
        timer.observe(seconds)


class BodyLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit() or int(value) > self.max_bytes:
                    await _refuse(send, self.max_bytes)
                    return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # FastAPI re-raises HTTPException from body parsing as is.
                    raise HTTPException(413, _too_large(self.max_bytes))
            return message

        await self.app(scope, limited, send)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _too_large(limit: int) -> str:
    return f"request body larger than {limit} bytes"


async def _refuse(send: Send, limit: int) -> None:
    body = ('{"detail":"' + _too_large(limit) + '"}').encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
