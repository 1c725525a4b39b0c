"""Process-level helpers: children tied to the service's life (a killed service leaves
none), and handing freed heap back to the system."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In a child, before exec: SIGKILL it when the service dies (Linux prctl), so a killed
    service leaves nothing running against its data dir. The signal follows the thread that
    forked, so spawn from a thread that lives as long as the service (the event loop's)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() == 1:  # the parent died before prctl took effect
            os._exit(1)


def release_free_memory() -> None:
    """Hand the C heap's free pages back to the system (glibc `malloc_trim`; a no-op
    elsewhere)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)
