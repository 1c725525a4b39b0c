"""Stay points and distance from one device's fixes of one day, in a single pass.

A stay is where the phone stayed within `radius_m` of where it arrived for at least
`min_stay_s` (the stay-point rule of Li et al., "Mining user similarity based on location
history", 2008). Apps pause while the phone rests, so a stay runs from its first to its
last fix, gaps included. Distance adds the great-circle steps between fixes that moved
farther than their accuracy (jitter at rest would otherwise add kilometres a day), and
skips fixes that are too inaccurate or too far too fast to be true.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import NamedTuple

EARTH_M = 6_371_008.8
RADIUS_M = 120.0
MIN_STAY_S = 600.0
MAX_ACC_M = 150.0  # a fix less accurate than this says nothing about where the phone was
JITTER_M = 30.0  # a step shorter than this or the two fixes' accuracies is noise
MAX_SPEED = 350.0  # m/s, faster than any airliner: a jump, not a move
WALK_SPEED = 2.5  # m/s (9 km/h): slower steps count as walked
WALK_GAP_S = 600.0
REST_S = 60.0
MERGE_GAP_S = 900.0


class Point(NamedTuple):
    ts: float
    lat: float
    lon: float
    acc: int | None = None


@dataclass
class Stay:
    start: float
    end: float
    lat: float
    lon: float
    fixes: int

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass
class Track:
    """What one device did in a day."""

    stays: list[Stay] = field(default_factory=list)
    distance_m: float = 0.0
    walked_m: float = 0.0
    fixes: int = 0


def haversine(a: Point, b: Point) -> float:
    la1, la2 = math.radians(a.lat), math.radians(b.lat)
    dlat, dlon = la2 - la1, math.radians(b.lon - a.lon)
    h = math.sin(dlat / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_M * math.asin(min(1.0, math.sqrt(h)))


class StayFinder:
    """Feed one device's fixes oldest first, then `finish()`; memory is one stay's fixes."""

    def __init__(self, *, radius_m: float = RADIUS_M, min_stay_s: float = MIN_STAY_S) -> None:
        self.radius_m, self.min_stay_s = radius_m, min_stay_s
        self._window: deque[Point] = deque()
        self._counted: Point | None = None
        self._jumps = 0
        self.track = Track()

    def feed(self, point: Point) -> None:
        self.track.fixes += 1
        if point.acc is not None and point.acc > MAX_ACC_M:
            return
        self._distance(point)
        window = self._window
        if not window or haversine(window[0], point) <= self.radius_m:
            window.append(point)
            return
        if window[-1].ts - window[0].ts >= self.min_stay_s:
            self._emit()
            window.clear()
        window.append(point)
        while haversine(window[0], point) > self.radius_m:  # a new arrival starts from here
            window.popleft()

    def finish(self) -> Track:
        window = self._window
        if window and window[-1].ts - window[0].ts >= self.min_stay_s:
            self._emit()
        window.clear()
        self.track.stays = merge(self.track.stays, self.radius_m)
        return self.track

    def _emit(self) -> None:
        window = self._window
        lat = sum(p.lat for p in window) / len(window)
        lon = sum(p.lon for p in window) / len(window)
        self.track.stays.append(Stay(window[0].ts, window[-1].ts, lat, lon, len(window)))

    def _distance(self, point: Point) -> None:
        last = self._counted
        if last is None:
            self._counted = point
            return
        step = haversine(last, point)
        if step <= max(JITTER_M, (last.acc or 0) + (point.acc or 0)):
            if point.ts - last.ts > REST_S:  # at rest: a departure's speed counts from now
                self._counted = last._replace(ts=point.ts)
            return
        elapsed = point.ts - last.ts
        if elapsed <= 0 or step / elapsed > MAX_SPEED:
            self._jumps += 1
            if self._jumps >= 3:  # three in a row: the counted fix was the jump
                self._counted, self._jumps = point, 0
            return
        self._jumps = 0
        self.track.distance_m += step
        if step / elapsed <= WALK_SPEED and elapsed <= WALK_GAP_S:
            self.track.walked_m += step
        self._counted = point


def merge(stays: list[Stay], radius_m: float) -> list[Stay]:
    """Join back-to-back stays at one place that a stray fix split in two."""
    out: list[Stay] = []
    for stay in stays:
        prev = out[-1] if out else None
        near = (
            prev is not None
            and haversine(Point(0, prev.lat, prev.lon), Point(0, stay.lat, stay.lon)) <= radius_m
        )
        if prev is not None and near and stay.start - prev.end <= MERGE_GAP_S:
            total = prev.fixes + stay.fixes
            prev.lat = (prev.lat * prev.fixes + stay.lat * stay.fixes) / total
            prev.lon = (prev.lon * prev.fixes + stay.lon * stay.fixes) / total
            prev.end, prev.fixes = stay.end, total
        else:
            out.append(stay)
    return out
