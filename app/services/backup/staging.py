"""Copy the live data into a staging dir with writes paused as briefly as possible.

A plain copy of a 300 MB Chroma dir is ~0.1 s from the page cache but 2 s or more when
the files must come from disk, and all of it would be inside the pause. So the copy is
done twice: first with writes flowing (slow, fuzzy, warms the cache), then, paused,
only the files that changed since are copied again. A file is trusted unchanged only
if its size and mtime are what they were before the first copy read it and it was last
modified well before that copy began (a write in the same timestamp tick could not
otherwise be seen). Hard links are no use: Chroma rewrites its files in place.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

MTIME_SLACK_NS = 2_000_000_000


@dataclass
class Staged:
    root: Path
    started_ns: int
    seen: dict[str, tuple[int, int]] = field(default_factory=dict)
    bytes_recopied: int = 0
    files_recopied: int = 0


def _live_files(data_dir: Path, tops: list[str]) -> dict[str, os.stat_result]:
    found: dict[str, os.stat_result] = {}
    for top in tops:
        base = data_dir / top
        if not base.is_dir():
            continue
        for dirpath, _dirs, names in os.walk(base):
            for name in names:
                if name.endswith(".tmp"):
                    continue
                path = Path(dirpath) / name
                try:
                    info = path.stat()
                except FileNotFoundError:
                    continue
                found[path.relative_to(data_dir).as_posix()] = info
    return found


def _copy(src: Path, dst: Path) -> bool:
    dst.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        shutil.copy2(src, dst)
    except FileNotFoundError:
        return False
    return True


def precopy(data_dir: Path, staging: Path, tops: list[str]) -> Staged:
    """The first, unpaused copy; blocking."""
    staged = Staged(staging, time.time_ns())
    staging.mkdir(mode=0o700, parents=True, exist_ok=True)
    for rel, info in _live_files(data_dir, tops).items():
        if _copy(data_dir / rel, staging / rel):
            staged.seen[rel] = (info.st_size, info.st_mtime_ns)
    return staged


def resync(data_dir: Path, staged: Staged, tops: list[str]) -> Staged:
    """The paused pass: recopy what changed, drop what is gone; blocking."""
    live = _live_files(data_dir, tops)
    trusted_before = staged.started_ns - MTIME_SLACK_NS
    for rel, info in live.items():
        before = staged.seen.get(rel)
        if before == (info.st_size, info.st_mtime_ns) and info.st_mtime_ns < trusted_before:
            continue
        if _copy(data_dir / rel, staged.root / rel):
            staged.bytes_recopied += info.st_size
            staged.files_recopied += 1
    for rel in set(staged.seen) - set(live):
        (staged.root / rel).unlink(missing_ok=True)
    return staged
