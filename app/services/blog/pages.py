"""An entry's article text: its page fetched politely, or the feed's own text.

Kept apart from the run's bookkeeping because the fallbacks are many and all about
fetching: a page robots.txt forbids, a fetch that fails, a page that will not extract
and a `#fragment` post sharing one page with its siblings each end in the feed's text,
a skip or an error, and only this module needs to know which.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import anyio
import anyio.to_thread

from app.errors import ExtractError, FetchError, ScrapeError
from app.services.blog.entries import FeedEntry
from app.services.blog.extract import Article, extract, section_text
from app.services.blog.fetch import (
    Fetcher,
    FetchResult,
    RetryLaterError,
    RobotsDisallowedError,
    UnsafeAddressError,
)
from app.services.blog.run import Json, Page, Run, feed_article

log = logging.getLogger(__name__)


class PageReader:
    """Fetches and extracts posts' pages, waiting the crawl delay between fetches."""

    def __init__(self, fetcher: Fetcher, delay_s: float) -> None:
        self._fetcher = fetcher
        self._delay_s = delay_s

    async def article(
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
            await anyio.sleep(max(self._delay_s, delay))
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
