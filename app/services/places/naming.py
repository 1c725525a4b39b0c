"""Names for stays and the day's text a person would search for.

Names come from OwnTracks: region transitions (`place` events: "enter Home" with the
region's `desc` and the phone's position) and the regions themselves (waypoints: a
name, a centre, a radius). A stay is named by, in turn:
1. a positioned transition during it, within `NAME_RADIUS_M`;
2. the one name its unpositioned transitions agree on (the phone's own geofence said so);
3. the smallest region that holds it (its radius, at least `REGION_MIN_M`);
4. the nearest positioned transition of the last months within `NAME_RADIUS_M`;
5. else its rounded coordinates (3 decimals, about 100 m).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from app.services.places.stays import Point, Stay, Track, haversine
from app.storage.locations import Region

NAME_RADIUS_M = 250.0
REGION_MIN_M = 50.0  # a stay's centre wanders a little: a tiny region still holds it
REGION_DEFAULT_M = 100.0  # a region sent without a radius
EDGE_S = 1800.0  # a transition this close to a stay's ends belongs to it
MAX_PLACES = 8


@dataclass(frozen=True)
class Named:
    """A region transition: when, which region, and where the phone was (if sent)."""

    ts: float
    name: str
    lat: float | None = None
    lon: float | None = None
    event: str = ""  # `enter` / `leave`


def _belongs(named: Named, stay: Stay) -> bool:
    """An `enter` just before a stay or a `leave` just after it is that stay's."""
    early = EDGE_S if named.event != "leave" else 0.0
    late = EDGE_S if named.event != "enter" else 0.0
    return stay.start - early <= named.ts <= stay.end + late


def _nearest(here: Point, group: list[Named]) -> str | None:
    near = [
        (haversine(here, Point(0, n.lat, n.lon)), n.name)
        for n in group
        if n.lat is not None and n.lon is not None
    ]
    near = [pair for pair in near if pair[0] <= NAME_RADIUS_M]
    return min(near)[1] if near else None


def _holding(here: Point, regions: Sequence[Region]) -> str | None:
    holding = []
    for region in regions:
        radius = max(REGION_MIN_M, float(region.rad or REGION_DEFAULT_M))
        if haversine(here, Point(0, region.lat, region.lon)) <= radius:
            holding.append((radius, region.name))
    return min(holding)[1] if holding else None


def name_stay(stay: Stay, known: list[Named], regions: Sequence[Region] = ()) -> str:
    during = [n for n in known if _belongs(n, stay)]
    here = Point(0, stay.lat, stay.lon)
    unplaced = {n.name for n in during if n.lat is None}
    agreed = unplaced.pop() if len(unplaced) == 1 else None
    return (
        _nearest(here, during)
        or agreed
        or _holding(here, regions)
        or _nearest(here, known)
        or f"near {stay.lat:.3f}, {stay.lon:.3f}"
    )


def place_totals(
    track: Track, known: list[Named], regions: Sequence[Region] = ()
) -> list[tuple[str, float]]:
    """(name, seconds) per place, longest first."""
    totals: dict[str, float] = {}
    for stay in track.stays:
        name = name_stay(stay, known, regions)
        totals[name] = totals.get(name, 0.0) + stay.seconds
    return sorted(totals.items(), key=lambda item: (-item[1], item[0]))


def duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def distance(metres: float) -> str:
    return f"{metres / 1000:.1f} km" if metres >= 1000 else f"{round(metres)} m"


def track_text(track: Track, totals: list[tuple[str, float]]) -> str:
    shown = [f"{name} {duration(s)}" for name, s in totals[:MAX_PLACES]]
    if len(totals) > MAX_PLACES:
        shown.append(f"and {len(totals) - MAX_PLACES} other places")
    places = ", ".join(shown) or "on the move, no stop of 10 min or more"
    walked, total = track.walked_m, track.distance_m
    if walked >= 50 and total - walked >= 500:
        moved = f"walked {distance(walked)}, {distance(total)} in all"
    elif walked >= 50:
        moved = f"walked {distance(total)}"
    elif total >= 50:
        moved = f"travelled {distance(total)}"
    else:
        moved = "stayed put"
    return f"{places} ({moved})"


def day_text(day: date, parts: list[tuple[str, str]]) -> str:
    """`parts`: (device, that device's text); one device is not named."""
    head = f"Places on {day:%A} {day.day} {day:%B %Y}: "
    if len(parts) == 1:
        return head + parts[0][1]
    return head + "; ".join(f"{device}: {text}" for device, text in parts)
