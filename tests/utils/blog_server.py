"""A small real blog (feed, article with theme clutter, robots.txt) on a local port, and a
recording server on a second loopback address that the scraper must never reach."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARTICLE = """<html><head><title>Walking in the rain | My blog</title>
<script>var tracker = "SECRET-TRACKER";</script></head><body>
<nav>Home About Archive</nav>
<article><h1>Walking in the rain</h1>
<p>Yesterday I walked home through the rain and noticed how quiet the streets were.</p>
<p>The walk gave me time to think about the work week and what matters to me.</p>
<p>I want to keep walking more often, even when the weather is bad.</p></article>
<aside>Sidebar: popular posts</aside>
<section class="comments">Comment: great post, buy my pills</section>
<footer>Copyright footer text</footer></body></html>"""


class BlogHandler(BaseHTTPRequestHandler):
    slow = threading.Event()

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        if self.path == "/feed.xml":
            if self.slow.is_set():
                time.sleep(2)
            body = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>My blog</title>
<item><title>Walking in the rain</title><link>{base}/rain.html</link>
<guid>rain-1</guid><pubDate>Sat, 21 Nov 2026 08:00:00 GMT</pubDate></item>
</channel></rss>""".encode()
            ctype = "application/rss+xml"
        elif self.path == "/rain.html":
            body, ctype = ARTICLE.encode(), "text/html; charset=utf-8"
        elif self.path == "/robots.txt":
            body, ctype = b"User-agent: *\nAllow: /\n", "text/plain"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


class Recorder(BaseHTTPRequestHandler):
    """A server that must not be contacted: it records every request it gets, and answers."""

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self.server.seen.append(self.path)  # type: ignore[attr-defined]
        body = b"<html><body><p>internal admin page</p></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@contextmanager
def recording_server(host: str = "127.0.0.2") -> Iterator[tuple[str, list[str]]]:
    """A loopback alias standing in for a private address: (base URL, paths requested)."""
    server = ThreadingHTTPServer((host, 0), Recorder)
    server.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}", server.seen  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
