"""Checking a whole NDJSON export before `hearth import` changes anything.

An import that stops at a bad line halfway has already replaced state files and stored
part of the events; one that stores a bad line (an event without id as "None", a
wrong-size vector silently re-embedded) is worse. So the file is read once, every line
checked, and the import runs only when no line is bad; otherwise every bad line is named.
Blocking (one pass over the file): run it in a worker thread.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from app.storage.locations import LOCATION, REGION, fix_from_record, region_from_record
from app.values import is_number

FORMAT = 1
MAX_LISTED = 50
_TYPE = re.compile(r"^[a-z0-9_.-]{1,64}$")

CheckState = Callable[[str, str], str | None]


def _scalar(value: object) -> bool:
    return isinstance(value, str | bool) or is_number(value)


def event_problem(obj: dict[str, Any], dim: int | None) -> str | None:
    """What is wrong with one event line (None: nothing); `dim`: the vector size to reuse."""
    event_id, kind, text = obj.get("id"), obj.get("type"), obj.get("text")
    if not isinstance(event_id, str) or not event_id.strip():
        return "no id" if event_id is None else "id must be a non-empty string"
    if not isinstance(kind, str) or not _TYPE.match(kind):
        return "type must be 1-64 characters of a-z 0-9 _ . -"
    if not isinstance(text, str) or not text:
        return "text must be a non-empty string"
    if not is_number(obj.get("timestamp")):
        return "timestamp must be a number"
    if obj.get("received_at") is not None and not is_number(obj.get("received_at")):
        return "received_at must be a number"
    metadata = obj.get("metadata")
    if metadata is not None and not (
        isinstance(metadata, dict) and all(_scalar(v) for v in metadata.values())
    ):
        return "metadata must map names to strings, numbers or booleans"
    vector = obj.get("embedding")
    if vector is not None:
        if not isinstance(vector, list) or not all(is_number(x) for x in vector):
            return "embedding must be a list of numbers"
        if dim is not None and len(vector) != dim:
            return f"embedding has {len(vector)} values, this install's model uses {dim}"
    return None


def _digest(obj: dict[str, Any]) -> bytes:
    content = [obj.get(k) for k in ("type", "text", "timestamp", "metadata")]
    return hashlib.blake2b(json.dumps(content, sort_keys=True).encode(), digest_size=16).digest()


def check_export(
    path: Path, embedder: str, dim: int, check_state: CheckState | None = None
) -> list[str]:
    """Every bad line of the export at `path`, as "line N: why" (empty: fine to import)."""
    problems: list[str] = []
    seen: dict[str, tuple[int, bytes]] = {}
    reuse_dim: int | None = None
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                obj = orjson.loads(raw)
            except ValueError:
                problems.append(f"line {number}: not JSON")
                continue
            if not isinstance(obj, dict):
                problems.append(f"line {number}: not a JSON object")
                continue
            kind = obj.get("kind")
            if number == 1 or kind == "header":
                if number != 1 or kind != "header":
                    problems.append(f"line {number}: the header must be the first line, once")
                elif obj.get("format") != FORMAT:
                    problems.append(f"line 1: unsupported export format {obj.get('format')!r}")
                elif obj.get("embedder") == embedder:
                    reuse_dim = dim
                continue
            if kind == "state":
                name, content = obj.get("name"), obj.get("content")
                if not isinstance(name, str) or not isinstance(content, str):
                    problems.append(f"line {number}: a state line needs name and content")
                elif check_state is not None and (why := check_state(name, content)):
                    problems.append(f"line {number}: {name}: {why}")
                continue
            if kind in (LOCATION, REGION):
                try:
                    (fix_from_record if kind == LOCATION else region_from_record)(obj)
                except ValueError as exc:
                    problems.append(f"line {number}: {exc}")
                continue
            if kind != "event":
                problems.append(f"line {number}: unknown kind {kind!r}")
                continue
            why = event_problem(obj, reuse_dim)
            if why is not None:
                problems.append(f"line {number}: {why}")
                continue
            digest = _digest(obj)
            first = seen.setdefault(obj["id"], (number, digest))
            if first[1] != digest:
                problems.append(
                    f"line {number}: id {obj['id']!r} again (line {first[0]}) with other content"
                )
    if not seen and not problems and not path.stat().st_size:
        problems.append("line 1: empty file, not a Hearth export")
    return problems


def summary(problems: list[str]) -> str:
    listed = problems[:MAX_LISTED]
    more = len(problems) - len(listed)
    tail = [f"... and {more} more bad lines"] if more > 0 else []
    return "\n".join([f"{len(problems)} bad line(s), nothing imported:", *listed, *tail])
