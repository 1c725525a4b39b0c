"""What one scrape run collects before it writes anything, and how posts are ordered."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.services.blog.entries import FeedEntry
from app.services.blog.extract import Article
from app.services.blog.fetch import FetchResult, UnsafeAddressError
from app.storage.events import NewEvent

Json = dict[str, Any]
MAX_ERROR_MESSAGES = 10


class EventSink(Protocol):
    async def upsert(self, events: list[NewEvent]) -> None: ...


def post_event_id(url: str) -> str:
    return "blog-" + hashlib.sha256(url.encode()).hexdigest()[:32]


def content_hash(text: str) -> str:
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()


def sort_time(item: Json) -> float:
    return float(item.get("published_at") or item.get("scraped_at") or 0)


def order_posts(items: list[Json]) -> list[Json]:
    """Newest first. A post with no time sorts by when it was first scraped, but never
    above the newest dated post: "no date" must not read as "just published"."""
    ceiling = max((float(i["published_at"]) for i in items if i.get("published_at")), default=None)

    def key(item: Json) -> tuple[float, int]:
        if item.get("published_at"):
            return float(item["published_at"]), 1
        seen = float(item.get("first_seen_at") or item.get("scraped_at") or 0)
        return (min(seen, ceiling) if ceiling is not None else seen), 0

    return sorted(items, key=key, reverse=True)


@dataclass
class Run:
    """What one run found; nothing here touches the disk until the end of the run."""

    now: float
    cached: list[Json]
    stats: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    items: dict[str, Json] = field(default_factory=dict)  # guid -> new or changed item
    touched: dict[str, Json] = field(default_factory=dict)  # guid -> fields to refresh only
    events: list[NewEvent] = field(default_factory=list)
    pages: dict[str, FetchResult] = field(default_factory=dict)  # shared pages (#fragment posts)
    fetched_any: bool = False

    def __post_init__(self) -> None:
        self.by_guid = {i["guid"]: i for i in self.cached if i.get("guid")}
        self.by_url = {i["canonical_url"]: i for i in self.cached if i.get("canonical_url")}
        self.by_hash = {i["content_hash"]: i for i in self.cached if i.get("content_hash")}
        self.aliases = {a for i in self.cached for a in i.get("aliases", [])}

    def error(self, message: str, exc: BaseException | None = None) -> None:
        self.stats["errors"] += 1
        if isinstance(exc, UnsafeAddressError):
            self.stats["refused"] += 1
        if len(self.errors) < MAX_ERROR_MESSAGES:
            self.errors.append(message)


@dataclass(frozen=True)
class Page:
    article: Article
    etag: str | None = None
    last_modified: str | None = None


def feed_article(entry: FeedEntry) -> Page:
    return Page(Article(text=entry.content_text, title=entry.title))
