"""Overland's fast paths give exactly what the general checks in `common` give."""

from __future__ import annotations

import itertools
from typing import Any

import orjson

from app.services.ingest import overland
from app.services.ingest.common import coordinates, iso_time, number, small_int
from app.storage.locations import Fix

STAMPS = [
    "2015-10-01T08:00:00-0700", "2015-10-01T08:00:00-07:00", "2026-12-01T10:00:00Z",
    "2026-12-01T10:00:00z", " 2026-12-01T10:00:00Z ", "2026-12-01T10:00:00.123456+05:30",
    "2026-12-01T10:00:00", "2026-12-01", "not a time", "", 1764583200, None,
    "1969-01-01T00:00:00Z", "9999-12-31T23:59:59+14:00",
]  # fmt: skip
COORDS = [
    [2.29, 48.85], [2, 48], ["2.29", "48.85"], [181.0, 0.0], [0.0, -91.0], [True, 1.0],
    [1e308, 1.0], [2.29], [],
]  # fmt: skip
NUMBERS = [4.5, 4, -1, 0, "3", 2**62, True, None, 0.8, 80, 1e300]


def reference(feature: dict[str, Any]) -> Fix | None:
    """The rules as written in `common`, one general check per field."""
    try:
        props = feature["properties"]
        lon, lat = feature["geometry"]["coordinates"][:2]
    except (TypeError, KeyError, ValueError):
        return None
    where, when = coordinates(lat, lon), iso_time(props.get("timestamp"))
    if where is None or when is None:
        return None
    speed, accuracy = number(props.get("speed")), number(props.get("horizontal_accuracy"))
    battery = number(props.get("battery_level"))
    percent = None
    if battery is not None and battery >= 0:
        percent = round(battery * 100) if battery <= 1 else min(100, round(battery))
    return Fix(
        props.get("device_id") or "fallback",
        when,
        *where,
        small_int(accuracy) if accuracy is not None and accuracy >= 0 else None,
        small_int(props.get("altitude")),
        percent,
        small_int(speed * 3.6) if speed is not None and speed >= 0 else None,
    )


def test_fast_paths_match_the_general_rules() -> None:
    features = []
    for stamp, coords, value in itertools.product(STAMPS, COORDS, NUMBERS):
        props = {"timestamp": stamp, "speed": value, "altitude": value,
                 "horizontal_accuracy": value, "battery_level": value}  # fmt: skip
        features.append({"geometry": {"coordinates": coords}, "properties": props})
    saved = 0
    for first in range(0, len(features), 1000):
        chunk = features[first : first + 1000]
        body = orjson.dumps({"locations": chunk})
        got = overland.parse(body, fallback_device="fallback")
        # what the server decodes, fed to the reference
        expected = [reference(f) for f in orjson.loads(body)["locations"]]
        assert got.fixes == [fix for fix in expected if fix is not None]
        assert got.skipped == expected.count(None)
        saved += len(got.fixes)
    assert 0 < saved < len(features)
