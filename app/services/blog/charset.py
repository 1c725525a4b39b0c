"""Bytes to text the way browsers do it: declared charset, BOM, <meta>, else UTF-8 or a guess.

A page labelled `iso-8859-1` (or `us-ascii`) is read as windows-1252, as the WHATWG
Encoding standard tells browsers to: real pages with that label use cp1252's curly
quotes and dashes in 0x80-0x9F, which latin-1 would turn into control characters.
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_:.\-]+)""", re.I)
_AS_CP1252 = {"latin-1", "iso8859-1", "ascii"}


def known_codec(name: str | bytes | None) -> str | None:
    """The Python codec for a charset label, with the WHATWG cp1252 aliasing; None if unknown."""
    if not name:
        return None
    label = name.decode("ascii", "ignore") if isinstance(name, bytes) else name
    try:
        codec = codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None
    return "cp1252" if codec in _AS_CP1252 else codec


def decode_body(content: bytes, content_type: str | None) -> str:
    """Text in the declared charset (header, BOM, then <meta>), else UTF-8, else detected."""
    declared = None
    if content_type and "charset=" in content_type.lower():
        declared = known_codec(content_type.lower().split("charset=", 1)[1].split(";")[0])
    if declared is None and content.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE)):
        declared = "utf-8-sig" if content.startswith(codecs.BOM_UTF8) else "utf-16"
    if declared is None:
        match = _META_CHARSET.search(content[:4096])
        declared = known_codec(match.group(1)) if match else None
    if declared is not None:
        return content.decode(declared, errors="replace")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        best = charset_normalizer.from_bytes(content).best()
        return str(best) if best is not None else content.decode("utf-8", errors="replace")
