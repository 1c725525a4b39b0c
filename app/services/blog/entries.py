"""What a feed says about one post, whatever the feed's format (RSS, Atom, JSON Feed)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from app.services.blog.extract import fallback_text

FULL_TEXT_CHARS = 500
_TAG = re.compile(r"<(?:[A-Za-z/!?][^<>]*)>")


@dataclass(frozen=True)
class FeedEntry:
    guid: str
    link: str | None
    title: str | None
    published_at: float | None
    updated_at: float | None
    content_html: str

    @property
    def time(self) -> float | None:
        """The post's time: published, else updated (feedparser files `dc:date` there)."""
        return self.published_at or self.updated_at

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
    duplicate_guids: int = 0
    kinds: list[str] = field(default_factory=list)


def plain_title(value: object) -> str | None:
    """A title as plain text: tags dropped, entities decoded (feeds escape once or twice).

    A regex rather than an HTML parser: a title like "x < y" or "I <3 tea" is not markup,
    and a parser would eat it; only things shaped like tags are removed.
    """
    if not isinstance(value, str):
        return None
    text = value
    for _ in range(2):  # "&amp;lt;b&amp;gt;" is a tag escaped twice
        text = html.unescape(_TAG.sub("", text))
    text = _TAG.sub("", text)
    text = " ".join(text.split())
    return text or None


def dedupe(entries: list[FeedEntry]) -> tuple[list[FeedEntry], int]:
    """First entry per GUID, and how many repeats were dropped."""
    seen: set[str] = set()
    kept: list[FeedEntry] = []
    for entry in entries:
        if entry.guid in seen:
            continue
        seen.add(entry.guid)
        kept.append(entry)
    return kept, len(entries) - len(kept)
