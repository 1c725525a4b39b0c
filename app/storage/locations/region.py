"""A region the owner drew on the phone (an OwnTracks waypoint): a name, a centre, a radius.

Regions name the day's stays (`app.services.places.naming`) even on days without an
enter/leave transition. They are definitions, not places the phone was, so they are kept
beside the fixes, not in the event log, and retention leaves them alone.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from app.values import is_number

REGION = "region"  # the export line's kind
REGION_NAME_MAX = 200
REGION_KEY_MAX = 64


class Region(NamedTuple):
    device: str
    key: str  # the app's id for it: the `tst` it was first defined at, else its `rid`
    name: str
    lat: float
    lon: float
    rad: int | None  # metres
    ts: float  # when it was defined

    def to_record(self) -> dict[str, Any]:
        """One line of `hearth export` (kind `region`)."""
        record: dict[str, Any] = {
            "kind": REGION,
            "device": self.device,
            "key": self.key,
            "name": self.name,
            "lat": self.lat,
            "lon": self.lon,
            "timestamp": self.ts,
        }
        if self.rad is not None:
            record["rad"] = self.rad
        return record


def region_from_record(obj: dict[str, Any]) -> Region:
    """The inverse of `Region.to_record`; ValueError names what is wrong."""
    device, key, name = (obj.get(k) for k in ("device", "key", "name"))
    for label, value, limit in (
        ("device", device, 64),
        ("key", key, REGION_KEY_MAX),
        ("name", name, REGION_NAME_MAX),
    ):
        if not isinstance(value, str) or not value or len(value) > limit:
            raise ValueError(f"a region needs a {label} of 1-{limit} characters")
    ts, lat, lon, rad = (obj.get(k) for k in ("timestamp", "lat", "lon", "rad"))
    if not (is_number(ts) and is_number(lat) and is_number(lon)):
        raise ValueError("a region needs numeric timestamp, lat and lon")
    if not (0 <= ts <= 1e11 and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError("region timestamp, lat or lon out of range")
    if rad is not None and not (type(rad) is int and 0 < rad <= 10**7):
        raise ValueError("a region's rad is a whole number of metres")
    assert isinstance(device, str) and isinstance(key, str) and isinstance(name, str)
    return Region(device, key, name, float(lat), float(lon), rad, float(ts))
