"""Polite HTTP fetching, modelled on Miniflux: robots.txt, conditional GETs, Retry-After.

Every request goes through one shared httpx.AsyncClient made by `make_http_client`. The
body is read as a stream so the size cap holds before the memory is spent, and one
deadline covers the whole exchange: httpx's own timeouts are per read, so a server
that trickles a byte every few seconds would otherwise never time out.
"""

from __future__ import annotations

import codecs
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import anyio
import anyio.to_thread
import charset_normalizer
import httpx
from protego import Protego

from app import __version__
from app.errors import FetchError
from app.values import iso_utc

log = logging.getLogger(__name__)

USER_AGENT = f"Hearth/{__version__} (+https://github.com/hearth-home/hearth)"
MAX_BODY_BYTES = 15 * 1024 * 1024
TOTAL_TIMEOUT_S = 30.0
MAX_RETRY_AFTER_S = 24 * 3600.0
ROBOTS_TTL_S = 3600.0
MAX_CRAWL_DELAY_S = 30.0
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_:.\-]+)""", re.I)


class RetryLaterError(FetchError):
    """The host asked us (429/503 Retry-After) to come back later."""

    def __init__(self, message: str, until: float) -> None:
        super().__init__(message)
        self.until = until


class RobotsDisallowedError(FetchError):
    """robots.txt forbids the URL (or could not be read: RFC 9309 says assume so)."""


def make_http_client(
    *, connect_timeout: float = 10.0, read_timeout: float = TOTAL_TIMEOUT_S
) -> httpx.AsyncClient:
    """The one client the app shares; close it in the lifespan."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
        follow_redirects=True,
        max_redirects=5,
        headers={"User-Agent": USER_AGENT},
    )


@dataclass(frozen=True)
class FetchResult:
    url: str
    status: int
    content: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def text(self) -> str:
        return decode_body(self.content, self.headers.get("content-type"))

    async def decoded(self) -> str:
        """`text` off the event loop: charset detection on megabytes takes a while."""
        content_type = self.headers.get("content-type")
        return await anyio.to_thread.run_sync(decode_body, self.content, content_type)


def _known(name: str | bytes | None) -> str | None:
    if not name:
        return None
    label = name.decode("ascii", "ignore") if isinstance(name, bytes) else name
    try:
        return codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None


def decode_body(content: bytes, content_type: str | None) -> str:
    """Text in the declared charset (header, BOM, then <meta>), else UTF-8, else detected."""
    declared = None
    if content_type and "charset=" in content_type.lower():
        declared = _known(content_type.lower().split("charset=", 1)[1].split(";")[0])
    if declared is None and content.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE)):
        declared = "utf-8-sig" if content.startswith(codecs.BOM_UTF8) else "utf-16"
    if declared is None:
        match = _META_CHARSET.search(content[:4096])
        declared = _known(match.group(1)) if match else None
    if declared is not None:
        return content.decode(declared, errors="replace")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        best = charset_normalizer.from_bytes(content).best()
        return str(best) if best is not None else content.decode("utf-8", errors="replace")


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Retry-After as an absolute time: delta seconds or an HTTP date, capped at 24 h."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        delay = float(value)
    else:
        try:
            delay = parsedate_to_datetime(value).timestamp() - now
        except (TypeError, ValueError, IndexError):
            return None
    return now + min(max(delay, 0.0), MAX_RETRY_AFTER_S)


class Fetcher:
    """Fetches for one long-lived service; remembers robots rules and hosts' Retry-After."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        max_bytes: int = MAX_BODY_BYTES,
        total_timeout: float = TOTAL_TIMEOUT_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.max_bytes = max_bytes
        self.total_timeout = total_timeout
        self.clock = clock
        self.retry_not_before: dict[str, float] = {}
        # host -> (rules, expires); None rules = unreachable robots.txt = disallow all
        self._robots: dict[str, tuple[Protego | None, float]] = {}

    def begin_run(self) -> None:
        """A new scrape run: robots.txt files that could not be read are tried again."""
        self._robots = {h: entry for h, entry in self._robots.items() if entry[0] is not None}

    def waiting_until(self, url: str) -> float | None:
        until = self.retry_not_before.get(_host(url))
        return until if until is not None and until > self.clock() else None

    async def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """GET `url` politely; raises FetchError (or a subclass) for anything but 2xx/304."""
        until = self.waiting_until(url)
        if until is not None:
            raise RetryLaterError(f"{_host(url)} asked us to wait until {iso_utc(until)}", until)
        if not await self.allowed(url):
            raise RobotsDisallowedError(f"robots.txt disallows {url}")
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        result = await self._get(url, headers)
        if result.status in (429, 503):
            until = parse_retry_after(result.headers.get("retry-after"), self.clock())
            if until is not None:
                self.retry_not_before[_host(url)] = until
                raise RetryLaterError(
                    f"HTTP {result.status} from {url}: retry not before {iso_utc(until)}", until
                )
        if result.status >= 400:
            raise FetchError(f"HTTP {result.status} from {url}")
        return result

    async def allowed(self, url: str) -> bool:
        rules = await self._rules(url)
        return rules is not None and rules.can_fetch(url, USER_AGENT)

    async def crawl_delay(self, url: str) -> float:
        """The host's Crawl-delay for us (capped), 0 when it sets none."""
        rules = await self._rules(url)
        delay = rules.crawl_delay(USER_AGENT) if rules is not None else None
        return min(float(delay or 0.0), MAX_CRAWL_DELAY_S)

    async def _rules(self, url: str) -> Protego | None:
        """robots.txt per RFC 9309: 4xx means allow all, 5xx or no answer means disallow."""
        host = _host(url)
        cached = self._robots.get(host)
        if cached is not None and (cached[0] is None or cached[1] > self.clock()):
            return cached[0]
        rules: Protego | None
        try:
            result = await self._get(host + "/robots.txt")
        except FetchError as exc:
            log.warning("robots.txt of %s unreachable (%s): not fetching there this run", host, exc)
            rules = None
        else:
            if result.status < 300:
                rules = Protego.parse(result.text)
            elif 400 <= result.status < 500 and result.status != 429:
                rules = Protego.parse("")
            else:
                log.warning("robots.txt of %s: HTTP %s, not fetching there", host, result.status)
                rules = None
        self._robots[host] = (rules, self.clock() + ROBOTS_TTL_S)
        return rules

    async def _get(self, url: str, headers: dict[str, str] | None = None) -> FetchResult:
        try:
            with anyio.fail_after(self.total_timeout):
                async with self.client.stream("GET", url, headers=headers) as response:
                    declared = response.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > self.max_bytes:
                        raise FetchError(f"{url} is {int(declared)} bytes, over the cap")
                    chunks: list[bytes] = []
                    size = 0
                    async for chunk in response.aiter_bytes():
                        size += len(chunk)
                        if size > self.max_bytes:
                            raise FetchError(f"{url} is over the {self.max_bytes}-byte cap")
                        chunks.append(chunk)
        except TimeoutError as exc:
            raise FetchError(f"{url} took longer than {self.total_timeout:g} s") from exc
        except httpx.TooManyRedirects as exc:
            raise FetchError(f"too many redirects from {url}") from exc
        except httpx.HTTPError as exc:
            raise FetchError(f"cannot fetch {url}: {type(exc).__name__} {exc}".strip()) from exc
        return FetchResult(
            url=str(response.url),
            status=response.status_code,
            content=b"".join(chunks),
            headers={k.lower(): v for k, v in response.headers.items()},
        )


def _host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}"
