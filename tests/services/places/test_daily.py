"""The daily job over a real location store and a real event log, with a fixed clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.services.places.daily import summarize
from app.services.places.naming import Named, name_stay
from app.services.places.stays import Stay
from app.storage.embeddings import Embedder
from app.storage.events import EventStore, NewEvent
from app.storage.gate import WriteGate
from app.storage.locations import Fix, LocationStore, Region

pytestmark = pytest.mark.anyio
MON = 1_796_601_600.0  # Monday 7 December 2026 00:00 UTC
NOW = MON + 7 * 86400 + 3600  # Monday 14 December, 01:00
HOME = (48.8566, 2.3522)


def at_home(day: float, hours: float, device: str = "phone") -> list[Fix]:
    return [Fix(device, day + s, *HOME, acc=10) for s in range(0, int(hours * 3600), 60)]


@pytest.fixture
async def stores(
    tmp_path: Path, embedder: Embedder
) -> AsyncIterator[tuple[LocationStore, EventStore]]:
    gate = WriteGate()
    fixes = await LocationStore.open(tmp_path / "locations.sqlite3", gate)
    events = await EventStore.open(
        chroma_dir=tmp_path / "chroma",
        chroma_url=None,
        embedder=embedder,
        outbox_path=tmp_path / "outbox.jsonl",
        gate=gate,
    )
    try:
        yield fixes, events
    finally:
        await events.close()
        fixes.close()


async def test_each_day_once_and_a_rerun_replaces_it(
    stores: tuple[LocationStore, EventStore],
) -> None:
    fixes, events = stores
    await fixes.add(at_home(MON + 6 * 86400, 5) + at_home(MON + 2 * 86400, 2))  # Sun, Wed
    await fixes.add(at_home(MON - 86400, 3))  # beyond the seven days looked back
    place = NewEvent("place", "enter Home", MON + 86400, {"place": "Home", "lat": HOME[0],
                                                         "lon": HOME[1]}, "t1")  # fmt: skip
    await events.add([place])
    stats = await summarize(fixes, events, tz="UTC", now=NOW)
    assert stats == {"days": ["2026-12-13", "2026-12-09"], "written": 2, "fixes": 420}
    sunday = await events.get("places-day-2026-12-13")
    assert sunday is not None
    assert sunday.text == "Places on Sunday 13 December 2026: Home 4 h 59 min (stayed put)"
    assert sunday.timestamp == MON + 6 * 86400 and sunday.type == "place"

    # Yesterday again (fixes that came late change it); earlier days only if missing.
    await fixes.add(at_home(MON + 6 * 86400 + 5 * 3600, 1))
    again = await summarize(fixes, events, tz="UTC", now=NOW)
    assert again["days"] == ["2026-12-13"]
    updated = await events.get("places-day-2026-12-13")
    assert updated is not None and "Home 5 h 59 min" in updated.text
    ids = [i for _, i in events.keys(type="place")]
    assert sorted(ids) == ["places-day-2026-12-09", "places-day-2026-12-13", "t1"]


async def test_days_are_local_days_and_an_empty_week_writes_nothing(
    stores: tuple[LocationStore, EventStore],
) -> None:
    fixes, events = stores
    assert await summarize(fixes, events, tz="Pacific/Auckland", now=NOW) == {
        "days": [], "written": 0, "fixes": 0,
    }  # fmt: skip
    # 20:00 UTC Sunday is 09:00 Monday in Auckland (UTC+13): a Monday there.
    await fixes.add(at_home(MON + 6 * 86400 + 20 * 3600, 1))
    stats = await summarize(fixes, events, tz="Pacific/Auckland", now=NOW + 86400)
    assert stats["days"] == ["2026-12-14"]
    event = await events.get("places-day-2026-12-14")
    assert event is not None and event.text.startswith("Places on Monday 14 December 2026: ")


async def test_a_region_names_a_stay_without_any_transition(
    stores: tuple[LocationStore, EventStore],
) -> None:
    fixes, events = stores
    await fixes.add(at_home(MON + 6 * 86400, 3))  # Sunday, no enter/leave sent that day
    town = Region("phone", "r-town", "Paris", HOME[0], HOME[1], 5000, MON - 90 * 86400)
    flat = Region("phone", "r-flat", "Home", HOME[0] + 0.0003, HOME[1], 60, MON - 90 * 86400)
    away = Region("phone", "r-gym", "Gym", HOME[0] + 0.01, HOME[1], 100, MON - 90 * 86400)
    await fixes.put_regions([town, flat, away])
    await summarize(fixes, events, tz="UTC", now=NOW)
    sunday = await events.get("places-day-2026-12-13")
    assert sunday is not None  # the smallest region that holds the stay (33 m off, 60 m wide)
    assert sunday.text == "Places on Sunday 13 December 2026: Home 2 h 59 min (stayed put)"


def test_a_stay_is_named_by_its_own_transition_then_a_region_then_nearby_names() -> None:
    stay = Stay(MON, MON + 3600, *HOME, fixes=60)
    region = Region("phone", "r1", "Home", *HOME, 80, MON - 86400)
    entered = Named(MON - 60, "Flat 3B", *HOME, event="enter")
    weeks_ago = Named(MON - 20 * 86400, "Old name", *HOME, event="enter")
    assert name_stay(stay, [entered, weeks_ago], [region]) == "Flat 3B"
    unpositioned = Named(MON - 60, "Flat 3B", event="enter")
    assert name_stay(stay, [unpositioned, weeks_ago], [region]) == "Flat 3B"
    assert name_stay(stay, [weeks_ago], [region]) == "Home"
    assert name_stay(stay, [weeks_ago], []) == "Old name"
    far = region._replace(lat=HOME[0] + 0.002)  # 222 m away, 80 m wide
    assert name_stay(stay, [], [far]) == "near 48.857, 2.352"
