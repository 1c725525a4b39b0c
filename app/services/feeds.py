"""Feed discovery and parsing.

A configured blog URL may be the feed itself or a page that advertises it with
`<link rel="alternate">`. feedparser only ever receives bytes: given a string it would
treat it as a URL or a path and fetch or open it itself, bypassing robots and caps.
"""

from __future__ import annotations

import calendar
import io
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import anyio.to_thread
import feedparser
from bs4 import BeautifulSoup

from app.errors import ExtractError
from app.services.extract import clean_text, fallback_text

FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json")
HTML_TYPES = ("text/html", "application/xhtml+xml")
FULL_TEXT_CHARS = 500


@dataclass(frozen=True)
class FeedEntry:
    guid: str
    link: str | None
    title: str | None
    published_at: float | None
    updated_at: float | None
    content_html: str

    @property
    def content_text(self) -> str:
        return fallback_text(self.content_html) if self.content_html.strip() else ""

    @property
    def has_full_text(self) -> bool:
        """Whether the feed carries the post itself, not just a teaser."""
        return len(self.content_text) >= FULL_TEXT_CHARS


@dataclass(frozen=True)
class ParsedFeed:
    title: str | None
    entries: list[FeedEntry]


def looks_like_html(content: bytes, content_type: str) -> bool:
    if content_type in HTML_TYPES:
        return True
    if "xml" in content_type or "json" in content_type:
        return False
    head = content[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head


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
    title = raw.get("title")
    return FeedEntry(
        guid=str(guid),
        link=link,
        title=clean_text(title) if title else None,
        published_at=_timestamp(raw.get("published_parsed")),
        updated_at=_timestamp(raw.get("updated_parsed")),
        content_html=html,
    )


def parse_feed_bytes(content: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    """Blocking parse; a feed with parse errors but entries is still used (bozo tolerance)."""
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(io.BytesIO(content), response_headers=headers)
    if parsed.get("bozo") and not parsed.entries:
        reason = parsed.get("bozo_exception") or "not a feed"
        raise ExtractError(f"malformed feed at {url}: {reason}")
    entries: list[FeedEntry] = []
    seen: set[str] = set()
    for raw in parsed.entries:
        entry = _entry(raw, url)
        if entry is not None and entry.guid not in seen:
            seen.add(entry.guid)
            entries.append(entry)
    if not entries and not parsed.get("version"):
        raise ExtractError(f"no feed found at {url}")
    title = parsed.feed.get("title")
    return ParsedFeed(title=str(title) if title else None, entries=entries)


async def parse_feed(content: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    return await anyio.to_thread.run_sync(parse_feed_bytes, content, url, content_type)


async def find_feed(html: str, base_url: str) -> str | None:
    return await anyio.to_thread.run_sync(discover_feed, html, base_url)
