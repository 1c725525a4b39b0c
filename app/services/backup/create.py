"""Hot, consistent backups: pause writes only for a fast copy, archive and verify after.

Copying Chroma's directory while writes run gave 6 broken copies in 20; with every
write paused, 12 of 12 were good. So a backup drains the outbox, holds the write gate
only while `chroma/` and `state/` are copied into a staging dir on the backups
filesystem (see app.services.backup.staging: a first copy runs unpaused, the paused pass only
recopies what changed), and builds the archive from the staging copy with writes flowing
again. A separate process then checks the archive the way a restore would use it.
In Chroma-server mode there is no directory to copy: events go in as an NDJSON export.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio.to_thread

from app.children import die_with_parent
from app.errors import BackupError, StorageError
from app.services.backup.archive import file_table, write_archive
from app.services.backup.catalog import list_backups, new_name, prune, write_sidecar
from app.services.backup.staging import precopy, resync
from app.services.backup.verify import EXPORT_NAME, FORMAT
from app.storage.files import ensure_private_dir, fsync_dir, storage_error
from app.storage.gate import WriteGate

if TYPE_CHECKING:
    from app.storage.events import EventStore

log = logging.getLogger(__name__)
__all__ = [
    "clear_leftovers",
    "create_backup",
    "list_backups",
    "prune",
    "store_export",
    "store_snapshot",
]

COPIED = ["chroma", "state"]
VERIFY_TIMEOUT_S = 1800.0
FLUSH_TIMEOUT_S = 10.0

Snapshot = Callable[[], Awaitable[dict[str, Any]]]
Export = Callable[[dict[str, Any]], AsyncIterator[bytes]]


def clear_leftovers(backups_dir: Path) -> None:
    """A backup cut short by a crash leaves a staging dir or a temp archive behind."""
    for path in backups_dir.glob(".staging-hearth-*"):
        shutil.rmtree(path, ignore_errors=True)
    for path in backups_dir.glob(".hearth-*.tar.gz.tmp"):
        path.unlink(missing_ok=True)
    for path in backups_dir.glob(".verify-*"):
        shutil.rmtree(path, ignore_errors=True)


async def _write_export(export: Export, target: Path, stats: dict[str, Any]) -> None:
    fd = await anyio.to_thread.run_sync(lambda: os.open(target, os.O_WRONLY | os.O_CREAT, 0o600))
    with os.fdopen(fd, "wb") as out:
        async for chunk in export(stats):
            await anyio.to_thread.run_sync(out.write, chunk)


def store_snapshot(store: EventStore, *, with_chroma: bool = True) -> Snapshot:
    """Counts to take while writes are paused: the live index, and the exact Chroma count.

    The index also counts writes that are claimed but still waiting at the gate (not yet
    acknowledged), so verification checks the Chroma count, which matches the copy.
    """

    async def snapshot() -> dict[str, Any]:
        total, by_type = store.counts()
        snap: dict[str, Any] = {
            "embedder": store.embedder_name,
            "events": {"total": total, "by_type": by_type},
        }
        if with_chroma:
            count = await anyio.to_thread.run_sync(store.collection.count)
            snap["chroma"] = {"collection": store.collection.name, "count": count}
        return snap

    return snapshot


def store_export(store: EventStore) -> Export:
    def export(stats: dict[str, Any]) -> AsyncIterator[bytes]:
        from app.services.backup.export import export_lines

        return export_lines(store, {}, stats=stats)

    return export


async def run_verify(archive: Path) -> tuple[bool, str]:
    """`python -m app.services.backup.verify` in its own process: (ok, its summary or its error)."""
    root = str(Path(__file__).resolve().parents[2])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app.services.backup.verify", str(archive),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
        preexec_fn=die_with_parent,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(proc.communicate(), VERIFY_TIMEOUT_S)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return False, "verification timed out"
    if proc.returncode == 0:
        return True, out.decode().strip()
    return False, (err.decode().strip().splitlines() or [f"exit {proc.returncode}"])[-1]


async def create_backup(
    *,
    data_dir: Path,
    backups_dir: Path,
    gate: WriteGate,
    flush: Callable[[], Awaitable[None]],
    manifest_extra: dict[str, Any],
    keep: int,
    store: EventStore | None = None,
    logical: bool = False,
    snapshot: Snapshot | None = None,
    export: Export | None = None,
    clock: Callable[[], float] = time.time,
    flush_timeout: float = FLUSH_TIMEOUT_S,
) -> dict[str, Any]:
    """Write, verify and prune; returns the new archive's listing item plus `stats`.

    `snapshot()` runs while writes are paused, so what it returns (event counts, the
    Chroma count) describes exactly the copied data; with `store` it defaults to
    `store_snapshot(store)`. `logical` (Chroma-server mode) writes the events as an
    NDJSON export instead of copying `chroma/`.
    """
    if store is not None and snapshot is None:
        snapshot = store_snapshot(store, with_chroma=not logical)
    if logical and export is None:
        if store is None:
            raise ValueError("a logical backup needs the store (or an export function)")
        export = store_export(store)
    ensure_private_dir(backups_dir)
    await anyio.to_thread.run_sync(clear_leftovers, backups_dir)
    started = clock()
    try:
        await asyncio.wait_for(flush(), flush_timeout)
    except TimeoutError:
        # Under a steady stream of writes the outbox may never be empty; its journal is
        # copied with everything else while paused, so a restore replays what is pending.
        log.warning("backup: outbox still busy after %.0f s; journal copied as is", flush_timeout)
    name = new_name(backups_dir, started)
    staging = backups_dir / f".staging-{name}"
    tops = ["state"] if export is not None else COPIED
    try:
        copied = time.perf_counter()
        staged = await anyio.to_thread.run_sync(precopy, data_dir, staging, tops)
        waited = time.perf_counter()
        async with gate.paused():
            paused = time.perf_counter()
            await anyio.to_thread.run_sync(resync, data_dir, staged, tops)
            snap = await snapshot() if snapshot is not None else {}
            released = time.perf_counter()
        export_stats: dict[str, Any] = {}
        if export is not None:
            await _write_export(export, staging / EXPORT_NAME, export_stats)
            tops = [*tops, EXPORT_NAME]
        archive = backups_dir / name
        built = time.perf_counter()
        files = await anyio.to_thread.run_sync(file_table, staging, tops)
        manifest = {
            **manifest_extra,
            **snap,
            "format": FORMAT,
            "kind": "logical" if export is not None else "files",
            "created_at": started,
            "files": files,
        }
        if export is not None:
            manifest["events"] = {**manifest.get("events", {}), **export_stats}
        size = await anyio.to_thread.run_sync(write_archive, archive, staging, manifest)
        await anyio.to_thread.run_sync(fsync_dir, backups_dir)
    except OSError as exc:
        raise storage_error(exc, backups_dir / name) from exc
    finally:
        await anyio.to_thread.run_sync(lambda: shutil.rmtree(staging, ignore_errors=True))
    archived = time.perf_counter()
    ok, detail = await run_verify(archive)
    verified_at = time.perf_counter()
    await anyio.to_thread.run_sync(write_sidecar, archive, ok, detail, started)
    if not ok:
        log.error("backup %s failed verification: %s", name, detail)
        raise BackupError(f"backup {name} failed verification: {detail}")
    pruned = await anyio.to_thread.run_sync(prune, backups_dir, keep)
    stats = {
        "paused_s": round(released - paused, 4),
        "pause_wait_s": round(paused - waited, 4),
        "precopy_s": round(waited - copied, 3),
        "recopied_bytes": staged.bytes_recopied,
        "archive_s": round(archived - built, 3),
        "verify_s": round(verified_at - archived, 3),
        "files": len(files),
        "bytes_in": sum(f["size"] for f in files.values()),
        "events": manifest.get("events", {}).get("total"),
        "pruned": pruned,
    }
    log.info("backup %s written and verified (%s)", name, stats)
    return {
        "name": name,
        "created_at": started,
        "size_bytes": size,
        "verified": True,
        "stats": stats,
    }


def backup_answer(record: dict[str, Any]) -> dict[str, Any]:
    """The new archive's listing item from the backup job's run record, or its error."""
    if record.get("status") != "ok":
        if record.get("storage_error"):
            raise StorageError(f"backup failed: {record.get('error')}")
        raise BackupError(f"backup failed: {record.get('error') or 'unknown error'}")
    return dict(record.get("stats") or {})
