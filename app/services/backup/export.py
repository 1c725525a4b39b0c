"""NDJSON export and import: everything an install owns, one JSON object per line.

A header (format, embedder, counts), one line per state file, then one per event with
its vector, so `hearth import` rebuilds an install without re-embedding when the model
is the same, and re-embeds when it is not. Both directions stream: a 100k-event log
never sits in memory as one document.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import IO, Any, Protocol

import anyio.to_thread
import numpy as np
import orjson

from app.errors import HearthError
from app.services.backup.check import CheckState, check_export, summary
from app.storage.events import AddResult
from app.storage.locations import (
    LOCATION,
    REGION,
    Fix,
    Region,
    fix_from_record,
    region_from_record,
)

FORMAT = 1
IMPORT_BATCH = 128  # one block of vectors is parsed holding the GIL: keep it short
# Export pages: Chroma's `get` frees the GIL, and encoding a page (orjson, in a thread)
# holds it ~20 us an event, so a page of 1000 stalls the loop ~20 ms at most.
EXPORT_PAGE = 1000

Progress = Callable[[str], None]
WriteState = Callable[[str, str], Awaitable[None]]


class ImportFormatError(HearthError):
    """The file is not a Hearth export, or has bad lines; nothing was imported."""


class ExportableStore(Protocol):
    embedder_name: str

    @property
    def embedder_dim(self) -> int: ...

    def counts(self) -> tuple[int, dict[str, int]]: ...

    def export_batches(self, batch: int = 500) -> AsyncIterator[list[dict[str, Any]]]: ...

    async def import_records(self, records: list[dict[str, Any]]) -> AddResult: ...


class FixStore(Protocol):
    """The location store (app.storage.locations): lines of kind `location` and `region`."""

    count: int

    def export_batches(self, batch: int = 5000) -> AsyncIterator[list[Fix]]: ...

    async def add(self, fixes: Sequence[Fix]) -> int: ...

    def regions(self) -> list[Region]: ...

    async def put_regions(self, regions: Sequence[Region]) -> None: ...


def _line(obj: dict[str, Any]) -> bytes:
    """One NDJSON line. Vectors given as numpy rows are written as they are stored: a
    float32 value as the shortest text that reads back to the same float32 (half the
    digits of a float64 text, and ~20x faster than `json` with `tolist`)."""
    return orjson.dumps(obj, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_APPEND_NEWLINE)


def _vector(value: Any) -> Any:
    if value is None or isinstance(value, list):
        return value
    if isinstance(value, np.ndarray):
        # Chroma keeps float32 and hands back float64 copies of them: as float32 again
        # (exact), each value is written in ~9 digits instead of 17.
        return np.ascontiguousarray(value, dtype=np.float32)
    return [float(x) for x in value]


def _event_lines(batch: list[dict[str, Any]]) -> bytes:
    out = []
    for record in batch:
        event = {key: record.get(key) for key in ("id", "type", "text", "timestamp")}
        event["received_at"] = record.get("received_at")
        event["metadata"] = dict(record.get("metadata") or {})
        event["embedding"] = _vector(record.get("embedding"))
        out.append(_line({"kind": "event", **event}))
    return b"".join(out)


async def export_lines(
    store: ExportableStore,
    state_docs: dict[str, bytes | str],
    *,
    stats: dict[str, Any] | None = None,
    locations: FixStore | None = None,
) -> AsyncIterator[bytes]:
    """The export, as chunks of complete lines; `stats["total"]` counts events written.

    The first batch of events is fetched before the first line is yielded, so a store
    that is away fails the request (503) instead of cutting a 200 stream short.
    """
    batches = aiter(store.export_batches(EXPORT_PAGE))
    first = await anext(batches, None)
    total, by_type = store.counts()
    yield _line(
        {
            "kind": "header",
            "format": FORMAT,
            "embedder": store.embedder_name,
            "created_at": time.time(),
            "counts": {"total": total, "by_type": by_type},
            **({"locations": locations.count} if locations is not None else {}),
        }
    )
    for name, content in sorted(state_docs.items()):
        text = content.decode("utf-8") if isinstance(content, bytes) else content
        yield _line({"kind": "state", "name": name, "content": text})
    written = 0
    batch = first
    while batch is not None:
        written += len(batch)
        yield await anyio.to_thread.run_sync(_event_lines, batch)
        batch = await anext(batches, None)
    if stats is not None:
        stats["total"] = written
    if locations is not None:
        async for fixes in locations.export_batches():
            yield b"".join(_line(fix.to_record()) for fix in fixes)
        regions = await anyio.to_thread.run_sync(locations.regions)
        yield b"".join(_line(region.to_record()) for region in regions)


class _Lines:
    """Numbered, parsed lines of an open file, read in blocks off the event loop."""

    def __init__(self, fh: IO[bytes]) -> None:
        self._fh = fh
        self._number = 0

    def read_block(self, limit: int) -> list[tuple[int, dict[str, Any]]]:
        out: list[tuple[int, dict[str, Any]]] = []
        while len(out) < limit:
            line = self._fh.readline()
            if not line:
                break
            self._number += 1
            if not line.strip():
                continue
            try:
                obj = orjson.loads(line)
            except ValueError as exc:
                raise ImportFormatError(f"line {self._number} is not JSON: {exc}") from exc
            if not isinstance(obj, dict) or "kind" not in obj:
                raise ImportFormatError(f"line {self._number} has no 'kind'")
            out.append((self._number, obj))
        return out


def _record(obj: dict[str, Any], embedder: str | None) -> dict[str, Any]:
    """The store reuses a vector only when `embedder` names its own model."""
    record = {key: obj.get(key) for key in ("id", "type", "text", "timestamp", "received_at")}
    record["metadata"] = obj.get("metadata") or {}
    record["embedding"] = obj.get("embedding") if embedder else None
    record["embedder"] = embedder
    return record


async def import_file(
    store: ExportableStore,
    path: Path,
    *,
    write_state: WriteState | None,
    progress: Progress | None = None,
    locations: FixStore | None = None,
    check_state: CheckState | None = None,
) -> dict[str, Any]:
    """Load an export; safe to repeat (events are matched by id). Returns counts.

    The whole file is checked first (`app.services.backup.check`): any bad line and
    nothing is imported, state files included.
    """
    problems = await anyio.to_thread.run_sync(
        check_export, path, store.embedder_name, store.embedder_dim, check_state
    )
    if problems:
        raise ImportFormatError(summary(problems))
    fh = await anyio.to_thread.run_sync(path.open, "rb")
    try:
        lines = _Lines(fh)
        first = await anyio.to_thread.run_sync(lines.read_block, 1)
        if not first or first[0][1].get("kind") != "header":
            raise ImportFormatError(f"{path.name} does not start with a Hearth export header")
        header = first[0][1]
        if header.get("format") != FORMAT:
            raise ImportFormatError(
                f"{path.name}: unsupported export format {header.get('format')}"
            )
        reuse = header.get("embedder") == store.embedder_name
        counts = {"events": 0, "created": 0, "duplicates": 0, "locations": 0}
        counts["locations_created"] = 0
        state_files: list[str] = []
        expected = (header.get("counts") or {}).get("total")
        batch: list[dict[str, Any]] = []
        fixes: list[Fix] = []
        regions: list[Region] = []

        async def send_fixes() -> None:
            if locations is not None:
                counts["locations_created"] += await locations.add(fixes)
            counts["locations"] += len(fixes)
            fixes.clear()

        async def send() -> None:
            added = await store.import_records(batch)
            counts["events"] += len(batch)
            counts["created"] += added.created
            counts["duplicates"] += added.duplicates
            batch.clear()
            if progress is not None:
                of = f" of {expected}" if isinstance(expected, int) else ""
                progress(f"imported {counts['events']}{of} events")

        while block := await anyio.to_thread.run_sync(lines.read_block, IMPORT_BATCH):
            for number, obj in block:
                kind = obj["kind"]
                if kind == "event":
                    batch.append(_record(obj, store.embedder_name if reuse else None))
                    if len(batch) >= IMPORT_BATCH:
                        await send()
                elif kind == "state":
                    name, content = obj.get("name"), obj.get("content")
                    if not isinstance(name, str) or not isinstance(content, str):
                        raise ImportFormatError(
                            f"line {number}: a state line needs name and content"
                        )
                    if write_state is not None:
                        await write_state(name, content)
                    state_files.append(name)
                elif kind == LOCATION:
                    try:
                        fixes.append(fix_from_record(obj))
                    except ValueError as exc:
                        raise ImportFormatError(f"line {number}: {exc}") from exc
                    if len(fixes) >= 5000:
                        await send_fixes()
                elif kind == REGION:
                    try:
                        regions.append(region_from_record(obj))
                    except ValueError as exc:
                        raise ImportFormatError(f"line {number}: {exc}") from exc
                else:
                    raise ImportFormatError(f"line {number}: unknown kind {kind!r}")
        if batch:
            await send()
        if fixes:
            await send_fixes()
        if regions and locations is not None:
            await locations.put_regions(regions)
        counts["regions"] = len(regions)
    finally:
        await anyio.to_thread.run_sync(fh.close)
    return {**counts, "state_files": state_files, "reembedded": not reuse}
