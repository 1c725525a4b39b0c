"""Small value checks and time formats shared by every floor (one of each, here)."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from typing import Any, TypeGuard


def is_number(value: Any) -> TypeGuard[int | float]:
    """A finite int or float, not a bool (JSON's `true` is no time and no count)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int past float's range, e.g. 10**309
        return False


def iso_utc(ts: float) -> str:
    """`2026-11-20T08:00:00Z`: for messages and logs a person reads."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def parse_iso(text: str, *, assume_utc: bool = True) -> float | None:
    """ISO 8601 (`Z` or an offset; a date alone) to epoch seconds; None if unreadable.

    Without a zone the time is UTC when `assume_utc`, else unreadable (None)."""
    cleaned = text.strip()
    if cleaned[-1:] in ("Z", "z"):
        cleaned = cleaned[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(cleaned)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        if not assume_utc:
            return None
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()
