"""BlogService end to end against a real local blog: feeds, pages, robots, failures."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import anyio
import httpx
import pytest

from app.config import Settings
from app.errors import ScrapeError
from app.services.blog.feeds import feeds_document
from app.services.blog.fetch import Fetcher, make_http_client
from app.services.blog.guard import IsPublic, is_public
from app.services.blog.service import BlogService
from app.storage.document import DurableDocument
from tests.utils.site import (
    CLUTTER,
    LOREM,
    RecordingSink,
    Reply,
    Site,
    cache_document,
    themed_page,
)

pytestmark = pytest.mark.anyio
DAY = 86400.0
T0 = 1_793_520_000.0  # 2026-11-01T08:00:00Z


@dataclass
class Post:
    slug: str
    title: str
    day: int
    paragraphs: list[str]
    guid: str | None = None
    feed_html: str = ""  # what the feed carries as <description>
    updated_day: int | None = None


def rss(site: Site, posts: list[Post]) -> str:
    items = []
    for p in posts:
        updated = p.updated_day if p.updated_day is not None else p.day
        items.append(
            f"<item><title>{escape(p.title)}</title><link>{site.url(p.slug)}</link>"
            f"<guid>{p.guid or site.url(p.slug)}</guid>"
            f"<pubDate>{formatdate(T0 + updated * DAY, usegmt=True)}</pubDate>"
            f"<description>{escape(p.feed_html or 'Teaser.')}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Test blog</title><link>{site.url('/')}</link>{''.join(items)}</channel></rss>"
    )


def publish(site: Site, posts: list[Post], *, feed: str = "/feed.xml", etag: str = '"v1"') -> None:
    for p in posts:
        site.add(p.slug, themed_page(p.title, p.paragraphs))
    site.add(feed, rss(site, posts), etag=etag, headers={"Content-Type": "application/rss+xml"})


@dataclass
class Blog:
    service: BlogService
    cache: DurableDocument[list[dict[str, Any]]]
    feeds: DurableDocument[dict[str, Any]]
    sink: RecordingSink
    changes: list[int]
    now: list[float]
    state_dir: Path


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with make_http_client() as client:
        yield client


@pytest.fixture
async def make_blog(tmp_path: Path, http: httpx.AsyncClient) -> AsyncIterator[Any]:
    made: list[BlogService] = []

    def build(urls: list[str], *, public: IsPublic = is_public, **overrides: Any) -> Blog:
        values: dict[str, Any] = {"data_dir": tmp_path, "blog_urls": urls, "scrape_delay_s": 0}
        values.update(overrides)
        settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
        state = tmp_path / "state"
        state.mkdir(exist_ok=True)
        cache = cache_document(state / "blog_cache.json")
        feeds = feeds_document(state / "feeds.json", None)
        cache.load()
        feeds.load()
        sink, changes, now = RecordingSink(), [], [T0 + 30 * DAY]

        async def on_change() -> None:
            changes.append(len(cache.value))

        service = BlogService(
            settings=settings,
            client=http,
            cache=cache,
            feeds=feeds,
            events=sink,
            on_change=on_change,
            clock=lambda: now[0],
            fetcher=Fetcher(clock=lambda: now[0], is_public=public),
        )
        made.append(service)
        return Blog(service, cache, feeds, sink, changes, now, state)

    yield build
    for service in made:
        await service.aclose()


def two_posts() -> list[Post]:
    return [
        Post("/posts/library", "The new library", 1, LOREM),
        Post("/posts/market", "Market day", 2, [s.replace("library", "market") for s in LOREM]),
    ]


async def test_first_run_caches_posts_newest_first_without_clutter(
    site: Site, make_blog: Any
) -> None:
    publish(site, two_posts())
    blog = make_blog([site.url("/feed.xml")])
    stats = await blog.service.refresh()
    assert stats["feeds"] == 1 and stats["new"] == 2 and stats["fetched"] == 2
    assert stats["errors"] == 0 and stats["skipped_robots"] == 0

    on_disk = json.loads((blog.state_dir / "blog_cache.json").read_text())
    assert [p["title"] for p in on_disk] == ["Market day", "The new library"]
    for post in on_disk:
        assert {"title", "body", "summary", "url", "published_at", "scraped_at"} <= post.keys()
        assert "forty thousand books" in post["body"]
        assert not [w for w in CLUTTER if w in post["body"] + post["summary"]]
        assert 0 < len(post["summary"]) <= 600
    assert on_disk[1]["published_at"] == T0 + DAY

    events = blog.sink.events
    assert [e.type for e in events] == ["blog", "blog"]
    library = next(e for e in events if "library" in e.text)
    canonical = site.url("/posts/library")
    assert library.id == "blog-" + hashlib.sha256(canonical.encode()).hexdigest()[:32]
    assert library.text.startswith("The new library\n\n")
    assert library.timestamp == T0 + DAY and library.metadata["url"] == canonical
    assert blog.changes == [2]
    assert blog.service.posts(1) == [
        {k: on_disk[0][k] for k in ("url", "title", "summary", "published_at", "scraped_at")}
    ]


async def test_second_run_is_conditional_and_only_new_posts_are_fetched(
    site: Site, make_blog: Any
) -> None:
    posts = two_posts()
    publish(site, posts)
    blog = make_blog([site.url("/feed.xml")])
    await blog.service.refresh()
    stats = await blog.service.refresh()
    assert stats["new"] == stats["fetched"] == 0
    assert site.headers_of("/feed.xml")[1]["if-none-match"] == '"v1"'
    assert len(blog.sink.calls) == 1 and blog.changes == [2]

    posts.append(Post("/posts/fair", "The fair", 3, [s.replace("library", "fair") for s in LOREM]))
    publish(site, posts, etag='"v2"')
    stats = await blog.service.refresh()
    assert stats["new"] == 1 and stats["fetched"] == 1 and stats["unchanged"] == 2
    assert site.hits("/posts/library") == 1 and site.hits("/posts/fair") == 1
    assert [p["title"] for p in blog.service.posts(10)][0] == "The fair"


async def test_changed_entry_is_refetched_and_replaces_its_copy(site: Site, make_blog: Any) -> None:
    posts = two_posts()
    publish(site, posts)
    blog = make_blog([site.url("/feed.xml")])
    await blog.service.refresh()
    posts[0].paragraphs = [*LOREM, "Update: the library also lends tools and seeds now."]
    posts[0].updated_day = 5
    publish(site, posts, etag='"v2"')
    stats = await blog.service.refresh()
    assert stats["updated"] == 1 and stats["new"] == 0
    cached = blog.cache.value
    assert len(cached) == 2 and "lends tools" in cached[0]["body"]
    [update] = blog.sink.calls[1]
    assert update.id in {e.id for e in blog.sink.calls[0]}  # same post, same event id
    assert "lends tools" in update.text


async def test_robots_wildcards_duplicates_and_feed_text_fallback(
    site: Site, make_blog: Any
) -> None:
    site.add("/robots.txt", "User-agent: *\nDisallow: /drafts/*\n")
    full = "<p>" + "</p><p>".join(LOREM) + "</p>"
    posts = [
        Post("/drafts/teaser", "Teaser only", 1, ["secret draft"]),
        Post("/drafts/full", "Full in feed", 2, ["secret draft"], feed_html=full),
        Post("/posts/a", "Post A", 3, LOREM, guid="urn:same"),
        Post("/posts/b", "Post B", 4, ["Other text " * 30], guid="urn:same"),
        Post("/posts/a?utm_source=rss", "Post A again", 0, LOREM, guid="urn:other"),
    ]
    publish(site, posts)
    blog = make_blog([site.url("/feed.xml")])
    stats = await blog.service.refresh()
    assert stats["skipped_robots"] == 2
    assert site.hits("/drafts/teaser") == site.hits("/drafts/full") == 0
    titles = sorted(p["title"] for p in blog.cache.value)
    assert titles == ["Full in feed", "Post A"]
    full_post = next(p for p in blog.cache.value if p["title"] == "Full in feed")
    assert LOREM[2] in full_post["body"]
    again = await blog.service.refresh()  # same feed, 304: nothing fetched again
    assert again["fetched"] == 0


async def test_page_url_discovers_its_feed_and_non_utf8_pages_decode(
    site: Site, make_blog: Any
) -> None:
    russian = [
        "Сегодня в нашем городе открылась новая библиотека, и читальный зал уже полон.",
        "Волонтёры перенесли более сорока тысяч книг за одни выходные по главной улице.",
        "Детский уголок получил читательское дерево, низкие полки и маленькую сцену.",
    ]
    page = themed_page("Библиотека", russian, charset="windows-1251")
    site.add("/posts/ru", page.encode("cp1251"), headers={"Content-Type": "text/html"})
    site.add(
        "/atom.xml",
        rss(site, [Post("/posts/ru", "Библиотека", 1, russian)]),
        headers={"Content-Type": "application/rss+xml"},
    )
    feed_link = f'<link rel="alternate" type="application/rss+xml" href="{site.url("/atom.xml")}">'
    home = themed_page("Home", ["Welcome to the blog."], extra_head=feed_link)
    site.add("/blog/", home)
    blog = make_blog([site.url("/blog/")])
    stats = await blog.service.refresh()
    assert stats["new"] == 1
    assert russian[1] in blog.cache.value[0]["body"]
    assert blog.feeds.value["feeds"][site.url("/blog/")]["feed_url"] == site.url("/atom.xml")

    site.add("/nofeed/", themed_page("Plain", ["No feed here."]))
    blog2 = make_blog([site.url("/nofeed/"), site.url("/blog/")])
    stats = await blog2.service.refresh()
    assert stats["errors"] == 1
    assert "no feed found at " + site.url("/nofeed/") in blog2.service.warnings()[0]


async def test_failing_feed_backs_off_warns_and_recovers(site: Site, make_blog: Any) -> None:
    publish(site, two_posts())
    site.add("/broken.xml", "<rss><channel><item><title>oops", headers={"Content-Type": "text/xml"})
    blog = make_blog([site.url("/feed.xml"), site.url("/broken.xml")])
    for _ in range(3):
        stats = await blog.service.refresh()
        assert stats["errors"] == 1 and "malformed feed" in stats["error_messages"][0]
        blog.now[0] += 60
    assert len(blog.cache.value) == 2  # the good feed was not held back
    [warning] = blog.service.warnings()
    assert site.url("/broken.xml") in warning and "(3 runs)" in warning
    assert "backed off until" in warning

    stats = await blog.service.refresh()
    assert stats["backed_off"] == 1 and site.hits("/broken.xml") == 3
    saved = json.loads((blog.state_dir / "feeds.json").read_text())
    assert saved["feeds"][site.url("/broken.xml")]["failures"] == 3

    blog.now[0] += 2 * 3600
    publish(site, [Post("/posts/x", "Fixed", 9, LOREM)], feed="/broken.xml")
    stats = await blog.service.refresh()
    assert stats["errors"] == 0 and stats["new"] == 1
    assert blog.service.warnings() == []


async def test_all_feeds_failing_raises_after_recording_it(site: Site, make_blog: Any) -> None:
    site.add("/down.xml", "boom", status=500)
    blog = make_blog([site.url("/down.xml")])
    with pytest.raises(ScrapeError, match="HTTP 500"):
        await blog.service.refresh()
    saved = json.loads((blog.state_dir / "feeds.json").read_text())
    assert saved["feeds"][site.url("/down.xml")]["failures"] == 1


async def test_retry_after_defers_the_host_across_runs(site: Site, make_blog: Any) -> None:
    posts = two_posts()
    publish(site, posts)
    site.add(posts[0].slug, "busy", status=429, headers={"Retry-After": "3600"})
    blog = make_blog([site.url("/feed.xml")])
    stats = await blog.service.refresh()
    assert stats["deferred"] >= 1 and stats["errors"] == 0
    assert blog.service.warnings() == []
    saved = json.loads((blog.state_dir / "feeds.json").read_text())
    assert saved["hosts"][site.base_url] == blog.now[0] + 3600

    feed_hits = site.hits("/feed.xml")
    blog.now[0] += 600
    await blog.service.refresh()
    assert site.hits("/feed.xml") == feed_hits  # the host asked for an hour: not even the feed

    blog.now[0] += 3600
    publish(site, posts)  # same ETag: the missed post must still be fetched now
    stats = await blog.service.refresh()
    assert stats["new"] == 1 and len(blog.cache.value) == 2


async def test_redirect_loop_on_one_article_does_not_fail_the_feed(
    site: Site, make_blog: Any
) -> None:
    posts = two_posts()
    publish(site, posts)
    site.routes[posts[0].slug] = Reply(status=302, headers={"Location": posts[0].slug})
    blog = make_blog([site.url("/feed.xml")])
    stats = await blog.service.refresh()
    assert stats["errors"] == 1 and "too many redirects" in stats["error_messages"][0]
    assert [p["title"] for p in blog.cache.value] == ["Market day"]
    assert blog.service.warnings() == []


async def test_cancelled_run_leaves_the_files_untouched(site: Site, make_blog: Any) -> None:
    publish(site, two_posts())
    blog = make_blog([site.url("/feed.xml")], scrape_delay_s=30)
    before = (blog.state_dir / "blog_cache.json").read_bytes()
    with anyio.move_on_after(1.0) as scope:
        await blog.service.refresh()
    assert scope.cancelled_caught
    assert site.hits("/posts/market") == 1  # cancelled while waiting to fetch the second
    assert (blog.state_dir / "blog_cache.json").read_bytes() == before
    assert not [p for p in blog.state_dir.iterdir() if p.name.endswith(".tmp")]
    assert blog.sink.calls == [] and blog.changes == []


async def test_cache_is_bounded_to_the_newest_posts(site: Site, make_blog: Any) -> None:
    posts = [
        Post(f"/posts/{i}", f"Post {i}", i, [f"Item {i}: {s}" for s in LOREM]) for i in range(4)
    ]
    publish(site, posts)
    blog = make_blog([site.url("/feed.xml")], blog_cache_max=2)
    await blog.service.refresh()
    assert [p["title"] for p in blog.cache.value] == ["Post 3", "Post 2"]
    assert site.hits("/posts/0") == 0  # older than a full cache: never fetched
