"""Feeds as they are in the wild, each served over real HTTP to a real BlogService run."""

from __future__ import annotations

import ipaddress
import json
import time
from pathlib import Path
from typing import Any

import pytest

from app.services.blog.guard import IPAddress, is_public
from app.services.blog.summarizer import extractive_summary, split_sentences
from tests.conftest import ADMIN_TOKEN
from tests.services.blog import test_blog
from tests.services.blog.test_blog import DAY, T0
from tests.utils.blog_server import recording_server
from tests.utils.server import ServerProcess
from tests.utils.site import LOREM, Site, themed_page

pytestmark = pytest.mark.anyio
http = test_blog.http  # the fixtures that build a BlogService over a temp data dir
make_blog = test_blog.make_blog
ISO = "2026-11-0{}T08:00:00Z"


def pages(site: Site, slugs: list[str]) -> None:
    for slug in slugs:
        words = [s.replace("library", slug.strip("/").replace("/", " ")) for s in LOREM]
        site.add(slug, themed_page(f"Post {slug}", words, published=None))


def rss(site: Site, items: str, *, version: str = "2.0") -> str:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="{version}" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Blog</title>'
        f"<link>{site.url('/')}</link>{items}</channel></rss>"
    )


async def test_json_feed_1_1_found_from_the_page_and_1_0_read_directly(
    site: Site, make_blog: Any
) -> None:
    pages(site, ["/a", "/b"])
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "JSON blog",
        "items": [
            {"id": "1", "url": site.url("/a"), "title": "A &amp; <i>a</i>",
             "date_published": ISO.format(3)},
            {"id": "2", "url": site.url("/b"), "title": "B", "date_modified": ISO.format(2)},
        ],
    }  # fmt: skip
    site.add("/feed.json", json.dumps(feed), headers={"Content-Type": "application/feed+json"})
    link = f'<link rel="alternate" type="application/feed+json" href="{site.url("/feed.json")}">'
    site.add("/", themed_page("Home", ["Welcome."], extra_head=link))
    blog = make_blog([site.url("/")])
    stats = await blog.service.refresh()
    assert stats["new"] == 2 and stats["errors"] == 0
    posts = blog.service.posts(10)
    assert [(p["title"], p["published_at"]) for p in posts] == [
        ("A & a", T0 + 2 * DAY),
        ("B", T0 + DAY),
    ]

    old = {"version": "https://jsonfeed.org/version/1", "items": [
        {"id": 7, "url": "/c", "content_text": " ".join(LOREM) * 2, "title": "C"}]}  # fmt: skip
    site.add("/c", "gone", status=404)
    site.add("/v1.json", json.dumps(old), headers={"Content-Type": "application/json"})
    blog = make_blog([site.url("/v1.json")])
    stats = await blog.service.refresh()
    assert stats["new"] == 1
    assert "forty thousand books" in blog.cache.value[0]["body"]  # the feed's own text


@pytest.mark.parametrize("served_as", ["text/html; charset=utf-8", "text/plain"])
async def test_feeds_served_as_html_or_plain_text(
    site: Site, make_blog: Any, served_as: str
) -> None:
    pages(site, ["/a"])
    atom = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f'<title>Atom</title><entry><id>tag:a</id><title>A</title><link href="{site.url("/a")}"/>'
        f"<updated>{ISO.format(4)}</updated></entry></feed>"
    )
    site.add("/atom", atom, headers={"Content-Type": served_as})
    blog = make_blog([site.url("/atom")])
    stats = await blog.service.refresh()
    assert stats["new"] == 1 and stats["errors"] == 0
    assert blog.cache.value[0]["published_at"] == T0 + 3 * DAY  # Atom updated-only


async def test_dates_published_else_updated_else_dc_date_and_undated_never_newest(
    site: Site, make_blog: Any
) -> None:
    pages(site, ["/rdf", "/undated", "/dated"])
    rdf = f"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
 xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="{site.url("/")}"><title>RSS 1.0</title><link>{site.url("/")}</link></channel>
<item rdf:about="{site.url("/rdf")}"><title>RDF</title><link>{site.url("/rdf")}</link>
<dc:date>{ISO.format(5)}</dc:date></item></rdf:RDF>"""
    site.add("/rdf.xml", rdf, headers={"Content-Type": "application/rdf+xml"})
    items = (
        f"<item><title>Undated</title><link>{site.url('/undated')}</link></item>"
        f"<item><title>Dated</title><link>{site.url('/dated')}</link>"
        "<pubDate>Mon, 02 Nov 2026 08:00:00 GMT</pubDate></item>"
    )
    site.add("/rss.xml", rss(site, items), headers={"Content-Type": "application/rss+xml"})
    blog = make_blog([site.url("/rdf.xml"), site.url("/rss.xml")])
    await blog.service.refresh()
    posts = blog.service.posts(10)
    # scraped "now", but an undated post sorts no higher than the newest dated one
    assert [p["title"] for p in posts] == ["RDF", "Undated", "Dated"]
    assert posts[0]["published_at"] == T0 + 4 * DAY and posts[2]["published_at"] == T0 + DAY
    assert posts[1]["published_at"] is None and posts[1]["scraped_at"] == blog.now[0]


async def test_titles_are_plain_text_and_fragments_are_separate_posts(
    site: Site, make_blog: Any
) -> None:
    notes = [f"Note number {n}: " + LOREM[n % len(LOREM)] for n in range(6)]
    items = "".join(
        f"<item><title>Note &amp;amp; &lt;b&gt;{n}&lt;/b&gt;</title>"
        f"<link>{site.url('/notes')}#n{n}</link><description>{text}</description>"
        f"<pubDate>Mon, 0{n + 1} Nov 2026 08:00:00 GMT</pubDate></item>"
        for n, text in enumerate(notes)
    )
    site.add("/micro.xml", rss(site, items), headers={"Content-Type": "application/rss+xml"})
    blog = make_blog([site.url("/micro.xml")])
    stats = await blog.service.refresh()
    assert stats["new"] == 6 and stats.get("duplicates", 0) == 0
    posts = blog.service.posts(10)
    assert [p["title"] for p in posts] == [f"Note & {n}" for n in range(5, -1, -1)]
    assert [p["url"] for p in posts][-1] == site.url("/notes") + "#n0"
    assert len({e.id for e in blog.sink.events}) == 6
    assert site.hits("/notes") == 0  # the feed carries each note


async def test_repeated_guids_collapse_and_are_counted(site: Site, make_blog: Any) -> None:
    pages(site, ["/a", "/b"])
    items = "".join(
        f"<item><title>T{n}</title><link>{site.url(path)}</link><guid>same-{guid}</guid>"
        f"<pubDate>Mon, 0{n + 1} Nov 2026 08:00:00 GMT</pubDate></item>"
        for n, (path, guid) in enumerate([("/a", 1), ("/b", 2), ("/a", 1), ("/a", 1)])
    )
    site.add("/feed.xml", rss(site, items), headers={"Content-Type": "application/rss+xml"})
    blog = make_blog([site.url("/feed.xml")])
    stats = await blog.service.refresh()
    assert stats["new"] == 2 and stats["duplicate_guids"] == 2


async def test_links_to_private_addresses_are_skipped_and_counted(
    site: Site, make_blog: Any
) -> None:
    pages(site, ["/fine"])
    with recording_server("127.0.0.2") as (inside, seen):
        site.add("/moved", status=302, headers={"Location": inside + "/router"})
        items = "".join(
            f"<item><title>{t}</title><link>{link}</link>"
            f"<pubDate>Mon, 0{n + 1} Nov 2026 08:00:00 GMT</pubDate></item>"
            for n, (t, link) in enumerate(
                [("Fine", site.url("/fine")), ("Router", inside + "/admin"),
                 ("Moved", site.url("/moved"))]
            )
        )  # fmt: skip
        site.add("/feed.xml", rss(site, items), headers={"Content-Type": "application/rss+xml"})
        blog = make_blog([site.url("/feed.xml")])
        stats = await blog.service.refresh()
        assert stats["new"] == 1 and stats["errors"] == 2 and stats["refused"] == 2
        assert all("127.0.0.2" in m and "loopback" in m for m in stats["error_messages"])
        assert seen == []

        chosen = ipaddress.ip_address("127.0.0.2")

        def public(address: IPAddress) -> bool:
            return address == chosen or is_public(address)

        blog = make_blog([site.url("/feed.xml")], public=public)
        stats = await blog.service.refresh()
        assert stats["refused"] == 0 and "/admin" in seen  # a public host is fetched


async def test_latin1_label_summary_without_navigation_and_cjk_sentences(
    site: Site, make_blog: Any
) -> None:
    paragraphs = [
        "Skip to content",
        "Home | Blog | Archive | Contact",
        "The “reading room” – open late – is the town’s favourite place this winter.",
        *LOREM[:2],
    ]
    page = themed_page("Winter", paragraphs, charset="iso-8859-1")
    site.add("/w", page.encode("cp1252"), headers={"Content-Type": "text/html; charset=iso-8859-1"})
    items = f"<item><title>Winter</title><link>{site.url('/w')}</link></item>"
    site.add("/feed.xml", rss(site, items), headers={"Content-Type": "application/rss+xml"})
    blog = make_blog([site.url("/feed.xml")])
    await blog.service.refresh()
    post = blog.cache.value[0]
    assert "The “reading room” – open late – is the town’s favourite" in post["body"]
    assert "Skip to content" not in post["summary"] and "Archive" not in post["summary"]
    assert post["summary"].startswith("The “reading room”")

    text = "新しい図書館が開館した。読書室は毎日満員だ！来週も行こうか？"
    assert split_sentences(text) == [
        "新しい図書館が開館した。",
        "読書室は毎日満員だ！",
        "来週も行こうか？",
    ]
    assert extractive_summary(text, max_sentences=2) != text


@pytest.mark.slow
def test_a_real_server_skips_private_links_and_counts_them(tmp_path: Path, site: Site) -> None:
    pages(site, ["/fine"])
    with recording_server("127.0.0.2") as (inside, seen):
        items = (
            f"<item><title>Fine &amp;amp; <b>well</b></title><link>{site.url('/fine')}</link>"
            "<pubDate>Mon, 02 Nov 2026 08:00:00 GMT</pubDate></item>"
            f"<item><title>Router</title><link>{inside}/admin</link></item>"
        )
        site.add("/feed.xml", rss(site, items), headers={"Content-Type": "text/plain"})
        server = ServerProcess(
            tmp_path / "data", token=ADMIN_TOKEN, HEARTH_BLOG_URLS=site.url("/feed.xml")
        )
        try:
            server.start()
            with server.client() as client:
                deadline = time.monotonic() + 60  # the first scrape runs at start
                while True:
                    jobs = client.get("/v1/jobs").json()["jobs"]
                    run = next(j for j in jobs if j["name"] == "scrape_blog")["last_run"]
                    if run and run["status"] != "running":
                        break
                    assert time.monotonic() < deadline
                    time.sleep(0.3)
                assert run["status"] == "ok", run
                assert run["stats"]["refused"] == 1 and run["stats"]["errors"] == 1
                assert "127.0.0.2" in run["stats"]["error_messages"][0]
                posts = client.get("/v1/blog/posts").json()["items"]
                assert [p["title"] for p in posts] == ["Fine & well"]
        finally:
            server.stop()
        assert seen == []
