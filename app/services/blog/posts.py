"""The cached posts' bookkeeping during a run: which entries need no work, which are the
same post reached twice, the cached record and event of a new post, and the final merge.

Everything here changes only the in-memory Run; service.py writes it out at the end.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from app.services.blog.entries import FeedEntry
from app.services.blog.extract import Article, canonical_url
from app.services.blog.run import Json, Page, Run, order_posts, post_event_id, sort_time
from app.storage.events import NewEvent

EVENT_BODY_CHARS = 4000


def marker(entry: FeedEntry) -> float | None:
    """What the feed says about the entry's version: a change means "fetch it again"."""
    return entry.updated_at or entry.published_at


def already_current(entry: FeedEntry, run: Run, cache_max: int) -> bool:
    """True when the cache (or this run) already holds the entry as the feed has it now."""
    if entry.guid in run.items or entry.guid in run.aliases:
        return True
    existing = run.by_guid.get(entry.guid)
    if existing and existing.get("entry_updated") == marker(entry):
        return True
    return existing is None and too_old(entry, run, cache_max)


def too_old(entry: FeedEntry, run: Run, cache_max: int) -> bool:
    """A full cache would drop this post again at once: don't fetch it at all."""
    if len(run.cached) < cache_max:
        return False
    when = entry.time
    return when is not None and when < sort_time(run.cached[-1])


def touch(run: Run, entry: FeedEntry) -> None:
    """The page did not change: remember the feed's version so it is not fetched again."""
    run.touched.setdefault(entry.guid, {})["entry_updated"] = marker(entry)
    run.stats["unchanged"] += 1


def post_url(entry: FeedEntry, article: Article, page_url: str | None) -> str:
    """The post's dedupe key; one page holding many posts (a micro-blog) keys each anchor."""
    url = canonical_url(article.canonical_url or page_url or entry.link or entry.guid)
    fragment = urlsplit(entry.link or "").fragment
    if fragment:
        url = f"{canonical_url(entry.link or url)}#{fragment}"
    return url


def settled(entry: FeedEntry, existing: Json | None, digest: str, run: Run) -> bool:
    """True when the post needs no new record: a duplicate of another entry, or unchanged."""
    if existing is None:
        return False
    if existing.get("guid") != entry.guid:
        fresh = any(existing is item for item in run.items.values())
        if fresh or existing.get("content_hash") == digest:
            # Two entries, one post: keep the first, remember the alias so the
            # duplicate is not fetched again on every run.
            run.stats["duplicates"] += 1
            aliases = sorted({*existing.get("aliases", []), entry.guid})
            if fresh:
                existing["aliases"] = aliases
            else:
                run.touched.setdefault(existing["guid"], {})["aliases"] = aliases
            return True
    if existing.get("content_hash") == digest:
        touch(run, entry)
        return True
    return False


def record(
    run: Run,
    entry: FeedEntry,
    page: Page,
    *,
    feed_url: str,
    url: str,
    title: str,
    summary: str,
    digest: str,
    existing: Json | None,
) -> None:
    """A new or changed post: its cached record and its event, both kept in the run."""
    article = page.article
    published = entry.time or article.published_at
    item: Json = {
        "guid": entry.guid,
        "feed_url": feed_url,
        "url": entry.link or url,
        "canonical_url": url,
        "title": title,
        "summary": summary,
        "body": article.text,
        "published_at": published,
        "scraped_at": run.now,
        "first_seen_at": (existing or {}).get("first_seen_at")
        or (existing or {}).get("scraped_at")
        or run.now,
        "entry_updated": marker(entry),
        "content_hash": digest,
        "etag": page.etag,
        "last_modified": page.last_modified,
    }
    run.items[entry.guid] = item
    run.by_url[url] = run.by_hash[digest] = item
    run.stats["updated" if existing is not None else "new"] += 1
    text = f"{title}\n\n{summary}\n\n{article.text[:EVENT_BODY_CHARS]}".strip()
    run.events.append(
        NewEvent(
            type="blog",
            id=post_event_id(url),
            text=text,
            timestamp=float(published or run.now),
            metadata={"url": item["url"], "title": title[:500], "feed": feed_url},
        )
    )


def merge(old: list[Json], run: Run, limit: int) -> list[Json]:
    """New and changed posts replace their old copies; newest first, bounded."""
    fresh = list(run.items.values())
    gone = {i["guid"] for i in fresh} | {i["canonical_url"] for i in fresh}
    kept = []
    for item in old:
        if item.get("guid") in gone or item.get("canonical_url") in gone:
            continue
        patch = run.touched.get(item.get("guid", ""))
        kept.append({**item, **patch} if patch else item)
    return order_posts(fresh + kept)[:limit]
