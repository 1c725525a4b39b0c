"""A real local HTTP server whose answers each test scripts, and a recording event sink."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from app.storage.document import DurableDocument
from app.storage.events.types import NewEvent

Handler = Callable[["_Handler"], None]


@dataclass
class Reply:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None  # answer 304 when the client sends this tag back


class Site:
    """Routes by path; every request is logged as (path, headers) for assertions."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.routes: dict[str, Reply | Handler] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()

    def url(self, path: str) -> str:
        return self.base_url + path

    def add(self, path: str, body: str | bytes = b"", **kwargs: Any) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.routes[path] = Reply(data, **kwargs)

    def hits(self, path: str) -> int:
        with self._lock:
            return sum(1 for p, _ in self.requests if p == path)

    def headers_of(self, path: str) -> list[dict[str, str]]:
        with self._lock:
            return [h for p, h in self.requests if p == path]

    def log(self, path: str, headers: dict[str, str]) -> None:
        with self._lock:
            self.requests.append((path, headers))


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        site = self.server.site
        site.log(self.path, {k.lower(): v for k, v in self.headers.items()})
        route = site.routes.get(self.path)
        if route is None:
            self.reply(Reply(b"not here", status=404))
        elif isinstance(route, Reply):
            self.reply(route)
        else:
            route(self)

    def do_POST(self) -> None:  # noqa: N802
        """POST routes are keyed "POST /path"; unknown ones get 501 like an old server."""
        site = self.server.site
        site.log("POST " + self.path, {k.lower(): v for k, v in self.headers.items()})
        route = site.routes.get("POST " + self.path)
        if route is None:
            self.reply(Reply(b"no", status=501))
        elif isinstance(route, Reply):
            self.reply(route)
        else:
            route(self)

    def reply(self, reply: Reply) -> None:
        if reply.etag and self.headers.get("If-None-Match") == reply.etag:
            self.send_response(304)
            self.send_header("ETag", reply.etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(reply.status)
        headers = {"Content-Type": "text/html; charset=utf-8", **reply.headers}
        if reply.etag:
            headers["ETag"] = reply.etag
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    site: Site


class RecordingSink:
    """The EventSink a test can read back: every upsert call's events."""

    def __init__(self) -> None:
        self.calls: list[list[NewEvent]] = []

    async def upsert(self, events: list[NewEvent]) -> None:
        self.calls.append(list(events))

    @property
    def events(self) -> list[NewEvent]:
        return [e for call in self.calls for e in call]


def cache_document(path: Path) -> DurableDocument[list[dict[str, Any]]]:
    """blog_cache.json the way the lead's StateManager builds it (a JSON array)."""

    def decode(data: bytes) -> list[dict[str, Any]]:
        value = json.loads(data)
        if not isinstance(value, list):
            raise ValueError("not a list")
        return value

    return DurableDocument(
        path,
        encode=lambda v: json.dumps(v, sort_keys=True, indent=1).encode(),
        decode=decode,
        default=list,
    )


CLUTTER = ("NAVMENU", "SIDEBARWIDGET", "COMMENTSPAM", "FOOTERCOPY", "SCRIPTJUNK", "COOKIEBAR")


def themed_page(
    title: str,
    paragraphs: list[str],
    *,
    published: str | None = "2026-11-01T08:00:00Z",
    canonical: str | None = None,
    charset: str = "utf-8",
    extra_head: str = "",
) -> str:
    """A blog theme around the post: every CLUTTER word sits outside the article."""
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    meta = f'<meta property="article:published_time" content="{published}">' if published else ""
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    return f"""<!DOCTYPE html>
<html><head><meta charset="{charset}"><title>{title} | Example Blog</title>
<meta property="og:title" content="{title}">{meta}{link}{extra_head}
<script>var tracker = "SCRIPTJUNK"; window.x = 1;</script>
<style>.nav {{ color: red }}</style></head>
<body>
<header><nav class="nav"><a href="/">Home</a> <a href="/about">About NAVMENU</a></nav></header>
<div class="cookie-banner">We use cookies COOKIEBAR <button>OK</button></div>
<main><article class="post">
<h1>{title}</h1>
{body}
</article>
<section id="comments" class="comments">
<h3>3 comments</h3>
<div class="comment"><p>Great post! Buy cheap watches COMMENTSPAM at example.net today.</p></div>
<div class="comment"><p>I disagree with everything COMMENTSPAM, see my site.</p></div>
</section></main>
<aside class="sidebar"><h3>Archives</h3><ul><li>October SIDEBARWIDGET</li></ul></aside>
<footer><p>Copyright 2026 FOOTERCOPY. All rights reserved.</p></footer>
<script>document.write("SCRIPTJUNK")</script>
</body></html>"""


LOREM = [
    "Our small town finally opened the new public library after three years of building work,"
    " and the reading room is already full every afternoon.",
    "The architects kept the old brick facade of the former post office and added a glass hall"
    " behind it, which lets daylight reach the shelves all day long.",
    "Volunteers moved more than forty thousand books in a single weekend, passing boxes hand to"
    " hand along the high street while the bakery handed out coffee.",
    "The children's corner has a reading tree, low shelves and a small stage where local"
    " authors will read their stories every Saturday morning.",
    "Opening hours are longer than before: the library now stays open until nine in the evening"
    " on weekdays, so people who work late can still borrow books.",
]
