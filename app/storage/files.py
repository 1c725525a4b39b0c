"""Durable files: atomic replacement, private permissions, recovery from corruption.

Every live file is replaced the way Radicale does it: write a temp file in the same
directory, flush, fsync, `os.replace`, fsync the directory. The previous good copy is
kept as `<name>.bak` (a hard link, so it costs no copy).
"""

from __future__ import annotations

import errno
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from app.errors import StorageError, StorageFullError

log = logging.getLogger(__name__)
T = TypeVar("T")

DIR_MODE = 0o700
FILE_MODE = 0o600
_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}


def ensure_private_dir(path: Path) -> Path:
    """Create `path` (and parents) with mode 0700; tighten it if it already exists."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        os.chmod(path, DIR_MODE)
    return path


def storage_error(exc: OSError, path: Path) -> StorageError:
    """Translate an OSError into the error the API maps to 507."""
    if exc.errno in _FULL_ERRNOS:
        return StorageFullError(f"no space left to write {path.name}")
    return StorageError(f"cannot write {path.name}: {exc.strerror or exc}")


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, *, keep_backup: bool = True) -> None:
    """Replace `path` with `data` durably; on any failure the old file is left intact."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        if keep_backup and path.exists():
            bak_tmp = path.with_name(f".{path.name}.bak.tmp")
            bak_tmp.unlink(missing_ok=True)
            os.link(path, bak_tmp)
            os.replace(bak_tmp, path.with_name(path.name + ".bak"))
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise storage_error(exc, path) from exc


def move_aside(path: Path) -> Path:
    """Rename a bad file to `<name>.corrupt-<timestamp>` so nothing is silently lost."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        n += 1
    os.replace(path, target)
    fsync_dir(path.parent)
    return target


def load_or_recover(
    path: Path, decode: Callable[[bytes], T], default: Callable[[], T]
) -> tuple[T, list[str]]:
    """Read `path`; a corrupt file is moved aside and the `.bak` (or the default) is used.

    Returns the value and human-readable warnings for /v1/status. A missing file
    (first run) is created with the default.
    """
    warnings: list[str] = []
    bak = path.with_name(path.name + ".bak")
    if not path.exists():
        if not bak.exists():
            value = default()
            return value, warnings
        warnings.append(f"{path.name} was missing; restored from {bak.name}")
        value, more = _try_backup(path, bak, decode, default)
        return value, warnings + more
    try:
        return decode(path.read_bytes()), warnings
    except (ValueError, TypeError, KeyError, UnicodeDecodeError) as exc:
        aside = move_aside(path)
        log.error("corrupt %s (%s): moved to %s", path.name, exc, aside.name)
        warnings.append(f"{path.name} was corrupt ({exc}); kept as {aside.name}")
        value, more = _try_backup(path, bak, decode, default)
        return value, warnings + more


def _try_backup(
    path: Path, bak: Path, decode: Callable[[bytes], T], default: Callable[[], T]
) -> tuple[T, list[str]]:
    if bak.exists():
        try:
            value = decode(bak.read_bytes())
            return value, [f"{path.name} loaded from {bak.name}"]
        except (ValueError, TypeError, KeyError, UnicodeDecodeError) as exc:
            return default(), [f"{bak.name} unreadable too ({exc}); {path.name} reset to default"]
    return default(), [f"no {bak.name}; {path.name} reset to default"]
