"""One process per data directory: an OS lock the kernel releases even on kill -9.

Chroma's embedded store and the scheduler both assume a single owner, so a second
server, or an offline CLI command such as restore, exits at once and names the holder.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from pathlib import Path
from types import TracebackType

from app.errors import DataDirLockedError
from app.storage.files import ensure_private_dir

LOCK_NAME = "hearth.lock"


class DataDirLock:
    def __init__(self, data_dir: Path, purpose: str) -> None:
        self.path = data_dir / LOCK_NAME
        self.data_dir = data_dir
        self.purpose = purpose
        self._fd: int | None = None

    def acquire(self) -> DataDirLock:
        ensure_private_dir(self.data_dir)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _describe(fd)
            os.close(fd)
            raise DataDirLockedError(
                f"data directory {self.data_dir.resolve()} is in use by {holder}; "
                "stop that process first (one process per data directory)"
            ) from None
        info = {"pid": os.getpid(), "purpose": self.purpose, "since": time.time()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> DataDirLock:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def _describe(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0) or b"{}")
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info["since"]))
        return f"pid {info['pid']} ({info['purpose']}, since {since})"
    except (ValueError, KeyError, TypeError, OSError):
        return "another process"


def argv_purpose() -> str:
    return "hearth " + " ".join(sys.argv[1:2] or ["serve"])
