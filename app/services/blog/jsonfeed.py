"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1), read with the json module.

feedparser does not read JSON Feed; the format is small enough that a dozen lines do.
"""

from __future__ import annotations

import html
import json
from typing import Any
from urllib.parse import urljoin

from app.errors import ExtractError
from app.services.blog.entries import FeedEntry, ParsedFeed, dedupe, plain_title
from app.services.blog.extract import parse_date

VERSION_PREFIX = "https://jsonfeed.org/version/1"


def is_json_feed(data: Any) -> bool:
    version = data.get("version") if isinstance(data, dict) else None
    return isinstance(version, str) and version.startswith(VERSION_PREFIX)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _as_html(text: str) -> str:
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    return "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)


def _entry(raw: dict[str, Any], url: str) -> FeedEntry | None:
    link = _text(raw.get("url")) or _text(raw.get("external_url"))
    link_abs = urljoin(url, link) if link else None
    guid = raw.get("id")
    guid_text = str(guid) if isinstance(guid, str | int | float) and str(guid) else link_abs
    if not guid_text:
        return None
    body = _text(raw.get("content_html")) or _as_html(_text(raw.get("content_text")))
    summary = _text(raw.get("summary"))
    if len(summary) > len(body):
        body = _as_html(summary)
    return FeedEntry(
        guid=guid_text,
        link=link_abs,
        title=plain_title(raw.get("title")),
        published_at=parse_date(_text(raw.get("date_published")) or None),
        updated_at=parse_date(_text(raw.get("date_modified")) or None),
        content_html=body,
    )


def parse_json_feed(content: bytes, url: str) -> ParsedFeed:
    """Blocking; raises ExtractError for anything that is not a JSON Feed."""
    try:
        data = json.loads(content.decode("utf-8-sig", errors="replace"))
    except ValueError as exc:
        raise ExtractError(f"malformed JSON feed at {url}: {exc}") from exc
    if not is_json_feed(data) or not isinstance(data.get("items"), list):
        raise ExtractError(f"no feed found at {url}: JSON, but not a JSON Feed")
    found = [_entry(raw, url) for raw in data["items"] if isinstance(raw, dict)]
    entries, repeats = dedupe([e for e in found if e is not None])
    return ParsedFeed(plain_title(data.get("title")), entries, repeats, ["json"])
