"""Small checks shared by the app formats: numbers as the apps send them, device names."""

from __future__ import annotations

import math
import re

from app.values import is_number, parse_iso

MAX_TS = 1e11  # year 5138: anything larger is a unit mistake (milliseconds)
# Control characters, and lone surrogates (valid in JSON text, not encodable as UTF-8).
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


def number(value: object) -> float | None:
    """A finite number, also from a numeric string (OwnTracks waypoints send `"rad": "50"`)."""
    if type(value) is float or is_number(value):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            parsed = float(value.strip())
        except ValueError:
            return None
        return parsed if math.isfinite(parsed) else None
    return None


def small_int(value: object) -> int | None:
    found = value if type(value) is float else number(value)
    if found is None or not abs(found) <= 2**31:  # also NaN
        return None
    return round(found)


def coordinates(lat: object, lon: object) -> tuple[float, float] | None:
    la, lo = number(lat), number(lon)
    if la is None or lo is None or not (-90 <= la <= 90 and -180 <= lo <= 180):
        return None
    return la, lo


def epoch(value: object) -> float | None:
    found = number(value)
    return found if found is not None and 0 < found <= MAX_TS else None


def iso_time(value: object) -> float | None:
    """ISO 8601 with a zone (`2015-10-01T08:00:00-0700`, `...Z`) to epoch seconds."""
    if not isinstance(value, str) or not value.strip():
        return None
    return epoch(parse_iso(value, assume_utc=False))


def clean_text(value: object, limit: int) -> str | None:
    """A name as it is stored: printable, encodable, trimmed, at most `limit` characters."""
    if not isinstance(value, str):
        return None
    return _UNSAFE.sub("", value).strip()[:limit] or None


def device_name(*candidates: object) -> str | None:
    """The first usable name: printable, trimmed, at most 64 characters."""
    for candidate in candidates:
        name = clean_text(candidate, 64)
        if name:
            return name
    return None
