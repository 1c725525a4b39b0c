"""The backups directory: which archives are ours, which are verified, which to prune.

Only files named `hearth-<UTC time>[-n].tar.gz` are ours; anything else a person puts
in the directory is never listed or deleted. Verification results live in a sidecar
`<archive>.verified` (JSON) written by the backup after its check process ran.
"""

from __future__ import annotations

import calendar
import json
import re
import time
from pathlib import Path
from typing import Any

from app.storage.files import atomic_write, fsync_dir

NAME_RE = re.compile(r"^hearth-(\d{8}T\d{6}Z)(?:-(\d+))?\.tar\.gz$")
SIDECAR = ".verified"


def new_name(backups_dir: Path, created: float) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(created))
    name, n = f"hearth-{stamp}.tar.gz", 1
    while (backups_dir / name).exists():
        n += 1
        name = f"hearth-{stamp}-{n}.tar.gz"
    return name


def write_sidecar(archive: Path, ok: bool, detail: str, created: float) -> None:
    body = {"verified": ok, "checked_at": time.time(), "created_at": created, "detail": detail}
    atomic_write(
        archive.with_name(archive.name + SIDECAR), json.dumps(body).encode(), keep_backup=False
    )


def _sort_key(match: re.Match[str]) -> tuple[str, int]:
    return match.group(1), int(match.group(2) or 1)


def _ours(backups_dir: Path) -> list[tuple[Path, re.Match[str]]]:
    """Our archives, newest first; anything else in the directory is left alone."""
    if not backups_dir.is_dir():
        return []
    found = [(p, m) for p in backups_dir.iterdir() if (m := NAME_RE.match(p.name)) and p.is_file()]
    return sorted(found, key=lambda item: _sort_key(item[1]), reverse=True)


def _read_sidecar(archive: Path) -> dict[str, Any]:
    try:
        body = json.loads(archive.with_name(archive.name + SIDECAR).read_bytes())
    except (OSError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


def list_backups(backups_dir: Path) -> list[dict[str, Any]]:
    """`{name, created_at, size_bytes, verified}` for each archive, newest first."""
    items = []
    for path, match in _ours(backups_dir):
        sidecar = _read_sidecar(path)
        created = sidecar.get("created_at")
        if not isinstance(created, int | float):
            try:
                stamp = time.strptime(match.group(1), "%Y%m%dT%H%M%SZ")
            except ValueError:
                continue  # named like ours but not ours (e.g. an impossible date)
            created = float(calendar.timegm(stamp))
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            continue
        verified = sidecar.get("verified") is True
        items.append(
            {"name": path.name, "created_at": created, "size_bytes": size, "verified": verified}
        )
    return items


def prune(backups_dir: Path, keep: int) -> list[str]:
    """Keep the newest `keep` verified archives; drop older and unverified ones."""
    kept = 0
    removed = []
    for path, _ in _ours(backups_dir):
        if _read_sidecar(path).get("verified") is True and kept < keep:
            kept += 1
            continue
        if kept == 0:
            continue  # never delete anything until a good archive is known to exist
        path.unlink(missing_ok=True)
        path.with_name(path.name + SIDECAR).unlink(missing_ok=True)
        removed.append(path.name)
    if removed:
        fsync_dir(backups_dir)
    return removed
