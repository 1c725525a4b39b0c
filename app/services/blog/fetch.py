"""Polite, guarded HTTP fetching, modelled on Miniflux: robots.txt, conditional GETs, Retry-After.

The Fetcher owns its own httpx client over a GuardedTransport (guard.py): every request
names the configured blog URL it came from, and the connection is refused unless the
address is allowed for that blog. Redirects are followed here, one hop at a time, so each
hop gets the same address check and its own host's robots.txt. The body is read as a
stream so the size cap holds before the memory is spent, and one deadline covers the
whole exchange: httpx's timeouts are per read, so a server that trickles a byte every
few seconds would otherwise never time out.

The app's other outbound client (`make_http_client`, used for a local Ollama the owner
configured) is deliberately not guarded: nothing a feed says ever reaches it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from urllib.parse import urljoin, urlsplit

import anyio
import anyio.to_thread
import httpx
from protego import Protego

from app import __version__
from app.errors import FetchError
from app.services.blog.charset import decode_body
from app.services.blog.guard import TRUSTED_HOST, GuardedTransport, IsPublic, UnsafeAddressError
from app.services.blog.guard import is_public as default_is_public
from app.services.blog.response import FetchResult, parse_retry_after
from app.values import iso_utc

log = logging.getLogger(__name__)

USER_AGENT = f"Hearth/{__version__} (+https://github.com/hearth-home/hearth)"
MAX_BODY_BYTES = 15 * 1024 * 1024
TOTAL_TIMEOUT_S = 30.0
MAX_CRAWL_DELAY_S = 30.0
MAX_REDIRECTS = 5
_REDIRECTS = {301, 302, 303, 307, 308}

__all__ = ["FetchResult", "UnsafeAddressError", "decode_body", "parse_retry_after"]


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
    """The app's client for services the owner configured (Ollama); close it in the lifespan."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
        follow_redirects=True,
        max_redirects=5,
        headers={"User-Agent": USER_AGENT},
    )


class Fetcher:
    """Fetches for one long-lived service; remembers robots rules and hosts' Retry-After."""

    def __init__(
        self,
        *,
        is_public: IsPublic = default_is_public,
        max_bytes: int = MAX_BODY_BYTES,
        total_timeout: float = TOTAL_TIMEOUT_S,
        connect_timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = httpx.AsyncClient(
            transport=GuardedTransport(is_public=is_public),
            timeout=httpx.Timeout(total_timeout, connect=connect_timeout),
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
        )
        self.max_bytes = max_bytes
        self.total_timeout = total_timeout
        self.clock = clock
        self.retry_not_before: dict[str, float] = {}
        self._robots: dict[str, Protego | None] = {}  # origin -> rules; None = disallow all

    async def aclose(self) -> None:
        await self.client.aclose()

    def begin_run(self) -> None:
        """A new scrape run: robots.txt files are read again, once per host per run."""
        self._robots = {}

    def waiting_until(self, url: str) -> float | None:
        until = self.retry_not_before.get(_origin(url))
        return until if until is not None and until > self.clock() else None

    async def fetch(
        self,
        url: str,
        *,
        origin: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResult:
        """GET `url` politely on behalf of the configured URL `origin` (default: `url` itself).

        Raises FetchError (or a subclass) for anything but 2xx/304; UnsafeAddressError when
        `url` or a redirect leads to an address not allowed for `origin`.
        """
        trusted = (urlsplit(origin or url).hostname or "").lower()
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        result = await self._get(url, trusted, headers, polite=True)
        if result.status in (429, 503):
            until = parse_retry_after(result.headers.get("retry-after"), self.clock())
            if until is not None:
                self.retry_not_before[_origin(result.url)] = until
                raise RetryLaterError(
                    f"HTTP {result.status} from {result.url}: retry not before {iso_utc(until)}",
                    until,
                )
        if result.status >= 400:
            raise FetchError(f"HTTP {result.status} from {result.url}")
        return result

    async def allowed(self, url: str, trusted: str) -> bool:
        rules = await self._rules(url, trusted)
        return rules is not None and rules.can_fetch(url, USER_AGENT)

    async def crawl_delay(self, url: str, *, origin: str | None = None) -> float:
        """The host's Crawl-delay for us (capped), 0 when it sets none."""
        rules = await self._rules(url, (urlsplit(origin or url).hostname or "").lower())
        delay = rules.crawl_delay(USER_AGENT) if rules is not None else None
        return min(float(delay or 0.0), MAX_CRAWL_DELAY_S)

    async def _rules(self, url: str, trusted: str) -> Protego | None:
        """robots.txt per RFC 9309: 4xx means allow all, 5xx or no answer means disallow."""
        host = _origin(url)
        if host in self._robots:
            return self._robots[host]
        rules: Protego | None
        try:
            result = await self._get(host + "/robots.txt", trusted, {}, polite=False)
        except UnsafeAddressError:
            raise
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
        self._robots[host] = rules
        return rules

    async def _get(
        self, url: str, trusted: str, headers: dict[str, str], *, polite: bool
    ) -> FetchResult:
        """One GET with redirects followed by hand; `polite` checks Retry-After and robots."""
        try:
            with anyio.fail_after(self.total_timeout):
                for _hop in range(MAX_REDIRECTS + 1):
                    if polite:
                        await self._may_fetch(url, trusted)
                    result, location = await self._exchange(url, trusted, headers)
                    if location is None:
                        return result
                    url = location
        except TimeoutError as exc:
            raise FetchError(f"{url} took longer than {self.total_timeout:g} s") from exc
        raise FetchError(f"too many redirects, last to {url}")

    async def _may_fetch(self, url: str, trusted: str) -> None:
        until = self.waiting_until(url)
        if until is not None:
            raise RetryLaterError(f"{_origin(url)} asked us to wait until {iso_utc(until)}", until)
        if not await self.allowed(url, trusted):
            raise RobotsDisallowedError(f"robots.txt disallows {url}")

    async def _exchange(
        self, url: str, trusted: str, headers: dict[str, str]
    ) -> tuple[FetchResult, str | None]:
        """One request: the result, or the next hop's absolute URL for a redirect."""
        if urlsplit(url).scheme not in ("http", "https"):
            raise UnsafeAddressError(f"refused: {url} is not an http(s) URL")
        extensions = {TRUSTED_HOST: trusted}
        try:
            async with self.client.stream(
                "GET", url, headers=headers, extensions=extensions
            ) as response:
                location = response.headers.get("location")
                if response.status_code in _REDIRECTS and location:
                    return FetchResult(url, response.status_code), urljoin(url, location.strip())
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
        except httpx.HTTPError as exc:
            raise FetchError(f"cannot fetch {url}: {type(exc).__name__} {exc}".strip()) from exc
        headers_out = {k.lower(): v for k, v in response.headers.items()}
        return FetchResult(url, response.status_code, b"".join(chunks), headers_out), None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}"
