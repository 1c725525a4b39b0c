"""Article text and metadata from an HTML page.

trafilatura finds the main text (its precision/recall trade-off chosen by
scripts/bench/extraction.py); when it finds nothing, a BeautifulSoup pass with the theme
chrome removed is better than no body at all. Title, canonical link and publication
date come from the page's own metadata, read once with lxml.

A formula rendered by MathJax is drawn with custom `mjx-*` elements that hold no text
(the glyphs come from CSS) plus a MathML copy for screen readers; trafilatura drops the
unknown elements and with them the formula, so each formula becomes its MathML's text
first (readability's MathJax test page: F1 0.32 -> 0.97).
"""

from __future__ import annotations

import copy
import logging
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import anyio.to_thread
import lxml.html
import trafilatura
from bs4 import BeautifulSoup
from lxml.etree import ParserError

from app.errors import ExtractError
from app.services.blog.container import CONTAINER_RATIO, container_text, drop_hidden, words
from app.values import parse_iso

log = logging.getLogger(__name__)

FAVOR_PRECISION = True  # best F1 in scripts/bench/extraction.py (0.964 vs 0.960)
FAVOR_RECALL = False
CONTAINER_FALLBACK = True  # see container.py; measured in scripts/bench/extraction.py
_CHROME_TAGS = ["script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe"]
_BLANKS = re.compile(r"[ \t\u00a0]+")
_MANY_NEWLINES = re.compile(r"\n\s*\n+")


@dataclass(frozen=True)
class Article:
    text: str
    title: str | None = None
    published_at: float | None = None
    canonical_url: str | None = None


def canonical_url(url: str) -> str:
    """Normalize a link so the same post reached two ways dedupes to one key."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port and (scheme, port) not in {("http", 80), ("https", 443)}:
        host = f"{host}:{port}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_")
    ]
    return urlunsplit((scheme, host, parts.path or "/", urlencode(query), ""))


def parse_date(value: str | None) -> float | None:
    """ISO 8601 (with or without zone, date only) to epoch seconds; None if unreadable."""
    if not value:
        return None
    return parse_iso(value)


def clean_text(text: str) -> str:
    lines = [_BLANKS.sub(" ", line).strip() for line in text.splitlines()]
    return _MANY_NEWLINES.sub("\n\n", "\n".join(lines)).strip()


def fallback_text(html: str) -> str:
    """Visible text without scripts and theme chrome, for pages trafilatura gives up on."""
    soup = BeautifulSoup(html, "lxml")
    for tag in soup(_CHROME_TAGS):
        tag.decompose()
    for tag in soup.select("[id*=comment], [class*=comment], [class*=sidebar], [id*=sidebar]"):
        tag.decompose()
    root = soup.find("article") or soup.find("main") or soup.body or soup
    return clean_text(root.get_text("\n"))


def formulas_as_text(tree: lxml.html.HtmlElement) -> None:
    """Replace each MathML formula (and MathJax's rendering around it) by its text; mutates."""
    for node in tree.xpath("//*[local-name()='math']"):
        text = " ".join(" ".join(node.itertext()).split())
        top = node
        for parent in node.iterancestors():
            if isinstance(parent.tag, str) and parent.tag.startswith("mjx-"):
                top = parent
        if top.getparent() is None:
            continue
        tail = top.tail
        top.clear()
        top.tag, top.text, top.tail = "span", f" {text} " if text else None, tail


def section_text(html: str, fragment: str) -> str:
    """The text of the element a `#fragment` names (an empty anchor: its parent's text)."""
    try:
        tree = lxml.html.document_fromstring(html)
    except (ParserError, ValueError):
        return ""
    found = tree.xpath("//*[@id=$name] | //a[@name=$name]", name=fragment)
    if not found:
        return ""
    node = found[0]
    text = clean_text(node.text_content())
    if len(text) < 40 and node.getparent() is not None:
        text = clean_text(node.getparent().text_content())
    return text


def _meta(tree: lxml.html.HtmlElement) -> dict[str, str]:
    found: dict[str, str] = {}
    for node in tree.iter("meta"):
        key = (node.get("property") or node.get("name") or "").strip().lower()
        value = (node.get("content") or "").strip()
        if key and value and key not in found:
            found[key] = value
    title = tree.findtext(".//title")
    if title and title.strip():
        found["<title>"] = " ".join(title.split())
    for node in tree.iter("link"):
        rels = (node.get("rel") or "").lower().split()
        if "canonical" in rels and node.get("href") and "<canonical>" not in found:
            found["<canonical>"] = node.get("href", "").strip()
    return found


def main_text(html: str, url: str | None = None) -> tuple[str, float | None]:
    """trafilatura's main text and date; the article container's prose when that is much
    longer (container.py); the fallback text when both find nothing."""
    try:
        tree = lxml.html.document_fromstring(html)
    except (ParserError, ValueError):
        return fallback_text(html), None
    drop_hidden(tree)
    formulas_as_text(tree)
    doc = trafilatura.bare_extraction(
        copy.deepcopy(tree),
        url=url,
        include_comments=False,
        include_tables=True,
        favor_precision=FAVOR_PRECISION,
        favor_recall=FAVOR_RECALL,
        with_metadata=True,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    text = clean_text(getattr(doc, "text", None) or "")
    date = parse_date(getattr(doc, "date", None)) if doc is not None else None
    if CONTAINER_FALLBACK:
        alternative = container_text(tree)
        if words(alternative) > CONTAINER_RATIO * words(text):
            text = clean_text(alternative)
    return (text or fallback_text(html)), date


def extract_article(html: str, url: str | None = None) -> Article:
    """Blocking: parse `html` into an Article; run it in a thread from async code."""
    if not html.strip():
        raise ExtractError(f"empty page at {url or 'input'}")
    try:
        tree = lxml.html.document_fromstring(html)
    except (ParserError, ValueError) as exc:
        raise ExtractError(f"unparseable HTML at {url or 'input'}: {exc}") from exc
    meta = _meta(tree)
    text, date = main_text(html, url)
    if not text:
        raise ExtractError(f"no article text found at {url or 'input'}")
    title = meta.get("og:title") or meta.get("<title>") or meta.get("twitter:title")
    # The page's own timestamp first: trafilatura's date is day-precise only.
    published = parse_date(meta.get("article:published_time")) or date
    canonical = meta.get("<canonical>") or meta.get("og:url")
    if canonical and url:
        canonical = urljoin(url, canonical)
    return Article(text=text, title=title, published_at=published, canonical_url=canonical)


async def extract(html: str, url: str | None = None) -> Article:
    """Parse off the event loop: trafilatura on a big page takes tens of milliseconds."""
    return await anyio.to_thread.run_sync(extract_article, html, url)
