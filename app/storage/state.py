"""StateManager: the small files a person can read with cat and jq.

`current_mood.txt` (JSON object), `thoughts.json` (the newest phone thoughts, bounded),
`recent_thoughts.txt` (text rebuilt from thoughts and blog posts) and `blog_cache.json`
(a plain JSON array, newest first). JSON objects carry a `schema` version and are
upgraded on read; a corrupt file is moved aside and the `.bak` or the default is used.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path
from typing import Any

from app.storage.document import DurableDocument
from app.storage.files import ensure_private_dir
from app.storage.gate import WriteGate
from app.values import is_number

MOOD_SCHEMA = 1
THOUGHTS_SCHEMA = 1
THOUGHTS_KEPT = 500
DEFAULT_MOOD: dict[str, Any] = {"mood": "neutral", "context": "", "updated_at": 0}

Json = dict[str, Any]


def encode_json(value: Any) -> bytes:
    return (json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()


def decode_mood(data: bytes) -> Json:
    raw = json.loads(data)
    if not isinstance(raw, dict):
        raise ValueError("current_mood.txt must hold a JSON object")
    if "schema" not in raw and "timestamp" in raw and "updated_at" not in raw:
        raw["updated_at"] = raw.pop("timestamp")  # the seed's pre-schema format
    mood = {
        "schema": MOOD_SCHEMA,
        "mood": raw.get("mood"),
        "context": raw.get("context", ""),
        "updated_at": raw.get("updated_at", 0),
    }
    if not isinstance(mood["mood"], str) or not isinstance(mood["context"], str):
        raise ValueError("mood and context must be strings")
    if not is_number(mood["updated_at"]):
        raise ValueError("updated_at must be a number")
    return mood


def decode_thoughts(data: bytes) -> Json:
    raw = json.loads(data)
    items = raw.get("items") if isinstance(raw, dict) else None
    if not isinstance(items, list):
        raise ValueError("thoughts.json must hold an object with an items list")
    for item in items:
        if not (
            isinstance(item, dict)
            and isinstance(item.get("id"), str)
            and isinstance(item.get("text"), str)
            and is_number(item.get("created_at"))
        ):
            raise ValueError("each thought needs id, text and created_at")
    return {"schema": THOUGHTS_SCHEMA, "items": items}


def decode_blog_cache(data: bytes) -> list[Json]:
    raw = json.loads(data)
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise ValueError("blog_cache.json must hold a JSON array of objects")
    return raw


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _line(text: object) -> str:
    """One plain line: whitespace collapsed, control characters (ESC ...) dropped, so
    `cat recent_thoughts.txt` cannot be made to move the cursor or recolour a terminal."""
    return " ".join(_CONTROL.sub(" ", str(text)).split())


def _fmt_time(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(epoch))


def render_recent(thoughts: list[Json], posts: list[Json], *, limit: int) -> str:
    """The human-readable digest: newest thoughts, then the newest posts with summaries."""
    lines = ["Recent thoughts", "==============="]
    if not thoughts:
        lines.append("(none yet)")
    for item in thoughts[:limit]:
        lines.append(f"{_fmt_time(item['created_at'])}  {_line(item['text'])}")
    lines += ["", "Recent blog posts", "================="]
    if not posts:
        lines.append("(none yet)")
    for post in posts[:limit]:
        when = post.get("published_at") or post.get("scraped_at") or 0
        title = _line(post.get("title") or post.get("url", ""))
        lines.append(f"{title} ({_fmt_time(when)[:10]})")
        if post.get("summary"):
            lines.append(f"  {_line(post['summary'])}")
        if post.get("url"):
            lines.append(f"  {_line(post['url'])}")
    return "\n".join(lines) + "\n"


class StateManager:
    """Owns the state files; reads are served from memory after `load()`."""

    def __init__(self, state_dir: Path, *, gate: WriteGate, recent_limit: int = 20) -> None:
        self.dir = state_dir
        self.recent_limit = recent_limit
        self.warnings: list[str] = []
        self.mood = DurableDocument[Json](
            state_dir / "current_mood.txt",
            encode=encode_json,
            decode=decode_mood,
            default=lambda: {"schema": MOOD_SCHEMA, **DEFAULT_MOOD},
            gate=gate,
        )
        self.thoughts = DurableDocument[Json](
            state_dir / "thoughts.json",
            encode=encode_json,
            decode=decode_thoughts,
            default=lambda: {"schema": THOUGHTS_SCHEMA, "items": []},
            gate=gate,
        )
        self.recent = DurableDocument[str](
            state_dir / "recent_thoughts.txt",
            encode=str.encode,
            decode=lambda data: data.decode("utf-8"),
            default=lambda: render_recent([], [], limit=recent_limit),
            gate=gate,
        )
        self.blog_cache = DurableDocument[list[Json]](
            state_dir / "blog_cache.json",
            encode=encode_json,
            decode=decode_blog_cache,
            default=list,
            gate=gate,
        )
        self._etag_key: tuple[int, int] | None = None
        self._etag = ""
        self._state_body = b""

    @property
    def documents(self) -> list[DurableDocument[Any]]:
        return [self.mood, self.thoughts, self.recent, self.blog_cache]

    def load(self) -> list[str]:
        """Blocking: create the dir and load (or recover) every file."""
        ensure_private_dir(self.dir)
        for doc in self.documents:
            self.warnings += doc.load()
        return self.warnings

    async def drain(self) -> None:
        for doc in self.documents:
            await doc.drain()

    def snapshot(self) -> dict[str, bytes | str]:
        """File name -> current content, for export."""
        return {doc.path.name: doc.encode(doc.value).decode() for doc in self.documents}

    def check_file(self, name: str, content: str) -> str | None:
        """Why `content` cannot replace the state file `name` (None: it can, or unknown)."""
        for doc in self.documents:
            if doc.path.name == name:
                try:
                    doc.decode(content.encode())
                except (ValueError, TypeError, KeyError, UnicodeError) as exc:
                    return str(exc) or exc.__class__.__name__
        return None

    async def import_file(self, name: str, content: str) -> None:
        """Replace one state file from an export; unknown names are ignored."""
        for doc in self.documents:
            if doc.path.name == name:
                value = doc.decode(content.encode())

                def replace(_old: Any, new: Any = value) -> tuple[Any, None]:
                    return new, None

                await doc.update(replace)
                return

    def current_mood(self) -> Json:
        value = self.mood.value
        return {
            "mood": value["mood"],
            "context": value["context"],
            "updated_at": value["updated_at"],
        }

    def recent_thoughts(self, limit: int | None = None) -> list[Json]:
        items: list[Json] = self.thoughts.value["items"]
        return items[: limit or len(items)]

    async def rebuild_recent(self) -> None:
        text = render_recent(
            self.thoughts.value["items"], self.blog_cache.value, limit=self.recent_limit
        )
        await self.recent.update(lambda old: (old if old == text else text, None))

    def state(self) -> tuple[bytes, str]:
        """The /v1/state body, serialized, and its ETag (rebuilt only after a change).

        The phone polls this route, so it is served from bytes cached per version.
        """
        key = (self.mood.version, self.recent.version)
        if key != self._etag_key:
            mood = self.current_mood()
            items = self.thoughts.value["items"]
            updated = max([mood["updated_at"], *(i["created_at"] for i in items[:1])])
            body = {"mood": mood, "thoughts": self.recent.value, "updated_at": updated}
            data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
            digest = hashlib.blake2b(data, digest_size=12).hexdigest()
            self._etag_key, self._etag, self._state_body = key, f'"{digest}"', data
        return self._state_body, self._etag
