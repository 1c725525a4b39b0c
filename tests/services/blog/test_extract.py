"""Article text, metadata, feed parsing and discovery on real pages and feeds."""

from __future__ import annotations

import pytest

from app.errors import ExtractError
from app.services.blog.extract import canonical_url, extract, extract_article, fallback_text
from app.services.blog.feeds import discover_feed, looks_like_html, parse_feed_bytes
from tests.utils.site import CLUTTER, LOREM, themed_page

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Example Blog</title><link>https://blog.example/</link>
<item><title>First &amp; best</title><link>/posts/first</link><guid>urn:1</guid>
<pubDate>Sun, 01 Nov 2026 08:00:00 GMT</pubDate><description>Teaser one.</description></item>
<item><title>Second</title><link>https://blog.example/posts/second</link><guid>urn:2</guid>
<pubDate>Mon, 02 Nov 2026 08:00:00 GMT</pubDate>
<description>{full}</description></item>
<item><title>Second again</title><link>https://blog.example/posts/second-copy</link>
<guid>urn:2</guid></item>
</channel></rss>"""


def test_theme_clutter_stays_out_of_the_article() -> None:
    page = themed_page("The new library", LOREM, canonical="/posts/library?utm_source=rss#top")
    article = extract_article(page, "https://Blog.Example/posts/library")
    for sentence in LOREM:
        assert sentence in article.text
    assert not [word for word in CLUTTER if word in article.text]
    assert article.title == "The new library"
    assert article.published_at == 1793520000.0  # 2026-11-01T08:00:00Z
    assert article.canonical_url is not None
    assert canonical_url(article.canonical_url) == "https://blog.example/posts/library"


MATHJAX = (
    '<mjx-container class="MathJax" jax="CHTML"><mjx-math class="MJX-TEX">'
    '<mjx-mi><mjx-c class="mjx-c1D44E"></mjx-c></mjx-mi><mjx-mo><mjx-c class="mjx-c2260">'
    '</mjx-c></mjx-mo><mjx-mn><mjx-c class="mjx-c30"></mjx-c></mjx-mn></mjx-math>'
    '<mjx-assistive-mml unselectable="on" display="inline"><math><mi>a</mi><mo>≠</mo>'
    "<mn>0</mn></math></mjx-assistive-mml></mjx-container>"
)


def test_a_mathjax_formula_keeps_its_text() -> None:
    # MathJax draws the glyphs with CSS in mjx-* elements and keeps a MathML copy for
    # screen readers: the formula's text is that copy's, in its place in the sentence.
    sentence = f"When {MATHJAX} holds, there are two solutions to the quadratic equation."
    article = extract_article(themed_page("Quadratics", [*LOREM, sentence]))
    assert "When a ≠ 0 holds, there are two solutions to the quadratic equation." in article.text
    assert LOREM[0] in article.text


def test_fallback_text_drops_scripts_and_chrome() -> None:
    text = fallback_text(themed_page("Title", ["Only this paragraph matters here."]))
    assert "Only this paragraph matters here." in text
    assert not [word for word in CLUTTER if word in text]


def test_empty_page_is_an_extract_error() -> None:
    with pytest.raises(ExtractError):
        extract_article("   ", "https://blog.example/empty")


@pytest.mark.anyio
async def test_extract_runs_off_the_loop_with_the_same_result() -> None:
    page = themed_page("Async", LOREM)
    assert (await extract(page)).text == extract_article(page).text


def test_canonical_url_normalizes_case_fragment_tracking_and_port() -> None:
    assert (
        canonical_url("HTTPS://Blog.Example:443/a?utm_medium=x&id=3&UTM_source=y#frag")
        == "https://blog.example/a?id=3"
    )
    assert canonical_url("http://blog.example:8080") == "http://blog.example:8080/"


def test_feed_entries_dates_links_and_duplicate_guids() -> None:
    full = "<p>" + " ".join(LOREM) + "</p>"
    feed = parse_feed_bytes(
        RSS.format(full=full.replace("<", "&lt;")).encode(), "https://blog.example/feed.xml"
    )
    assert feed.title == "Example Blog"
    assert [e.guid for e in feed.entries] == ["urn:1", "urn:2"]  # the repeated guid is dropped
    first, second = feed.entries
    assert first.link == "https://blog.example/posts/first"
    assert first.title == "First & best"
    assert first.published_at == 1793520000.0
    assert not first.has_full_text
    assert second.has_full_text and LOREM[0] in second.content_text


def test_malformed_feed_is_an_error_but_bozo_with_entries_is_used() -> None:
    with pytest.raises(ExtractError, match="malformed feed"):
        parse_feed_bytes(b"<rss><channel><item><title>broken", "https://b.example/feed")
    sloppy = RSS.format(full="ok").replace("</channel></rss>", "<junk></channel></rss>&")
    feed = parse_feed_bytes(sloppy.encode(), "https://blog.example/feed.xml")
    assert len(feed.entries) == 2


def test_feed_discovery_from_a_page() -> None:
    page = themed_page(
        "Home",
        ["Welcome."],
        extra_head='<link rel="alternate" type="application/atom+xml" href="/atom.xml">',
    )
    assert looks_like_html(page.encode(), "text/html")
    assert discover_feed(page, "https://blog.example/blog/") == "https://blog.example/atom.xml"
    assert discover_feed(themed_page("No feed", ["x"]), "https://blog.example/") is None
    assert not looks_like_html(RSS.encode(), "application/rss+xml")
