"""The proxy-aware request context: the real client IP only from a trusted proxy."""

from __future__ import annotations

import asyncio
import logging

import pytest
from starlette.types import Message, Receive, Scope, Send

from app.api.middleware import RequestContext


def _run(peer: str, headers: list[tuple[bytes, bytes]]) -> tuple[str, dict[bytes, bytes]]:
    seen: dict[str, str] = {}
    sent: list[Message] = []

    async def app(scope: Scope, _receive: Receive, send: Send) -> None:
        seen["client"] = scope["client"][0]
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    middleware = RequestContext(app, trusted_proxies=["127.0.0.1", "::1"], access_log=True)
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/v1/state",
        "headers": headers,
        "client": (peer, 5555),
    }
    asyncio.run(middleware(scope, receive, send))
    return seen["client"], dict(sent[0]["headers"])


def test_cloudflare_client_ip_is_used_behind_a_loopback_proxy(
    caplog: pytest.LogCaptureFixture,
) -> None:
    headers = [(b"x-forwarded-for", b"10.0.0.9"), (b"cf-connecting-ip", b"203.0.113.7")]
    with caplog.at_level(logging.INFO, logger="hearth.access"):
        client, response_headers = _run("127.0.0.1", headers)
    assert client == "203.0.113.7"
    assert "203.0.113.7" in caplog.text and response_headers[b"x-request-id"]


def test_forwarded_headers_from_an_untrusted_peer_are_ignored() -> None:
    client, _ = _run("198.51.100.4", [(b"cf-connecting-ip", b"203.0.113.7")])
    assert client == "198.51.100.4"
