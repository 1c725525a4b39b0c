"""The web app's files, read once into memory.

The build id (app version + a hash of every file) is part of every static URL and of the
service worker's cache name, so a new release never mixes old and new files: static
files can be cached forever, and only `/`, `/sw.js` and the manifest are revalidated.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

WEB_DIR = Path(__file__).resolve().parent
# Served at the root (never cached for long) with the build id written in.
TEMPLATES = ("index.html", "sw.js", "manifest.webmanifest")
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".webmanifest": "application/manifest+json",
    ".png": "image/png",
    ".txt": "text/plain; charset=utf-8",
}
_COMPRESSIBLE = {".html", ".js", ".css", ".webmanifest", ".txt"}


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    gzipped: bytes | None = None


@dataclass(frozen=True)
class WebBundle:
    build: str
    pages: dict[str, Asset]  # the templates, rendered, by file name
    static: dict[str, Asset]  # everything else, by path relative to WEB_DIR

    @classmethod
    def load(cls, version: str, root: Path = WEB_DIR) -> WebBundle:
        files = {
            p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*"))
            if p.is_file() and p.suffix in _TYPES
        }
        digest = hashlib.sha256()
        for name, body in files.items():
            digest.update(name.encode() + b"\0" + body + b"\0")
        build = f"{version}-{digest.hexdigest()[:10]}"
        static = {name: _asset(name, body) for name, body in files.items() if name not in TEMPLATES}
        shell = ["/", *(f"/static/{build}/{name}" for name in static if _in_shell(name))]
        values = {
            "{{BUILD}}": build,
            "{{VERSION}}": version,
            "{{SHELL}}": json.dumps(shell),
        }
        pages = {}
        for name in TEMPLATES:
            text = files[name].decode()
            for key, value in values.items():
                text = text.replace(key, value)
            pages[name] = _asset(name, text.encode())
        return cls(build=build, pages=pages, static=static)


def _in_shell(name: str) -> bool:
    """What the service worker stores on install: code and style, and the icons."""
    return name.endswith((".js", ".css", ".png"))


def _asset(name: str, body: bytes) -> Asset:
    suffix = Path(name).suffix
    packed = gzip.compress(body, 9, mtime=0) if suffix in _COMPRESSIBLE else None
    if packed is not None and len(packed) >= len(body):
        packed = None
    return Asset(body=body, media_type=_TYPES[suffix], gzipped=packed)
