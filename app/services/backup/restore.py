"""Restore an archive into a data directory, all or nothing.

The archive is extracted into a scratch dir inside the data dir (same filesystem, so
the swap is a rename) while every file is checked against the manifest; a damaged
archive stops there with the live data untouched. Then the current `chroma/` and
`state/` are renamed aside into `previous-<timestamp>/` and the restored ones renamed
in. The caller holds the data-dir lock, so no server is writing meanwhile.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.errors import BackupError
from app.services.backup.verify import EXPORT_NAME, extract_verified
from app.storage.files import ensure_private_dir, fsync_dir

TOPS = ("chroma", "state")
Progress = Callable[[str], None]


def _stamp() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())


def _unique(path: Path) -> Path:
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}-{n}")
    return candidate


def _swap(data_dir: Path, restored: Path, tops: list[str]) -> Path:
    """Move the current tops aside and the restored ones in; undo on failure."""
    aside = _unique(data_dir / f"previous-{_stamp()}")
    aside.mkdir(mode=0o700)
    moved_out: list[str] = []
    moved_in: list[str] = []
    try:
        for top in tops:
            if (data_dir / top).exists():
                os.rename(data_dir / top, aside / top)
                moved_out.append(top)
        for top in tops:
            if (restored / top).exists():
                os.rename(restored / top, data_dir / top)
                moved_in.append(top)
            else:
                ensure_private_dir(data_dir / top)
    except OSError as exc:
        for top in moved_in:
            os.rename(data_dir / top, restored / top)
        for top in moved_out:
            shutil.rmtree(data_dir / top, ignore_errors=True)
            os.rename(aside / top, data_dir / top)
        raise BackupError(f"could not swap the restored data in: {exc}") from exc
    fsync_dir(aside)
    fsync_dir(data_dir)
    return aside


def _to_stderr(message: str) -> None:
    sys.stderr.write(message + "\n")


async def _import_logical(
    export: Path, data_dir: Path, chroma_url: str | None, progress: Progress
) -> dict[str, Any]:
    from app.services.backup.export import import_file
    from app.storage.embeddings import get_embedder
    from app.storage.events import EventStore
    from app.storage.gate import WriteGate

    store = await EventStore.open(
        chroma_dir=data_dir / "chroma",
        chroma_url=chroma_url,
        embedder=get_embedder(),
        outbox_path=data_dir / "state" / "outbox.jsonl",
        gate=WriteGate(),
    )
    try:
        result = await import_file(store, export, write_state=None, progress=progress)
        await store.flush()
    finally:
        await store.close()
    return result


def restore(
    archive: Path,
    data_dir: Path,
    *,
    progress: Progress | None = None,
    chroma_url: str | None = None,
) -> dict[str, Any]:
    """Blocking. Raises ArchiveCorruptError (data untouched) or BackupError."""
    if not archive.is_file():
        raise BackupError(f"no archive at {archive}")
    ensure_private_dir(data_dir)
    scratch = _unique(data_dir / f".restore-{_stamp()}")
    scratch.mkdir(mode=0o700)
    progress = progress or _to_stderr  # stdout is for the JSON result
    try:
        progress(f"checking and extracting {archive.name} ...")
        manifest = extract_verified(archive, scratch)
        kind = manifest.get("kind", "files")
        tops = list(TOPS) if kind == "files" else ["state"]
        aside = _swap(data_dir, scratch, tops)
        imported: dict[str, Any] | None = None
        if kind == "logical":
            progress("importing events into the store ...")
            imported = asyncio.run(
                _import_logical(scratch / EXPORT_NAME, data_dir, chroma_url, progress)
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    events = manifest.get("events", {})
    created = manifest.get("created_at")
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(created)) if created else "unknown"
    by_type = ", ".join(f"{k} {v}" for k, v in sorted(events.get("by_type", {}).items()))
    progress(
        f"restored {archive.name} (taken {when}): {events.get('total', '?')} events"
        f"{f' ({by_type})' if by_type else ''}; the previous data is kept in {aside}"
    )
    return {
        "archive": archive.name,
        "kind": kind,
        "created_at": created,
        "events": events,
        "files": len(manifest.get("files", {})),
        "previous": str(aside),
        "imported": imported,
    }
