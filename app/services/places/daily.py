"""The daily summary of places: one `place` event per local day that has fixes.

Fixes stay in their own store and are not embedded; what a person searches for by
meaning ("where was I on Tuesday", "how far did I walk last week") is this one event a
day. Its id is derived from the date, so a rerun replaces it (unchanged text costs no
re-embedding) and never duplicates it. The job covers yesterday and any of the days
before it (up to `LOOKBACK_DAYS`) that have fixes but no summary yet, so a server that
was down for a few nights catches up. Reading and the arithmetic run in a worker thread,
one block of fixes at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import anyio.to_thread

from app.services.places.naming import Named, day_text, place_totals, track_text
from app.services.places.stays import Point, StayFinder, Track
from app.storage.events import Event, NewEvent, Scalar
from app.storage.locations import Fix, Region

PLACE = "place"
ID_PREFIX = "places-day-"
LOOKBACK_DAYS = 7
NAMES_DAYS = 90  # transitions this far back name the day's stays
MAX_NAMES = 2000


class DayFixes(Protocol):
    def iter_range(self, since: float, until: float, batch: int = ...) -> Iterator[list[Fix]]: ...

    def regions(self) -> list[Region]: ...


class PlaceLog(Protocol):
    def known(self, event_id: str) -> bool: ...

    def keys(
        self, *, type: str | None = ..., since: float | None = ..., until: float | None = ...
    ) -> list[tuple[float, str]]: ...

    async def get_many(self, ids: list[str]) -> list[Event]: ...

    async def enqueue_upsert(self, events: list[NewEvent]) -> tuple[int, int]: ...


def event_id(day: date) -> str:
    return f"{ID_PREFIX}{day.isoformat()}"


def day_bounds(day: date, tz: ZoneInfo) -> tuple[float, float]:
    start = datetime.combine(day, time(), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=tz)
    return start.timestamp(), end.timestamp()


def tracks(fixes: DayFixes, since: float, until: float) -> dict[str, Track]:
    """Blocking: stream the day's fixes through one StayFinder per device."""
    finders: dict[str, StayFinder] = {}
    for block in fixes.iter_range(since, until):
        for fix in block:
            finder = finders.get(fix.device)
            if finder is None:
                finder = finders[fix.device] = StayFinder()
            finder.feed(Point(fix.ts, fix.lat, fix.lon, fix.acc))
    return {device: finder.finish() for device, finder in sorted(finders.items())}


def summary(
    day: date,
    since: float,
    found: dict[str, Track],
    known: list[Named],
    regions: Sequence[Region] = (),
) -> NewEvent:
    """The day's event (pure: what the job writes, given the tracks and known names)."""
    parts: list[tuple[str, str]] = []
    meta: dict[str, Scalar] = {"kind": "day", "date": day.isoformat(), "source": "locations"}
    fixes = distance = walked = stays = 0.0
    for device, track in found.items():
        totals = place_totals(track, known, regions)
        parts.append((device, track_text(track, totals)))
        fixes += track.fixes
        distance += track.distance_m
        walked += track.walked_m
        stays += len(track.stays)
    top = place_totals(max(found.values(), key=lambda t: t.fixes), known, regions)
    meta |= {
        "devices": ",".join(found)[:200],
        "fixes": int(fixes),
        "stays": int(stays),
        "distance_m": round(distance),
        "walked_m": round(walked),
        "places": "; ".join(f"{name}={round(s)}" for name, s in top[:8])[:500],
    }
    return NewEvent(
        type=PLACE, text=day_text(day, parts), timestamp=since, metadata=meta, id=event_id(day)
    )


async def known_names(events: PlaceLog, since: float, until: float) -> list[Named]:
    keys = events.keys(type=PLACE, since=since - NAMES_DAYS * 86400, until=until)
    ids = [i for _, i in keys if not i.startswith(ID_PREFIX)][-MAX_NAMES:]
    named: list[Named] = []
    for first in range(0, len(ids), 500):
        for event in await events.get_many(ids[first : first + 500]):
            name, lat, lon, kind = (event.metadata.get(k) for k in ("place", "lat", "lon", "event"))
            # Stripped as regions are named (older events kept the spaces).
            name = name.strip() if isinstance(name, str) else ""
            if not name:
                continue
            kind = kind if isinstance(kind, str) else ""
            if isinstance(lat, int | float) and isinstance(lon, int | float):
                named.append(Named(event.timestamp, name, float(lat), float(lon), kind))
            else:
                named.append(Named(event.timestamp, name, event=kind))
    return named


async def summarize(
    fixes: DayFixes, events: PlaceLog, *, tz: str, now: float, lookback: int = LOOKBACK_DAYS
) -> dict[str, Any]:
    """Write yesterday's summary and any missing one of the `lookback` days before."""
    zone = ZoneInfo(tz)
    today = datetime.fromtimestamp(now, zone).date()
    written: list[str] = []
    counted = 0
    regions = await anyio.to_thread.run_sync(fixes.regions)
    for back in range(1, lookback + 1):
        day = today - timedelta(days=back)
        if back > 1 and events.known(event_id(day)):
            continue
        since, until = day_bounds(day, zone)
        found = await anyio.to_thread.run_sync(tracks, fixes, since, until)
        if not found:
            continue
        named = await known_names(events, since, until)
        await events.enqueue_upsert([summary(day, since, found, named, regions)])
        written.append(day.isoformat())
        counted += sum(t.fixes for t in found.values())
    return {"days": written, "written": len(written), "fixes": counted}
