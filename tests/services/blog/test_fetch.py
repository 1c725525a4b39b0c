"""The polite fetcher against a real local HTTP server."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import AsyncIterator, Callable
from email.utils import formatdate
from typing import Any

import httpx
import pytest

from app.errors import FetchError
from app.services.blog.fetch import (
    USER_AGENT,
    Fetcher,
    RetryLaterError,
    RobotsDisallowedError,
    parse_retry_after,
)
from app.services.blog.guard import GuardedTransport, IPAddress, UnsafeAddressError, is_public
from app.services.blog.guard import kind as guard_kind
from tests.utils.blog_server import recording_server
from tests.utils.site import Reply, Site, _Handler

pytestmark = pytest.mark.anyio


MakeFetcher = Callable[..., Fetcher]


@pytest.fixture
async def make_fetcher() -> AsyncIterator[MakeFetcher]:
    made: list[Fetcher] = []

    def build(**options: Any) -> Fetcher:
        made.append(Fetcher(**options))
        return made[-1]

    yield build
    for fetcher in made:
        await fetcher.aclose()


async def test_robots_wildcard_rules_are_honoured_and_cached(
    site: Site, make_fetcher: MakeFetcher
) -> None:
    site.add(
        "/robots.txt",
        "User-agent: *\nDisallow: /private/*.html$\n",
        headers={"Content-Type": "text/plain"},
    )
    site.add("/private/notes.txt", "fine")
    site.add("/private/secret.html", "secret")
    fetcher = make_fetcher()
    assert (await fetcher.fetch(site.url("/private/notes.txt"))).content == b"fine"
    with pytest.raises(RobotsDisallowedError):
        await fetcher.fetch(site.url("/private/secret.html"))
    assert site.hits("/private/secret.html") == 0
    assert site.hits("/robots.txt") == 1
    assert site.headers_of("/private/notes.txt")[0]["user-agent"] == USER_AGENT


async def test_robots_404_allows_all_but_5xx_disallows_for_the_run(
    site: Site, make_fetcher: MakeFetcher
) -> None:
    site.add("/page", "hello")
    fetcher = make_fetcher()
    assert (await fetcher.fetch(site.url("/page"))).content == b"hello"  # robots.txt is 404

    site.routes["/robots.txt"] = Reply(b"oops", status=503)
    fetcher = make_fetcher()
    with pytest.raises(RobotsDisallowedError):
        await fetcher.fetch(site.url("/page"))
    with pytest.raises(RobotsDisallowedError):
        await fetcher.fetch(site.url("/page"))
    assert site.hits("/robots.txt") == 2  # one 404, then one 503 remembered for the run
    site.add("/robots.txt", "User-agent: *\nAllow: /\n")
    fetcher.begin_run()
    assert (await fetcher.fetch(site.url("/page"))).content == b"hello"


async def test_conditional_get_gets_304(site: Site, make_fetcher: MakeFetcher) -> None:
    site.add("/feed", "<rss/>", etag='"v1"', headers={"Last-Modified": formatdate(usegmt=True)})
    fetcher = make_fetcher()
    first = await fetcher.fetch(site.url("/feed"))
    assert first.status == 200 and first.etag == '"v1"' and first.last_modified
    second = await fetcher.fetch(
        site.url("/feed"), etag=first.etag, last_modified=first.last_modified
    )
    assert second.not_modified and second.content == b""
    sent = site.headers_of("/feed")[1]
    assert sent["if-none-match"] == '"v1"' and sent["if-modified-since"] == first.last_modified


async def test_429_retry_after_defers_the_host_without_retrying(
    site: Site, make_fetcher: MakeFetcher
) -> None:
    site.add("/a", "slow down", status=429, headers={"Retry-After": "120"})
    site.add("/b", "other page")
    now = [1_000_000.0]
    fetcher = make_fetcher(clock=lambda: now[0])
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
    site: Site, make_fetcher: MakeFetcher
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
    fetcher = make_fetcher(max_bytes=256 * 1024)
    with pytest.raises(FetchError, match="cap"):
        await fetcher.fetch(site.url("/huge"))
    with pytest.raises(FetchError, match="over the cap"):
        await fetcher.fetch(site.url("/declared"))
    assert sent["bytes"] < 12 * 1024 * 1024


async def test_redirect_loop_is_an_error(site: Site, make_fetcher: MakeFetcher) -> None:
    site.add("/loop-a", status=302, headers={"Location": "/loop-b"})
    site.add("/loop-b", status=302, headers={"Location": "/loop-a"})
    with pytest.raises(FetchError, match="too many redirects"):
        await make_fetcher().fetch(site.url("/loop-a"))


async def test_a_server_that_never_answers_times_out(
    silent_server: str, make_fetcher: MakeFetcher
) -> None:
    fetcher = make_fetcher(total_timeout=0.5)
    start = time.monotonic()
    with pytest.raises(FetchError):  # robots.txt times out first: no answer = disallow
        await fetcher.fetch(silent_server + "/page")
    assert time.monotonic() - start < 5


async def test_non_utf8_pages_decode_by_declared_charset(
    site: Site, make_fetcher: MakeFetcher
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
    fetcher = make_fetcher()
    assert russian in (await fetcher.fetch(site.url("/ru"))).text
    assert "Déjà vu à Noël" in (await fetcher.fetch(site.url("/fr"))).text
    assert "Привет" in (await fetcher.fetch(site.url("/guess"))).text


async def test_a_trickling_body_hits_the_total_deadline(
    site: Site, make_fetcher: MakeFetcher
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
    fetcher = make_fetcher(total_timeout=1.0)
    start = time.monotonic()
    with pytest.raises(FetchError, match=r"longer than 1 s"):
        await fetcher.fetch(site.url("/trickle"))
    assert time.monotonic() - start < 3


# --- where the scraper may connect (guard.py) ----------------------------------------


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.2", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "cloud metadata"),
        ("169.254.10.1", "link-local"),
        ("100.64.0.1", "not globally routable"),
        ("::1", "loopback"),
        ("::ffff:192.168.1.1", "private"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("93.184.216.34", None),
        ("2606:4700::1111", None),
    ],
)
def test_address_kinds(address: str, kind: str | None) -> None:
    assert guard_kind(ipaddress.ip_address(address)) == kind  # pure: nothing is contacted


async def test_a_link_to_another_loopback_host_is_refused_before_any_request(
    site: Site, make_fetcher: MakeFetcher
) -> None:
    with recording_server("127.0.0.2") as (other, seen):
        fetcher = make_fetcher()
        with pytest.raises(UnsafeAddressError, match=r"127\.0\.0\.2 \(loopback\)"):
            await fetcher.fetch(other + "/admin", origin=site.url("/feed.xml"))
        assert seen == []  # not even robots.txt


async def test_every_redirect_hop_is_checked(site: Site, make_fetcher: MakeFetcher) -> None:
    with recording_server("127.0.0.2") as (other, seen):
        site.add("/go", status=302, headers={"Location": other + "/latest/meta-data/"})
        site.add("/hop", status=301, headers={"Location": "/go"})
        with pytest.raises(UnsafeAddressError, match="refused"):
            await make_fetcher().fetch(site.url("/hop"))
        assert seen == []
        assert site.hits("/hop") == 1 and site.hits("/go") == 1  # same host: followed


async def test_a_public_host_is_fetched_with_its_own_robots(
    site: Site, make_fetcher: MakeFetcher
) -> None:
    chosen = ipaddress.ip_address("127.0.0.2")  # stands in for a public address

    def public(address: IPAddress) -> bool:
        return address == chosen or is_public(address)

    with recording_server("127.0.0.2") as (other, seen):
        site.add("/go", status=302, headers={"Location": other + "/post"})
        fetcher = make_fetcher(is_public=public)
        result = await fetcher.fetch(site.url("/go"))
        assert result.url == other + "/post" and b"admin" in result.content
        assert seen == ["/robots.txt", "/post"]
        await fetcher.fetch(other + "/post", origin=site.url("/"))
        assert seen.count("/robots.txt") == 1  # robots.txt once per host per run
        fetcher.begin_run()
        await fetcher.fetch(other + "/post", origin=site.url("/"))
        assert seen.count("/robots.txt") == 2


async def test_the_configured_host_is_trusted_on_any_port(
    site: Site, make_fetcher: MakeFetcher
) -> None:
    with recording_server("127.0.0.1") as (same_host, seen):
        await make_fetcher().fetch(same_host + "/post", origin=site.url("/feed.xml"))
        assert seen == ["/robots.txt", "/post"]


async def test_a_request_without_a_trust_scope_is_refused() -> None:
    transport = GuardedTransport()
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(UnsafeAddressError):
            await client.get("http://127.0.0.1:9/")


async def test_iso_8859_1_pages_decode_as_cp1252(site: Site, make_fetcher: MakeFetcher) -> None:
    text = "“Smart quotes” – and a euro sign: €5"
    site.add(
        "/cp", text.encode("cp1252"), headers={"Content-Type": "text/html; charset=ISO-8859-1"}
    )
    assert (await make_fetcher().fetch(site.url("/cp"))).text == text
