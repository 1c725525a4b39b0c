"""A location fix as the rest of Hearth sees it: its id, its EVENT shape, its export line."""

from __future__ import annotations

from typing import Any, NamedTuple

from app.values import is_number

LOCATION = "location"  # the event type fixes are listed under
FIX_PREFIX = "loc:"


class Fix(NamedTuple):
    """One position; `ts` in epoch seconds (kept to the millisecond).

    A NamedTuple: a 1000-point batch builds 1000 of them, and a tuple is built several
    times faster than a frozen dataclass.
    """

    device: str
    ts: float
    lat: float
    lon: float
    acc: int | None = None
    alt: int | None = None
    batt: int | None = None
    vel: int | None = None
    tid: str | None = None

    @property
    def ts_ms(self) -> int:
        return round(self.ts * 1000)

    @property
    def id(self) -> str:
        return fix_id(self.device, self.ts_ms)

    def metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {"lat": self.lat, "lon": self.lon, "device": self.device}
        for key in ("acc", "alt", "batt", "vel", "tid"):
            value = getattr(self, key)
            if value is not None:
                meta[key] = value
        return meta

    def to_event(self) -> dict[str, Any]:
        """The EVENT shape of GET /v1/events, so a fix pages like any event."""
        return {
            "id": self.id,
            "type": LOCATION,
            "text": f"location {self.lat:.6f},{self.lon:.6f} ({self.device})",
            "timestamp": self.ts_ms / 1000,
            "received_at": self.ts_ms / 1000,
            "metadata": self.metadata(),
        }

    def to_record(self) -> dict[str, Any]:
        """One line of `hearth export` (kind `location`)."""
        return {"kind": LOCATION, "timestamp": self.ts_ms / 1000, **self.metadata()}


def fix_from_record(obj: dict[str, Any]) -> Fix:
    """The inverse of `Fix.to_record`; ValueError names what is wrong."""
    device = obj.get("device")
    if not isinstance(device, str) or not device:
        raise ValueError("a location needs a device")
    ts, lat, lon = (obj.get(key) for key in ("timestamp", "lat", "lon"))
    if not (is_number(ts) and is_number(lat) and is_number(lon)):
        raise ValueError("a location needs numeric timestamp, lat and lon")
    if not (0 <= ts <= 1e11 and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError("location timestamp, lat or lon out of range")
    small = {k: obj.get(k) for k in ("acc", "alt", "batt", "vel")}
    ints = {k: v for k, v in small.items() if type(v) is int and abs(v) <= 2**31}
    tid = obj.get("tid")
    tid = tid if isinstance(tid, str) else None
    return Fix(device, float(ts), float(lat), float(lon), **ints, tid=tid)


def fix_id(device: str, ts_ms: int) -> str:
    return f"{FIX_PREFIX}{device}:{ts_ms}"


def parse_fix_id(fix: str) -> tuple[str, int] | None:
    prefix, _, rest = fix.partition(":")
    device, _, ts = rest.rpartition(":")
    if prefix != "loc" or not device or not ts.isdigit():
        return None
    return device, int(ts)
