"""The page's own article container, as a second opinion when trafilatura keeps too little.

trafilatura sometimes keeps a fraction of a post: it drops a paragraph that repeats an
earlier one, or settles on one block of a page full of embeds. When the page marks its
post with a single `<article>` (or `<main>`), the prose blocks inside it (paragraphs,
headings, list items, quotes, code, table cells, divs of bare text; link lists and
chrome left out) are a
good stand-in, and they win when they are much longer than what trafilatura kept.
Hidden elements go first, for both: a browser shows none of them. The ratio was chosen
with scripts/bench/extraction.py on both of its page sets.
"""

from __future__ import annotations

import re

import lxml.html

CONTAINER_RATIO = 1.3
_CHROME = ("script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe")
_NOISE = ("comment", "share", "related", "caption", "byline", "meta")
_BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "td", "th", "dd"}
_HIDDEN = (
    "//*[@hidden] | //*[@aria-hidden='true']"
    " | //*[contains(translate(@style, ' ', ''), 'display:none')]"
    " | //*[contains(translate(@style, ' ', ''), 'visibility:hidden')]"
)
_WORD = re.compile(r"\w+")


def words(text: str) -> int:
    return len(_WORD.findall(text))


def drop_hidden(tree: lxml.html.HtmlElement) -> None:
    for node in tree.xpath(_HIDDEN):
        if node.getparent() is not None:
            node.drop_tree()


def _has_blocks(element: lxml.html.HtmlElement) -> bool:
    return any(child.tag in _BLOCKS or child.tag == "div" for child in element.iterdescendants())


def _container(tree: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    for tag in ("article", "main"):
        found = tree.xpath(f"//{tag}")
        if len(found) == 1:
            return found[0]
    return None


def container_text(tree: lxml.html.HtmlElement) -> str:
    """The prose blocks of the page's single article container ("" without one); mutates."""
    node = _container(tree)
    if node is None:
        return ""
    for bad in node.xpath(" | ".join(f".//{tag}" for tag in _CHROME)):
        bad.drop_tree()
    noisy = " or ".join(f"contains(@class, '{n}') or contains(@id, '{n}')" for n in _NOISE)
    for bad in node.xpath(f".//*[{noisy}]"):
        if bad.getparent() is not None:
            bad.drop_tree()
    blocks = []
    for element in node.iter(*_BLOCKS, "div"):
        if any(parent.tag in _BLOCKS for parent in element.iterancestors()):
            continue
        if element.tag == "div" and _has_blocks(element):
            continue  # a div holding paragraphs is a wrapper; a div of bare text is one
        text = " ".join(element.text_content().split())
        linked = sum(len(a.text_content()) for a in element.iter("a"))
        if text and not (linked > len(text) / 2 and len(text) < 200):
            blocks.append(text)
    return "\n".join(blocks)
