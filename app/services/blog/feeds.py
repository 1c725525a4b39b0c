"""Feed discovery and parsing, and the per-feed state that makes runs polite.

A configured blog URL may be the feed itself or a page that advertises it with
`<link rel="alternate">`. feedparser only ever receives bytes: given a string it would
treat it as a URL or a path and fetch or open it itself, bypassing robots and caps.
"""

from __future__ import annotations

import calendar
import io
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import anyio.to_thread
import feedparser
from bs4 import BeautifulSoup

from app.errors import ExtractError
from app.services.blog.entries import FeedEntry, ParsedFeed, dedupe, plain_title
from app.services.blog.jsonfeed import parse_json_feed
from app.storage.document import DurableDocument
from app.storage.gate import WriteGate
from app.values import iso_utc

FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/json",  # JSON Feed 1.0 pages advertise it so
)
HTML_TYPES = ("text/html", "application/xhtml+xml")
JSON_TYPES = ("application/feed+json", "application/json")


def feed_kind(content: bytes, content_type: str) -> str:
    """ "xml", "json" or "html" by the bytes first: feeds are often served as text/html or
    text/plain, and a page is sometimes labelled as XML."""
    head = content[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"{", b"[")):
        return "json"
    if head.startswith((b"<rss", b"<feed", b"<rdf:rdf", b"<rdf")):
        return "xml"
    if b"<html" in head[:1024] or head.startswith(b"<!doctype html"):
        return "html"
    if head.startswith(b"<?xml") or head.startswith(b"<!--"):
        return "xml"
    if content_type in JSON_TYPES:
        return "json"
    return "html" if content_type in HTML_TYPES else "xml"


def looks_like_html(content: bytes, content_type: str) -> bool:
    return feed_kind(content, content_type) == "html"


def discover_feed(html: str, base_url: str) -> str | None:
    """The first feed the page advertises, as an absolute URL."""
    soup = BeautifulSoup(html, "lxml")
    for link in soup.find_all("link", href=True):
        rels = [r.lower() for r in (link.get("rel") or [])]
        kind = str(link.get("type") or "").lower().split(";")[0].strip()
        if "alternate" in rels and kind in FEED_TYPES:
            return urljoin(base_url, str(link["href"]))
    return None


def _timestamp(parsed: time.struct_time | None) -> float | None:
    return float(calendar.timegm(parsed)) if parsed else None


def _entry(raw: Any, base_url: str) -> FeedEntry | None:
    link = raw.get("link")
    link = urljoin(base_url, link) if link else None
    guid = raw.get("id") or link
    if not guid:
        return None
    contents = raw.get("content") or []
    html = max((c.get("value", "") for c in contents), key=len, default="")
    summary = raw.get("summary") or ""
    if len(summary) > len(html):
        html = summary
    return FeedEntry(
        guid=str(guid),
        link=link,
        title=plain_title(raw.get("title")),
        # dict.get: feedparser's own .get maps updated to published with a DeprecationWarning
        published_at=_timestamp(dict.get(raw, "published_parsed")),
        updated_at=_timestamp(dict.get(raw, "updated_parsed")),
        content_html=html,
    )


def _xml_type(content_type: str | None) -> str:
    """The header feedparser gets: XML whatever the server said, keeping its charset."""
    _kind, _, params = (content_type or "").partition(";")
    return "application/xml" + (f";{params}" if params.strip() else "")


def parse_feed_bytes(content: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    """Blocking parse of RSS, Atom or JSON Feed; a feed with parse errors but entries is used."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if feed_kind(content, kind) == "json":
        return parse_json_feed(content, url)
    headers = {"content-location": url, "content-type": _xml_type(content_type)}
    parsed = feedparser.parse(io.BytesIO(content), response_headers=headers)
    found = [_entry(raw, url) for raw in parsed.entries]
    entries, repeats = dedupe([e for e in found if e is not None])
    if not entries and parsed.get("bozo"):
        reason = parsed.get("bozo_exception") or "not a feed"
        raise ExtractError(f"malformed feed at {url}: {reason}")
    if not entries and not parsed.get("version"):
        raise ExtractError(f"no feed found at {url}")
    return ParsedFeed(plain_title(parsed.feed.get("title")), entries, repeats, ["xml"])


async def parse_feed(content: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    return await anyio.to_thread.run_sync(parse_feed_bytes, content, url, content_type)


async def find_feed(html: str, base_url: str) -> str | None:
    return await anyio.to_thread.run_sync(discover_feed, html, base_url)


# --- per-feed state (state/feeds.json) -------------------------------------------------

FEEDS_SCHEMA = 1
FAILURES_BEFORE_BACKOFF = 3
BACKOFF_BASE_S = 3600.0
BACKOFF_MAX_S = 24 * 3600.0


def default_feeds() -> dict[str, Any]:
    return {"schema": FEEDS_SCHEMA, "feeds": {}, "hosts": {}}


def encode_feeds(value: dict[str, Any]) -> bytes:
    return json.dumps({**value, "schema": FEEDS_SCHEMA}, sort_keys=True, indent=1).encode()


def decode_feeds(data: bytes) -> dict[str, Any]:
    """feeds.json: {"schema", "feeds": {url: FEED_STATE}, "hosts": {origin: retry_not_before}}.

    FEED_STATE keys: feed_url (the discovered feed), etag, last_modified, title,
    failures (consecutive), failing_since, backoff_until, last_error, last_ok.
    """
    raw = json.loads(data)
    if not isinstance(raw, dict) or raw.get("schema") != FEEDS_SCHEMA:
        raise ValueError(f"feeds.json must be an object with schema {FEEDS_SCHEMA}")
    feeds, hosts = raw.get("feeds", {}), raw.get("hosts", {})
    if not isinstance(feeds, dict) or not all(isinstance(v, dict) for v in feeds.values()):
        raise ValueError("feeds.json: feeds must map URLs to objects")
    if not isinstance(hosts, dict) or not all(isinstance(v, int | float) for v in hosts.values()):
        raise ValueError("feeds.json: hosts must map origins to times")
    return {"schema": FEEDS_SCHEMA, "feeds": feeds, "hosts": hosts}


def feeds_document(path: Path, gate: WriteGate | None) -> DurableDocument[dict[str, Any]]:
    """The document the runtime creates and loads; BlogService is its only writer."""
    return DurableDocument(
        path, encode=encode_feeds, decode=decode_feeds, default=default_feeds, gate=gate
    )


def record_failure(state: dict[str, Any], error: str, now: float) -> None:
    """Count a failed run; from the third in a row, skip the feed for 1 h, 2 h, 4 h... 24 h."""
    failures = int(state.get("failures") or 0) + 1
    state.update(failures=failures, last_error=error)
    state["failing_since"] = state.get("failing_since") or now
    if failures >= FAILURES_BEFORE_BACKOFF:
        wait = BACKOFF_BASE_S * 2 ** (failures - FAILURES_BEFORE_BACKOFF)
        state["backoff_until"] = now + min(wait, BACKOFF_MAX_S)


def record_success(state: dict[str, Any], now: float) -> None:
    state.update(failures=0, failing_since=None, backoff_until=None, last_error=None, last_ok=now)


def feed_warning(url: str, state: dict[str, Any], now: float) -> str | None:
    failures = int(state.get("failures") or 0)
    if not failures:
        return None
    runs = f"{failures} run{'s' if failures > 1 else ''}"
    text = f"feed {url} failing since {iso_utc(state.get('failing_since') or now)} ({runs})"
    until = state.get("backoff_until")
    if until and until > now:
        text += f": backed off until {iso_utc(until)}"
    return f"{text}; last error: {state.get('last_error') or 'unknown'}"
