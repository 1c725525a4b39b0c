"""The polite fetcher against a real local HTTP server."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from email.utils import formatdate

import httpx
import pytest

from app.errors import FetchError
from app.services.blog.fetch import (
    USER_AGENT,
    Fetcher,
    RetryLaterError,
    RobotsDisallowedError,
    make_http_client,
    parse_retry_after,
)
from tests.utils.site import Reply, Site, _Handler

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_http_client() as http:
        yield http


async def test_robots_wildcard_rules_are_honoured_and_cached(
    site: Site, client: httpx.AsyncClient
) -> None:
    site.add(
        "/robots.txt",
        "User-agent: *\nDisallow: /private/*.html$\n",
        headers={"Content-Type": "text/plain"},
    )
    site.add("/private/notes.txt", "fine")
    site.add("/private/secret.html", "secret")
    fetcher = Fetcher(client)
    assert (await fetcher.fetch(site.url("/private/notes.txt"))).content == b"fine"
    with pytest.raises(RobotsDisallowedError):
        await fetcher.fetch(site.url("/private/secret.html"))
    assert site.hits("/private/secret.html") == 0
    assert site.hits("/robots.txt") == 1
    assert site.headers_of("/private/notes.txt")[0]["user-agent"] == USER_AGENT


async def test_robots_404_allows_all_but_5xx_disallows_for_the_run(
    site: Site, client: httpx.AsyncClient
) -> None:
    site.add("/page", "hello")
    fetcher = Fetcher(client)
    assert (await fetcher.fetch(site.url("/page"))).content == b"hello"  # robots.txt is 404

    site.routes["/robots.txt"] = Reply(b"oops", status=503)
    fetcher = Fetcher(client)
    with pytest.raises(RobotsDisallowedError):
        await fetcher.fetch(site.url("/page"))
    with pytest.raises(RobotsDisallowedError):
        await fetcher.fetch(site.url("/page"))
    assert site.hits("/robots.txt") == 2  # one 404, then one 503 remembered for the run
    site.add("/robots.txt", "User-agent: *\nAllow: /\n")
    fetcher.begin_run()
    assert (await fetcher.fetch(site.url("/page"))).content == b"hello"


async def test_conditional_get_gets_304(site: Site, client: httpx.AsyncClient) -> None:
    site.add("/feed", "<rss/>", etag='"v1"', headers={"Last-Modified": formatdate(usegmt=True)})
    fetcher = Fetcher(client)
    first = await fetcher.fetch(site.url("/feed"))
    assert first.status == 200 and first.etag == '"v1"' and first.last_modified
    second = await fetcher.fetch(
        site.url("/feed"), etag=first.etag, last_modified=first.last_modified
    )
    assert second.not_modified and second.content == b""
    sent = site.headers_of("/feed")[1]
    assert sent["if-none-match"] == '"v1"' and sent["if-modified-since"] == first.last_modified


async def test_429_retry_after_defers_the_host_without_retrying(
    site: Site, client: httpx.AsyncClient
) -> None:
    site.add("/a", "slow down", status=429, headers={"Retry-After": "120"})
    site.add("/b", "other page")
    now = [1_000_000.0]
    fetcher = Fetcher(client, clock=lambda: now[0])
    with pytest.raises(RetryLaterError) as caught:
        await fetcher.fetch(site.url("/a"))
    assert caught.value.until == 1_000_120.0
    with pytest.raises(RetryLaterError):
        await fetcher.fetch(site.url("/b"))
    assert site.hits("/b") == 0
    now[0] += 121
    assert (await fetcher.fetch(site.url("/b"))).content == b"other page"


def test_retry_after_accepts_http_dates_and_caps_huge_values() -> None:
    now = time.time()
    in_an_hour = formatdate(now + 3600, usegmt=True)
    assert parse_retry_after(in_an_hour, now) == pytest.approx(now + 3600, abs=2)
    assert parse_retry_after("99999999", now) == now + 24 * 3600
    assert parse_retry_after("soon", now) is None


async def test_body_over_the_cap_is_refused_while_streaming(
    site: Site, client: httpx.AsyncClient
) -> None:
    sent = {"bytes": 0}

    def endless(handler: _Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        chunk = b"x" * 65536
        try:
            for _ in range(200):  # 12.5 MiB if nobody stops reading
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent["bytes"] += len(chunk)
            handler.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass

    site.routes["/huge"] = endless
    site.add("/declared", b"y" * 300_000)
    fetcher = Fetcher(client, max_bytes=256 * 1024)
    with pytest.raises(FetchError, match="cap"):
        await fetcher.fetch(site.url("/huge"))
    with pytest.raises(FetchError, match="over the cap"):
        await fetcher.fetch(site.url("/declared"))
    assert sent["bytes"] < 12 * 1024 * 1024


async def test_redirect_loop_is_an_error(site: Site, client: httpx.AsyncClient) -> None:
    site.add("/loop-a", status=302, headers={"Location": "/loop-b"})
    site.add("/loop-b", status=302, headers={"Location": "/loop-a"})
    with pytest.raises(FetchError, match="too many redirects"):
        await Fetcher(client).fetch(site.url("/loop-a"))


async def test_a_server_that_never_answers_times_out(
    silent_server: str, client: httpx.AsyncClient
) -> None:
    fetcher = Fetcher(client, total_timeout=0.5)
    start = time.monotonic()
    with pytest.raises(FetchError):  # robots.txt times out first: no answer = disallow
        await fetcher.fetch(silent_server + "/page")
    assert time.monotonic() - start < 5


async def test_non_utf8_pages_decode_by_declared_charset(
    site: Site, client: httpx.AsyncClient
) -> None:
    russian = "Привет, мир: статья о погоде"
    meta_page = f'<html><head><meta charset="windows-1251"></head><body>{russian}</body></html>'
    site.add("/ru", meta_page.encode("cp1251"), headers={"Content-Type": "text/html"})
    site.add(
        "/fr",
        "<p>Déjà vu à Noël</p>".encode("latin-1"),
        headers={"Content-Type": "text/html; charset=ISO-8859-1"},
    )
    site.add(
        "/guess",
        ("<p>" + russian * 20 + "</p>").encode("cp1251"),
        headers={"Content-Type": "text/html"},
    )
    fetcher = Fetcher(client)
    assert russian in (await fetcher.fetch(site.url("/ru"))).text
    assert "Déjà vu à Noël" in (await fetcher.fetch(site.url("/fr"))).text
    assert "Привет" in (await fetcher.fetch(site.url("/guess"))).text


async def test_a_trickling_body_hits_the_total_deadline(
    site: Site, client: httpx.AsyncClient
) -> None:
    def trickle(handler: _Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "100")
        handler.end_headers()
        try:
            for _ in range(20):  # a byte every 0.2 s: no single read ever times out
                handler.wfile.write(b"x")
                handler.wfile.flush()
                time.sleep(0.2)
        except OSError:
            pass

    site.routes["/trickle"] = trickle
    fetcher = Fetcher(client, total_timeout=1.0)
    start = time.monotonic()
    with pytest.raises(FetchError, match=r"longer than 1 s"):
        await fetcher.fetch(site.url("/trickle"))
    assert time.monotonic() - start < 3
