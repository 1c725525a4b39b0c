"""OwnTracks HTTP mode: one JSON message per POST, answered with a JSON array.

The apps are strict about the answer: Android re-queues a message forever unless the
reply is `200` with a JSON array (`[]`), iOS drops its queue on a 4xx. So every message
that is a JSON object with a `_type` is acknowledged, whether Hearth keeps it or not:

- `location` -> a location fix (the fix store, not the event log), once per device + `tst`;
- `transition` -> a `place` event ("enter Home"), once per device + `tst` + event + place;
- `waypoint` (one region the owner drew) and `waypoints` (a list of them) -> region
  definitions beside the fixes, keyed by device + the `tst` the app keeps as the region's
  id (else `rid`), so an edited region replaces itself; they name the day's stays.
  A region without a name or a centre (a beacon-only one) is left out;
- everything else (`lwt`, `card`, `cmd`, `encrypted`, `steps`, `beacon`, `status`,
  `request`, `configuration` ...) is acknowledged and not stored: encrypted payloads
  need the app's key, which Hearth does not have.
An empty body is what the apps POST when a friend is removed; the OwnTracks docs say
to ignore it, so it is acknowledged too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.errors import IngestFormatError
from app.services.ingest.common import (
    clean_text,
    coordinates,
    device_name,
    epoch,
    small_int,
)
from app.storage.events import NewEvent
from app.storage.locations import REGION_KEY_MAX, REGION_NAME_MAX, Fix, Region

ANSWER = b"[]"
MAX_REGIONS = 500  # per message: a phone has a handful


@dataclass
class Message:
    kind: str
    fixes: list[Fix] = field(default_factory=list)
    events: list[NewEvent] = field(default_factory=list)
    regions: list[Region] = field(default_factory=list)


def _topic_device(topic: object) -> str | None:
    """`owntracks/<user>/<device>[/event ...]` -> `<device>`."""
    if not isinstance(topic, str):
        return None
    parts = topic.split("/")
    return parts[2] if len(parts) >= 3 else topic


def parse(body: bytes, *, header_device: str | None, fallback_device: str) -> Message:
    """The records one message stands for; IngestFormatError if it is not a message."""
    if not body.strip():
        return Message("empty")
    try:
        msg = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise IngestFormatError("body is not JSON (expected one OwnTracks message)") from exc
    if not isinstance(msg, dict):
        raise IngestFormatError("an OwnTracks message is a JSON object")
    kind = msg.get("_type")
    if not isinstance(kind, str) or not kind:
        raise IngestFormatError("an OwnTracks message needs a string `_type`")
    device = device_name(header_device, _topic_device(msg.get("topic")), fallback_device)
    device = device or "owntracks"
    if kind == "location":
        return Message(kind, fixes=[_fix(msg, device)])
    if kind == "transition":
        return Message(kind, events=[_place(msg, device)])
    if kind == "waypoint":
        return Message(kind, regions=_regions([msg], device))
    if kind == "waypoints":
        listed = msg.get("waypoints")
        return Message(kind, regions=_regions(listed if isinstance(listed, list) else [], device))
    return Message(kind)


def _regions(items: list[Any], device: str) -> list[Region]:
    """The usable regions of a waypoint list; the last definition of a key wins."""
    found: dict[str, Region] = {}
    for item in items[:MAX_REGIONS]:
        region = _region(item, device) if isinstance(item, dict) else None
        if region is not None:
            found[region.key] = region
    return list(found.values())


def _region(msg: dict[str, Any], device: str) -> Region | None:
    name = clean_text(msg.get("desc"), REGION_NAME_MAX)
    where = coordinates(msg.get("lat"), msg.get("lon"))
    tst = epoch(msg.get("tst"))
    if name is None or where is None:
        return None
    # The booklet: a region keeps its first `tst` when edited and that is its id (every
    # app version sends it; `rid` came later).
    rid = clean_text(msg.get("rid"), REGION_KEY_MAX)
    key = f"tst:{tst:.0f}" if tst is not None else rid or f"desc:{name}"[:REGION_KEY_MAX]
    rad = small_int(msg.get("rad"))
    return Region(
        device=device,
        key=key,
        name=name,
        lat=where[0],
        lon=where[1],
        rad=rad if rad is not None and 0 < rad <= 10**7 else None,
        ts=tst if tst is not None else 0.0,
    )


def _when(msg: dict[str, Any], kind: str) -> float:
    tst = epoch(msg.get("tst"))
    if tst is None:
        raise IngestFormatError(f"a {kind} message needs `tst` (epoch seconds)")
    return tst


def _fix(msg: dict[str, Any], device: str) -> Fix:
    where = coordinates(msg.get("lat"), msg.get("lon"))
    if where is None:
        raise IngestFormatError("a location message needs `lat` and `lon` in degrees")
    tid = msg.get("tid")
    return Fix(
        device=device,
        ts=_when(msg, "location"),
        lat=where[0],
        lon=where[1],
        acc=small_int(msg.get("acc")),
        alt=small_int(msg.get("alt")),
        batt=small_int(msg.get("batt")),
        vel=small_int(msg.get("vel")),
        tid=clean_text(tid, 16),
    )


def _place(msg: dict[str, Any], device: str) -> NewEvent:
    tst = _when(msg, "transition")
    raw_event = msg.get("event") if isinstance(msg.get("event"), str) else "transition"
    desc, rid = msg.get("desc"), msg.get("rid")
    raw_place = desc if isinstance(desc, str) and desc else rid if isinstance(rid, str) else ""
    event = clean_text(raw_event, 64) or "transition"
    place = clean_text(raw_place, REGION_NAME_MAX)  # as a region of that name is stored
    meta: dict[str, Any] = {"device": device, "event": event, "source": "owntracks"}
    if place:
        meta["place"] = place
    where = coordinates(msg.get("lat"), msg.get("lon"))
    if where is not None:
        meta["lat"], meta["lon"] = where
    for key in ("acc", "wtst"):
        value = small_int(msg.get(key))
        if value is not None:
            meta[key] = value
    for key in ("tid", "rid", "t"):
        text = clean_text(msg.get(key), 64)
        if text:
            meta[key] = text
    # The id digests the text as sent (a lone surrogate escaped), as it always has: a
    # resend of a transition stored before the cleaning is still the same event.
    sent = f"{device}\0{tst}\0{raw_event}\0{raw_place}".encode("utf-8", "surrogatepass")
    digest = hashlib.sha256(sent).hexdigest()[:24]
    return NewEvent(
        type="place",
        text=f"{event} {place or 'a region'}"[:500],
        timestamp=tst,
        metadata=meta,
        id=f"owntracks-{digest}",
    )


class FixSink(Protocol):
    async def add(self, fixes: Sequence[Fix]) -> int: ...

    async def put_regions(self, regions: Sequence[Region]) -> None: ...


class EventSink(Protocol):
    async def enqueue(self, events: list[NewEvent]) -> list[bool]: ...


async def store(message: Message, *, locations: FixSink, events: EventSink) -> None:
    """Durable before returning: fixes and regions in SQLite commits, places in the journal."""
    if message.fixes:
        await locations.add(message.fixes)
    if message.regions:
        await locations.put_regions(message.regions)
    if message.events:
        await events.enqueue(message.events)
