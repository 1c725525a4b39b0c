"""The outbox's journal file: one JSON event per line, appended and fsynced.

Blocking functions (the outbox runs them in a worker thread). A torn last line is what
`kill -9` during an append leaves: that write was never acknowledged, so reading drops it
with a warning, and the next append starts on a fresh line.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path

from app.storage.events.types import Event
from app.storage.files import FILE_MODE, atomic_write, fsync_dir, storage_error

log = logging.getLogger(__name__)


def encode_line(event: Event) -> bytes:
    return json.dumps(event.to_api(), ensure_ascii=False, sort_keys=True).encode() + b"\n"


def decode_line(line: bytes) -> Event:
    raw = json.loads(line)
    return Event(
        id=str(raw["id"]),
        type=str(raw["type"]),
        text=str(raw["text"]),
        timestamp=float(raw["timestamp"]),
        received_at=float(raw["received_at"]),
        metadata=dict(raw.get("metadata") or {}),
    )


def read_journal(path: Path) -> tuple[list[Event], list[str]]:
    """Events in the journal (first copy of each id) and warnings; blocking.

    A torn last line is what kill -9 during an append leaves: that put was never acked,
    so it is dropped with a warning. A bad line elsewhere is skipped the same way.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return [], []
    events: dict[str, Event] = {}
    warnings: list[str] = []
    lines = data.split(b"\n")
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = decode_line(line)
        except (ValueError, KeyError, TypeError) as exc:
            where = "torn last line" if n == len(lines) else f"bad line {n}"
            warnings.append(f"{path.name}: {where} ignored ({exc.__class__.__name__})")
            log.warning("%s", warnings[-1])
            continue
        events.setdefault(event.id, event)
    return list(events.values()), warnings


def append(path: Path, data: bytes) -> None:
    """Append `data` and fsync it (blocking); a failed write leaves no half line."""
    created = not path.exists()
    try:
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, FILE_MODE)
    except OSError as exc:
        raise storage_error(exc, path) from exc
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            data = b"\n" + data  # a torn line from a crash must not swallow ours
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size)  # no half line for the next append to follow
                os.fsync(fd)
            raise storage_error(exc, path) from exc
    finally:
        os.close(fd)
    if created:
        fsync_dir(path.parent)


def rewrite(path: Path, data: bytes) -> None:
    """Replace the journal with `data` (blocking): atomically, or truncated when empty."""
    if data:
        atomic_write(path, data, keep_backup=False)
        return
    if not path.exists():
        return
    fd = os.open(path, os.O_WRONLY)
    try:
        os.ftruncate(fd, 0)
        os.fsync(fd)
    finally:
        os.close(fd)
