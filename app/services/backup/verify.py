"""Check a backup archive the way a restore would use it, in a process of its own.

`python -m app.services.backup.verify ARCHIVE` extracts the archive into a temp dir while
checking every file against the manifest's sha256 and size, then opens the Chroma
copy with its own PersistentClient (never in the server's process, where Chroma's
shared per-path state could mix the copy up with the live store), compares the
count with the manifest and runs a nearest-neighbour query. It prints a JSON
summary and exits 0, or prints the reason and exits 1.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import sqlite3
import sys
import tarfile
import tempfile
import zlib
from pathlib import Path, PurePosixPath
from typing import IO, Any

from app.errors import ArchiveCorruptError, BackupError

MANIFEST = "manifest.json"
FORMAT = 1
EXPORT_NAME = "export.ndjson"
_BLOCK = 1024 * 1024
_READ_ERRORS = (tarfile.TarError, zlib.error, EOFError, gzip.BadGzipFile, ValueError, KeyError)


def _member_path(member: tarfile.TarInfo) -> PurePosixPath:
    path = PurePosixPath(member.name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ArchiveCorruptError(f"unsafe path in archive: {member.name!r}")
    if not (member.isfile() or member.isdir()):
        raise ArchiveCorruptError(f"unexpected entry type in archive: {member.name!r}")
    return path


def _copy_hashing(src: IO[bytes], target: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        raise BackupError(f"cannot extract {target.name}: {exc.strerror}") from exc
    with os.fdopen(fd, "wb") as out:
        while block := src.read(_BLOCK):
            digest.update(block)
            size += len(block)
            try:
                out.write(block)
            except OSError as exc:
                raise BackupError(f"cannot extract {target.name}: {exc.strerror}") from exc
    return digest.hexdigest(), size


def extract_verified(archive: Path, dest: Path) -> dict[str, Any]:
    """Extract `archive` into `dest`, checking every file; returns the manifest.

    Raises ArchiveCorruptError when anything differs from the manifest, so a caller
    can extract into a scratch dir and touch live data only after this returns.
    """
    try:
        with gzip.open(archive, "rb") as gz, tarfile.open(fileobj=gz, mode="r|") as tar:
            first = tar.next()
            if first is None or first.name != MANIFEST:
                raise ArchiveCorruptError(f"{archive.name}: {MANIFEST} is not the first entry")
            stream = tar.extractfile(first)
            assert stream is not None
            manifest = json.loads(stream.read())
            if manifest.get("format") != FORMAT:
                raise ArchiveCorruptError(
                    f"{archive.name}: unknown format {manifest.get('format')}"
                )
            expected: dict[str, dict[str, Any]] = manifest["files"]
            seen: set[str] = set()
            while (member := tar.next()) is not None:
                path = _member_path(member)
                target = dest.joinpath(*path.parts)
                if member.isdir():
                    target.mkdir(mode=0o700, parents=True, exist_ok=True)
                    continue
                want = expected.get(member.name)
                if want is None:
                    raise ArchiveCorruptError(
                        f"{archive.name}: {member.name} is not in the manifest"
                    )
                target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                src = tar.extractfile(member)
                assert src is not None
                digest, size = _copy_hashing(src, target)
                if digest != want["sha256"] or size != want["size"]:
                    raise ArchiveCorruptError(f"{archive.name}: {member.name} fails its checksum")
                seen.add(member.name)
            # tar stops at its end-of-archive block; gzip checks each member's CRC only
            # when its end is read. Read to the end, so damage to bytes no file owns
            # (padding, the end blocks) is caught too.
            while gz.read(_BLOCK):
                pass
    except _READ_ERRORS as exc:
        raise ArchiveCorruptError(f"{archive.name} is damaged: {exc}") from exc
    except OSError as exc:
        raise ArchiveCorruptError(f"{archive.name} cannot be read: {exc}") from exc
    missing = sorted(set(expected) - seen)
    if missing:
        raise ArchiveCorruptError(f"{archive.name} is missing {', '.join(missing[:5])}")
    return manifest


def check_chroma(chroma_dir: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Open the copy like a restored install would: the count must match, a query must work."""
    import chromadb

    client = chromadb.PersistentClient(
        path=str(chroma_dir), settings=chromadb.config.Settings(anonymized_telemetry=False)
    )
    expected = manifest.get("chroma", {})
    name = expected.get("collection")
    collections = [c.name for c in client.list_collections()]
    if name is not None and name not in collections:
        raise ArchiveCorruptError(f"the archive has no collection {name!r}")
    counts = {n: client.get_collection(n, embedding_function=None).count() for n in collections}
    want = expected.get("count")
    got = counts.get(name, 0) if name is not None else sum(counts.values())
    if want is not None and got != want:
        raise ArchiveCorruptError(f"the archive's store holds {got} events, manifest says {want}")
    queried = 0
    for n in [name] if name is not None else collections:
        collection = client.get_collection(n, embedding_function=None)
        sample = collection.get(limit=1, include=["embeddings"])
        embeddings = sample.get("embeddings")
        if not sample["ids"] or embeddings is None:
            continue
        probe = [float(x) for x in embeddings[0]]
        found = collection.query(query_embeddings=probe, n_results=1)
        if not found["ids"] or not found["ids"][0]:
            raise ArchiveCorruptError(f"a query on collection {n!r} found nothing")
        queried += 1
    return {"collections": counts, "queried": queried}


def _check_state(state_dir: Path) -> int:
    checked = 0
    for path in sorted(state_dir.glob("*.json")) if state_dir.is_dir() else []:
        try:
            json.loads(path.read_bytes())
        except ValueError as exc:
            raise ArchiveCorruptError(f"state/{path.name} is not valid JSON: {exc}") from exc
        checked += 1
    return checked


def _check_sqlite(state_dir: Path) -> int:
    """The location store opens and passes SQLite's own check (its WAL replayed)."""
    checked = 0
    for path in sorted(state_dir.glob("*.sqlite3")) if state_dir.is_dir() else []:
        try:
            with contextlib.closing(sqlite3.connect(path)) as db:
                result = db.execute("PRAGMA quick_check").fetchone()[0]
        except sqlite3.Error as exc:
            raise ArchiveCorruptError(f"state/{path.name} does not open: {exc}") from exc
        if result != "ok":
            raise ArchiveCorruptError(f"state/{path.name} fails its check: {result}")
        checked += 1
    return checked


def verify_archive(archive: Path) -> dict[str, Any]:
    """Blocking; the whole check, for a separate process (see the module docstring)."""
    with tempfile.TemporaryDirectory(prefix=".verify-", dir=archive.parent) as tmp:
        root = Path(tmp)
        manifest = extract_verified(archive, root)
        summary: dict[str, Any] = {
            "archive": archive.name,
            "kind": manifest.get("kind"),
            "files": len(manifest["files"]),
            "events": manifest.get("events", {}).get("total"),
            "state_json_checked": _check_state(root / "state"),
            "state_sqlite_checked": _check_sqlite(root / "state"),
        }
        if manifest.get("kind") == "files":
            summary["chroma"] = check_chroma(root / "chroma", manifest)
        return summary


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: python -m app.services.backup.verify ARCHIVE\n")
        return 2
    try:
        summary = verify_archive(Path(argv[0]))
    except BackupError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    sys.stdout.write(json.dumps(summary, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
