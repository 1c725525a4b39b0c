"""The blog service: one scrape run over the configured feeds, and the cached posts.

A run fetches each feed (conditionally), fetches only new or changed articles, and
collects everything in memory; at the end it writes the events, then the cache (one
`cache.update`, one atomic file), then the feed state. Events go first because they are
idempotent: if the cache write fails, the next run redoes the work and upserts the same
ids. A cancelled run (shutdown) has written nothing yet, so nothing is half-done.

Failure policy: one feed failing never stops the others. The run raises ScrapeError only
when every feed it tried failed (after saving their failure counts), so the job records
an error; otherwise it returns stats whose `errors` / `error_messages` say what failed.

The article fetching lives in pages.py, the posts' bookkeeping in posts.py; this module
drives a run and writes its results.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import httpx

from app.config import Settings
from app.errors import ExtractError, ScrapeError
from app.services.blog import feeds as fd
from app.services.blog import posts
from app.services.blog.entries import FeedEntry
from app.services.blog.fetch import Fetcher, RetryLaterError
from app.services.blog.pages import PageReader
from app.services.blog.run import EventSink, Json, Run, content_hash
from app.services.blog.summarizer import Summarizer
from app.storage.document import DurableDocument

log = logging.getLogger(__name__)

_STATS_FIRST = ("fetched", "new", "updated", "unchanged", "skipped_robots", "errors", "refused")


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
        self._pages = PageReader(self._fetcher, settings.scrape_delay_s)
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
        for key in _STATS_FIRST:
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
        if posts.already_current(entry, run, self._settings.blog_cache_max):
            run.stats["unchanged"] += 1
            return
        existing = run.by_guid.get(entry.guid)
        page, page_url = await self._pages.article(entry, existing, run, origin)
        if page is None:
            if existing is not None and page_url is not None:  # 304: the page did not change
                posts.touch(run, entry)
            return
        article = page.article
        if not article.text:
            run.error(f"{entry.link or entry.guid}: no article text")
            return
        url = posts.post_url(entry, article, page_url)
        digest = content_hash(article.text)
        existing = existing or run.by_url.get(url) or run.by_hash.get(digest)
        if posts.settled(entry, existing, digest, run):
            return
        title = entry.title or article.title or url
        summary = await self._summarizer.summarize(title, article.text)
        posts.record(
            run,
            entry,
            page,
            feed_url=feed_url,
            url=url,
            title=title,
            summary=summary,
            digest=digest,
            existing=existing,
        )

    async def _commit(self, run: Run, states: dict[str, Json]) -> None:
        if run.events:
            await self._events.upsert(run.events)
        changed = bool(run.items or run.touched)
        if changed:
            limit = self._settings.blog_cache_max
            await self._cache.update(lambda old: (posts.merge(old, run, limit), None))
        hosts = {o: t for o, t in self._fetcher.retry_not_before.items() if t > run.now}
        new_feeds = {"schema": fd.FEEDS_SCHEMA, "feeds": states, "hosts": hosts}
        if new_feeds != self._feeds.value:
            await self._feeds.update(lambda _old: (new_feeds, None))
        if changed:
            await self._on_change()
