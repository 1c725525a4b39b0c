"""Overland (and GPSLogger posting Overland's body): a batch of GeoJSON Point features.

`{"locations": [Feature...], "current": {...}, "trip": {...}}`. The app deletes its
queued points only when the answer is `{"result": "ok"}`, and waits for it before the
next batch, so a batch is one transaction and one fsync. A feature without usable
coordinates or an ISO 8601 `properties.timestamp` (Overland also logs visits and app
events that way) is skipped and counted, never failing the batch. `current` is a copy
of the newest queued point, sent again in a later batch, so it is not stored twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from app.errors import IngestFormatError
from app.services.ingest.common import (
    MAX_TS,
    coordinates,
    device_name,
    iso_time,
    number,
    small_int,
)
from app.storage.locations import Fix

MAX_BATCH = 1000


@dataclass
class Batch:
    fixes: list[Fix]
    skipped: int


def parse(body: bytes, *, fallback_device: str) -> Batch:
    """Blocking (a 1000-point body is ~600 KB): call it in a worker thread."""
    try:
        doc = orjson.loads(body)
    except (orjson.JSONDecodeError, RecursionError) as exc:
        raise IngestFormatError('body is not JSON (expected {"locations": [...]})') from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("locations"), list):
        raise IngestFormatError('expected {"locations": [GeoJSON Point Feature, ...]}')
    features = doc["locations"]
    if not 1 <= len(features) <= MAX_BATCH:
        raise IngestFormatError(
            f"`locations` holds 1 to {MAX_BATCH} features; this one has {len(features)}"
        )
    fixes: list[Fix] = []
    devices: dict[object, str] = {}  # one app, one device id: clean each name once
    for feature in features:
        fix = _fix(feature, fallback_device, devices)
        if fix is not None:
            fixes.append(fix)
    return Batch(fixes, len(features) - len(fixes))


def _device(raw: object, fallback: str, seen: dict[object, str]) -> str:
    key = raw if isinstance(raw, str) else None
    name = seen.get(key)
    if name is None:
        name = seen[key] = device_name(raw, fallback) or "overland"
    return name


def _fix(feature: Any, fallback_device: str, devices: dict[object, str]) -> Fix | None:
    """Per-feature work is most of a batch's cost: the common shape (JSON floats and
    ints, an offset or `Z` timestamp) takes inline fast paths; anything else the
    general checks in `common`, with the same results."""
    try:
        props = feature["properties"]
        lon, lat = feature["geometry"]["coordinates"][:2]  # GeoJSON order is [lon, lat]
    except (TypeError, KeyError, ValueError):
        return None
    if type(props) is not dict:
        return None
    if not (type(lat) is float and type(lon) is float and -90 <= lat <= 90 and -180 <= lon <= 180):
        where = coordinates(lat, lon)
        if where is None:
            return None
        lat, lon = where
    when = _time(props.get("timestamp"))
    if when is None:
        return None
    speed, battery = _number(props.get("speed")), _number(props.get("battery_level"))
    accuracy = _number(props.get("horizontal_accuracy"))
    return Fix(
        _device(props.get("device_id"), fallback_device, devices),
        when,
        lat,
        lon,
        small_int(accuracy) if accuracy is not None and accuracy >= 0 else None,
        small_int(props.get("altitude")),
        # Overland reports 0..1 and GPSLogger's %BATT a percentage; store percent.
        _percent(battery),
        # m/s -> km/h, the unit OwnTracks uses for `vel`; negative means unknown.
        small_int(speed * 3.6) if speed is not None and speed >= 0 else None,
    )


def _number(value: object) -> float | None:
    if type(value) is float:  # JSON has no NaN or infinity: always finite here
        return value
    if type(value) is int and -(2**53) <= value <= 2**53:
        return float(value)
    return number(value)


def _time(value: object) -> float | None:
    if type(value) is str:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return iso_time(value)  # spaces around it, a lower-case `z` ...
        if parsed.tzinfo is not None:
            when = parsed.timestamp()
            return when if 0 < when <= MAX_TS else None
    return iso_time(value)


def _percent(level: float | None) -> int | None:
    if level is None or level < 0:
        return None
    return round(level * 100) if level <= 1 else min(100, round(level))
