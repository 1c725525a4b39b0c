"""The blog service: one scrape run over the configured feeds, and the cached posts.

A run fetches each feed (conditionally), fetches only new or changed articles, and
collects everything in memory; at the end it writes the events, then the cache (one
`cache.update`, one atomic file), then the feed state. Events go first because they are
idempotent: if the cache write fails, the next run redoes the work and upserts the same
ids. A cancelled run (shutdown) has written nothing yet, so nothing is half-done.

Failure policy: one feed failing never stops the others. The run raises ScrapeError only
when every feed it tried failed (after saving their failure counts), so the job records
an error; otherwise it returns stats whose `errors` / `error_messages` say what failed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import anyio
import anyio.to_thread
import httpx

from app.config import Settings
from app.errors import ExtractError, FetchError, ScrapeError
from app.services.blog import feeds as fd
from app.services.blog.entries import FeedEntry
from app.services.blog.extract import Article, canonical_url, extract, section_text
from app.services.blog.fetch import (
    Fetcher,
    FetchResult,
    RetryLaterError,
    RobotsDisallowedError,
    UnsafeAddressError,
)
from app.services.blog.run import (
    EventSink,
    Json,
    Page,
    Run,
    content_hash,
    feed_article,
    order_posts,
    post_event_id,
    sort_time,
)
from app.services.blog.summarizer import Summarizer
from app.storage.document import DurableDocument
from app.storage.events import NewEvent

log = logging.getLogger(__name__)

EVENT_BODY_CHARS = 4000


class BlogService:
    def __init__(
        self,
        *,
        settings: Settings,
        client: httpx.AsyncClient,
        cache: DurableDocument[list[Json]],
        feeds: DurableDocument[Json],
        events: EventSink,
        on_change: Callable[[], Awaitable[None]],
        fetcher: Fetcher | None = None,
        summarizer: Summarizer | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._cache = cache
        self._feeds = feeds
        self._events = events
        self._on_change = on_change
        self._clock = clock
        self._fetcher = fetcher or Fetcher(clock=clock)
        self._summarizer = summarizer or Summarizer(
            client=client, ollama_url=settings.ollama_url, ollama_model=settings.ollama_model
        )
        self._lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self._fetcher.aclose()

    def posts(self, limit: int) -> list[Json]:
        keys = ("url", "title", "summary", "published_at", "scraped_at")
        return [{k: item.get(k) for k in keys} for item in self._cache.value[:limit]]

    def warnings(self) -> list[str]:
        now, states = self._clock(), self._feeds.value.get("feeds", {})
        found = (fd.feed_warning(url, states.get(url, {}), now) for url in self._settings.blog_urls)
        return [w for w in found if w]

    async def refresh(self) -> Json:
        """One scrape run; returns stats for the job's run record (see the module doc)."""
        async with self._lock:
            return await self._refresh()

    async def _refresh(self) -> Json:
        run = Run(now=self._clock(), cached=list(self._cache.value))
        self._fetcher.begin_run()
        for origin, until in self._feeds.value.get("hosts", {}).items():
            known = self._fetcher.retry_not_before.get(origin, 0.0)
            self._fetcher.retry_not_before[origin] = max(known, until)
        old_states = self._feeds.value.get("feeds", {})
        states: dict[str, Json] = {}
        tried = failed = 0
        for url in self._settings.blog_urls:
            state = dict(old_states.get(url, {}))
            states[url] = state
            if (state.get("backoff_until") or 0) > run.now:
                run.stats["backed_off"] += 1
                continue
            tried += 1
            try:
                await self._scrape_feed(url, state, run)
            except RetryLaterError as exc:
                run.stats["deferred"] += 1
                state["last_error"] = str(exc)
            except Exception as exc:
                failed += 1
                if not isinstance(exc, ScrapeError):
                    log.exception("feed %s: unexpected error", url)
                run.error(f"{url}: {exc}", exc)
                fd.record_failure(state, str(exc), run.now)
                state.pop("feed_url", None)  # rediscover next time: the page may have moved
            else:
                fd.record_success(state, run.now)
        await self._commit(run, states)
        stats: Json = {"feeds": len(self._settings.blog_urls)}
        for key in (
            "fetched",
            "new",
            "updated",
            "unchanged",
            "skipped_robots",
            "errors",
            "refused",
        ):
            stats[key] = run.stats[key]
        stats.update({k: v for k, v in run.stats.items() if k not in stats})
        stats["error_messages"] = run.errors
        if tried and failed == tried:
            raise ScrapeError(f"all {tried} feeds failed; first: {run.errors[0]}")
        return stats

    async def _scrape_feed(self, url: str, state: Json, run: Run) -> None:
        feed_url = state.get("feed_url") or url
        result = await self._fetcher.fetch(
            feed_url, origin=url, etag=state.get("etag"), last_modified=state.get("last_modified")
        )
        if result.not_modified:
            run.stats["feeds_not_modified"] += 1
            return
        if fd.looks_like_html(result.content, result.content_type):
            found = await fd.find_feed(await result.decoded(), result.url)
            if found is None:
                raise ExtractError(f"no feed found at {url}")
            feed_url = found
            result = await self._fetcher.fetch(feed_url, origin=url)
        parsed = await fd.parse_feed(result.content, result.url, result.headers.get("content-type"))
        if parsed.duplicate_guids:
            run.stats["duplicate_guids"] += parsed.duplicate_guids
        state.update(feed_url=feed_url, etag=result.etag, last_modified=result.last_modified)
        state["title"] = parsed.title
        entries = sorted(parsed.entries, key=lambda e: -(e.time or 0))
        missed = 0
        for entry in entries[: self._settings.blog_cache_max]:
            try:
                await self._scrape_entry(entry, feed_url, run, url)
            except RetryLaterError as exc:
                missed += 1
                run.stats["deferred"] += 1
                log.info("deferred %s: %s", entry.link, exc)
            except Exception as exc:
                missed += 1
                if not isinstance(exc, ScrapeError):
                    log.exception("entry %s: unexpected error", entry.link or entry.guid)
                run.error(f"{entry.link or entry.guid}: {exc}", exc)
        if missed:
            # A 304 next time would hide the entries we could not get: ask for the feed again.
            state.update(etag=None, last_modified=None)

    async def _scrape_entry(self, entry: FeedEntry, feed_url: str, run: Run, origin: str) -> None:
        marker = entry.updated_at or entry.published_at
        existing = run.by_guid.get(entry.guid)
        if entry.guid in run.items or entry.guid in run.aliases:
            run.stats["unchanged"] += 1
            return
        if existing and existing.get("entry_updated") == marker:
            run.stats["unchanged"] += 1
            return
        if existing is None and self._too_old(entry, run):
            run.stats["unchanged"] += 1
            return
        page, page_url = await self._article(entry, existing, run, origin)
        if page is None:
            if existing is not None and page_url is not None:  # 304: the page did not change
                run.touched.setdefault(entry.guid, {})["entry_updated"] = marker
                run.stats["unchanged"] += 1
            return
        article = page.article
        if not article.text:
            run.error(f"{entry.link or entry.guid}: no article text")
            return
        url = canonical_url(article.canonical_url or page_url or entry.link or entry.guid)
        fragment = urlsplit(entry.link or "").fragment
        if fragment:  # one page, many posts (a micro-blog): each anchor is its own post
            url = f"{canonical_url(entry.link or url)}#{fragment}"
        digest = content_hash(article.text)
        existing = existing or run.by_url.get(url) or run.by_hash.get(digest)
        title = entry.title or article.title or url
        if existing is not None and existing.get("guid") != entry.guid:
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
                return
        if existing is not None and existing.get("content_hash") == digest:
            run.touched.setdefault(entry.guid, {})["entry_updated"] = marker
            run.stats["unchanged"] += 1
            return
        summary = await self._summarizer.summarize(title, article.text)
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
            "entry_updated": marker,
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

    def _too_old(self, entry: FeedEntry, run: Run) -> bool:
        """A full cache would drop this post again at once: don't fetch it at all."""
        if len(run.cached) < self._settings.blog_cache_max:
            return False
        when = entry.time
        return when is not None and when < sort_time(run.cached[-1])

    async def _article(
        self, entry: FeedEntry, existing: Json | None, run: Run, origin: str
    ) -> tuple[Page | None, str | None]:
        """The post's text from its page, or from the feed when the page cannot be had."""
        if not entry.link:
            return feed_article(entry), entry.guid
        fragment = urlsplit(entry.link).fragment
        if fragment:
            return await self._fragment_article(entry, fragment, run, origin)
        try:
            result = await self._polite_fetch(
                entry.link,
                run,
                origin,
                etag=(existing or {}).get("etag"),
                last_modified=(existing or {}).get("last_modified"),
            )
        except UnsafeAddressError:
            raise
        except RobotsDisallowedError:
            run.stats["skipped_robots"] += 1
            return (feed_article(entry), entry.link) if entry.has_full_text else (None, None)
        except RetryLaterError:
            raise
        except FetchError as exc:
            if entry.has_full_text:
                log.info("using the feed's text for %s: %s", entry.link, exc)
                return feed_article(entry), entry.link
            raise
        if result.not_modified:
            return None, result.url
        run.stats["fetched"] += 1
        try:
            article = await extract(await result.decoded(), result.url)
        except ScrapeError:
            if not entry.has_full_text:
                raise
            return feed_article(entry), result.url
        return Page(article, result.etag, result.last_modified), result.url

    async def _polite_fetch(
        self, url: str, run: Run, origin: str, **conditional: str | None
    ) -> FetchResult:
        if run.fetched_any:
            delay = await self._fetcher.crawl_delay(url, origin=origin)
            await anyio.sleep(max(self._settings.scrape_delay_s, delay))
        run.fetched_any = True
        return await self._fetcher.fetch(url, origin=origin, **conditional)

    async def _fragment_article(
        self, entry: FeedEntry, fragment: str, run: Run, origin: str
    ) -> tuple[Page | None, str | None]:
        """A `#fragment` post: the feed's own text, else that part of the shared page."""
        assert entry.link is not None
        if entry.content_text:
            return feed_article(entry), entry.link
        page_url = entry.link.split("#", 1)[0]
        result = run.pages.get(page_url)
        if result is None:
            result = run.pages[page_url] = await self._polite_fetch(page_url, run, origin)
        run.stats["fetched"] += 1
        text = await anyio.to_thread.run_sync(section_text, await result.decoded(), fragment)
        if not text:
            raise ExtractError(f"no element #{fragment} with text at {page_url}")
        return Page(Article(text=text, title=entry.title)), entry.link

    async def _commit(self, run: Run, states: dict[str, Json]) -> None:
        if run.events:
            await self._events.upsert(run.events)
        changed = bool(run.items or run.touched)
        if changed:
            await self._cache.update(lambda old: (self._merge(old, run), None))
        hosts = {o: t for o, t in self._fetcher.retry_not_before.items() if t > run.now}
        new_feeds = {"schema": fd.FEEDS_SCHEMA, "feeds": states, "hosts": hosts}
        if new_feeds != self._feeds.value:
            await self._feeds.update(lambda _old: (new_feeds, None))
        if changed:
            await self._on_change()

    def _merge(self, old: list[Json], run: Run) -> list[Json]:
        """New and changed posts replace their old copies; newest first, bounded."""
        fresh = list(run.items.values())
        gone = {i["guid"] for i in fresh} | {i["canonical_url"] for i in fresh}
        kept = []
        for item in old:
            if item.get("guid") in gone or item.get("canonical_url") in gone:
                continue
            patch = run.touched.get(item.get("guid", ""))
            kept.append({**item, **patch} if patch else item)
        merged = order_posts(fresh + kept)
        return merged[: self._settings.blog_cache_max]
