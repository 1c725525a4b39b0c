"""Stay points, distance and the day's text on synthetic tracks (a fixed day, no clock)."""

from __future__ import annotations

import math
import random
from datetime import date

from app.services.places.daily import summary
from app.services.places.naming import Named, duration, name_stay, place_totals
from app.services.places.stays import Point, StayFinder, Track, haversine

DAY = 1_796_083_200.0  # Tuesday 1 December 2026 00:00 UTC
HOME = (48.85660, 2.35220)
OFFICE = (48.86560, 2.35220)  # 1.0 km due north
M_PER_DEG = 111_195.0


def rest(where: tuple[float, float], start: float, end: float, step: float, seed: int):
    rnd = random.Random(seed)
    t = start
    while t < end:
        jitter = [rnd.uniform(-10, 10) / M_PER_DEG for _ in range(2)]
        yield Point(t, where[0] + jitter[0], where[1] + jitter[1], 10)
        t += step


def walk(a: tuple[float, float], b: tuple[float, float], start: float, seconds: float):
    steps = int(seconds // 10)
    for i in range(1, steps):
        f = i / steps
        yield Point(start + i * 10, a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, 8)


def day_track() -> list[Point]:
    h = 3600.0
    return [
        *rest(HOME, DAY, DAY + 8 * h, 60, 1),
        *walk(HOME, OFFICE, DAY + 8 * h, 15 * 60),
        *rest(OFFICE, DAY + 8.25 * h, DAY + 17 * h, 30, 2),
        *walk(OFFICE, HOME, DAY + 17 * h, 15 * 60),
        *rest(HOME, DAY + 17.25 * h, DAY + 24 * h, 10, 3),
    ]


def run(points: list[Point]) -> Track:
    finder = StayFinder()
    for point in points:
        finder.feed(point)
    return finder.finish()


def test_haversine_matches_a_known_distance() -> None:
    paris, london = Point(0, 48.8566, 2.3522), Point(0, 51.5074, -0.1278)
    assert math.isclose(haversine(paris, london), 343_500, rel_tol=0.01)


def test_a_commuting_day_has_two_places_and_two_walks() -> None:
    track = run(day_track())
    assert len(track.stays) == 3
    home, office, back = track.stays
    # arrival counts from the first fix within the radius: up to ~90 s of walking each end
    assert abs(home.seconds - 8 * 3600) < 300 and abs(back.seconds - 6.75 * 3600) < 300
    assert abs(office.seconds - 8.75 * 3600) < 300
    assert haversine(Point(0, *OFFICE), Point(0, office.lat, office.lon)) < 20
    # two 1 km walks; the jitter at rest (10 m, every 10 s for hours) adds nothing
    assert 1900 < track.distance_m < 2300
    assert track.walked_m > 0.95 * track.distance_m  # all on foot (the first step may look fast)


def test_short_stops_and_inaccurate_jumps_are_not_stays_or_distance() -> None:
    stop = list(rest(OFFICE, DAY + 900, DAY + 900 + 300, 10, 4))  # 5 min: not a stay
    far = Point(DAY + 2000, 40.0, -3.7, 2000)  # 1000 km away, 2 km accuracy
    teleport = Point(DAY + 2010, 40.0, -3.7, 5)  # accurate but 1000 km in 10 s
    points = [*rest(HOME, DAY, DAY + 720, 60, 5), *stop, far, teleport]
    points += list(rest(HOME, DAY + 2100, DAY + 4000, 60, 6))
    track = run(points)
    assert [round(s.seconds / 60) for s in track.stays] == [11, 31]
    assert track.distance_m < 2500  # home -> office -> home, no trip to Madrid
    assert track.fixes == len(points)


def test_a_stray_fix_does_not_split_a_stay() -> None:
    points = list(rest(HOME, DAY, DAY + 3600, 60, 7))
    points.insert(30, Point(points[30].ts - 1, OFFICE[0], OFFICE[1], 10))
    assert [round(s.seconds / 60) for s in run(points).stays] == [59]


def test_names_come_from_transitions_else_coordinates() -> None:
    track = run(day_track())
    known = [
        Named(DAY - 86400 * 30, "Home", HOME[0] + 0.001, HOME[1]),  # 110 m off, a month ago
        Named(DAY + 8.3 * 3600, "Office", event="enter"),  # no position, but during the stay
        Named(DAY + 8 * 3600 + 60, "Home", event="leave"),  # just before the office stay
    ]
    names = [name_stay(stay, known) for stay in track.stays]
    assert names == ["Home", "Office", "Home"]
    assert name_stay(track.stays[1], known[:1]) == "near 48.866, 2.352"
    assert name_stay(track.stays[1], known[2:]) == "near 48.866, 2.352"  # left Home, not there
    totals = place_totals(track, known)
    assert [name for name, _ in totals] == ["Home", "Office"]
    assert duration(totals[0][1]) == "14 h 48 min"  # 14 h 45 min + walking in and out


def test_the_day_summary_reads_as_a_sentence() -> None:
    event = summary(date(2026, 12, 1), DAY, {"phone": run(day_track())}, [
        Named(DAY + 60, "Home", *HOME), Named(DAY + 8.3 * 3600, "Office", *OFFICE)
    ])  # fmt: skip
    assert event.text == (
        "Places on Tuesday 1 December 2026: Home 14 h 48 min, Office 8 h 50 min (walked 2.0 km)"
    )
    assert event.id == "places-day-2026-12-01" and event.type == "place"
    assert event.timestamp == DAY
    assert event.metadata["date"] == "2026-12-01" and event.metadata["stays"] == 3


def test_two_devices_are_named_in_the_text() -> None:
    event = summary(date(2026, 12, 1), DAY, {"phone": run(day_track()), "watch": Track()}, [])
    assert "phone: near 48.857, 2.352 14 h 48 min" in event.text
    assert "; watch: on the move, no stop of 10 min or more (stayed put)" in event.text
