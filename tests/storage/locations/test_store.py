"""The location store: one row per (time, device), keyset paging, chunked retention."""

from __future__ import annotations

import os
from pathlib import Path

import anyio.to_thread
import pytest

from app.storage.gate import WriteGate
from app.storage.locations import Fix, LocationStore, Region, fix_from_record, region_from_record

pytestmark = pytest.mark.anyio


def fixes(n: int, device: str = "phone", start: float = 1_700_000_000.0) -> list[Fix]:
    return [
        Fix(device, start + i * 10, 48.0 + i * 1e-4, 2.0, acc=5, batt=80, vel=3) for i in range(n)
    ]


async def open_store(tmp_path: Path) -> LocationStore:
    return await LocationStore.open(tmp_path / "locations.sqlite3", WriteGate())


async def test_a_resend_stores_nothing_twice(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    assert await store.add(fixes(100)) == 100
    assert await store.add(fixes(100)) == 0
    assert await store.add([*fixes(101)[-1:], *fixes(3, "watch")]) == 4
    assert store.count == 104
    store.close()
    again = await open_store(tmp_path)
    assert again.count == 104
    again.close()


async def test_pages_newest_first_without_gaps_or_repeats(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    await store.add(fixes(25) + fixes(25, "watch"))
    seen, cursor = [], None
    while True:
        page, cursor = await store.page(limit=7, cursor=cursor)
        seen += page
        if cursor is None:
            break
    assert len(seen) == 50 == len({f.id for f in seen})
    times = [f.ts for f in seen]
    assert times == sorted(times, reverse=True)
    window, _ = await store.page(since=1_700_000_050, until=1_700_000_100, device="watch")
    assert [f.ts for f in window] == [1_700_000_090 - 10 * i for i in range(5)]
    store.close()


async def test_retention_deletes_only_older_fixes(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    await store.add(fixes(50))
    cutoff = 1_700_000_000 + 200
    assert await store.delete_before(cutoff, dry_run=True) == 20
    assert await store.delete_before(cutoff) == 20
    assert store.count == 30
    oldest, _ = await store.page(limit=1, newest_first=False)
    assert oldest[0].ts == cutoff
    store.close()


async def test_compact_on_disk(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    n = 20_000
    for block in range(0, n, 1000):
        await store.add(fixes(1000, start=1_700_000_000.0 + block * 10))
    store.close()
    size = sum(os.path.getsize(p) for p in tmp_path.iterdir())
    assert size / n < 120


def test_export_record_round_trips() -> None:
    fix = Fix("phone", 1_700_000_000.123, 48.1, 2.2, acc=5, alt=30, batt=80, vel=4, tid="JJ")
    assert fix_from_record(fix.to_record()) == fix
    with pytest.raises(ValueError, match="device"):
        fix_from_record({"timestamp": 1, "lat": 1, "lon": 1})
    with pytest.raises(ValueError, match="range"):
        fix_from_record({"device": "d", "timestamp": 1, "lat": 91, "lon": 1})


async def test_a_damaged_file_is_moved_aside_and_reported(tmp_path: Path) -> None:
    (tmp_path / "locations.sqlite3").write_bytes(b"this is not a database" * 100)
    store = await open_store(tmp_path)
    assert store.count == 0 and "damaged" in store.warnings[0]
    assert await store.add(fixes(3)) == 3
    store.close()
    assert len(list(tmp_path.glob("locations.sqlite3.corrupt-*"))) == 1


async def test_a_time_range_streams_in_blocks_oldest_first(tmp_path: Path) -> None:
    """The daily summary reads one day a block at a time; bounds are [since, until)."""
    store = await open_store(tmp_path)
    await store.add(fixes(50) + fixes(50, "watch"))
    start = 1_700_000_000.0
    blocks = await anyio.to_thread.run_sync(
        lambda: list(store.iter_range(start + 100, start + 300, batch=7))
    )
    got = [(f.ts, f.device) for block in blocks for f in block]
    assert {len(block) for block in blocks[:-1]} == {7}
    assert got == sorted(got) and len(got) == 40  # 10..29 of both devices
    assert got[0] == (start + 100, "phone") and got[-1] == (start + 290, "watch")
    assert await anyio.to_thread.run_sync(lambda: list(store.iter_range(0, start))) == []
    store.close()


async def test_regions_are_replaced_by_key_and_kept(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    home = Region("phone", "r1", "Home", 48.85, 2.35, 80, 1_700_000_000.0)
    gym = Region("watch", "tst:1700000100", "Gym", 48.86, 2.36, None, 1_700_000_100.0)
    await store.put_regions([home, gym])
    moved = home._replace(name="Home (new flat)", lat=48.9)
    await store.put_regions([moved])
    assert store.regions() == [moved, gym]
    store.close()
    again = await open_store(tmp_path)
    assert again.regions() == [moved, gym]
    assert again.count == 0  # regions are not fixes
    again.close()


def test_region_record_round_trips() -> None:
    region = Region("phone", "r1", "Home", 48.85, 2.35, 80, 1_700_000_000.0)
    assert region_from_record(region.to_record()) == region
    assert region_from_record(region._replace(rad=None).to_record()).rad is None
    for bad, why in [({"name": ""}, "name"), ({"lat": 95}, "range"), ({"rad": -3}, "rad")]:
        with pytest.raises(ValueError, match=why):
            region_from_record({**region.to_record(), **bad})


async def test_a_write_sqlite_cannot_take_leaves_no_transaction_behind(tmp_path: Path) -> None:
    """A value SQLite refuses outside its own errors (a lone surrogate cannot be UTF-8)
    must roll back: the shared connection must not stay in a transaction that the next
    write fails on and whose rollback would undo writes made meanwhile."""
    store = await open_store(tmp_path)
    bad = Region("phone", "r1", "Home\ud800", 48.85, 2.35, 80, 1_700_000_000.0)
    with pytest.raises(UnicodeEncodeError):
        await store.put_regions([bad])
    with pytest.raises(UnicodeEncodeError):
        await store.add([Fix("phone", 1_700_000_000.0, 48.0, 2.0, tid="\udc00")])
    good = bad._replace(name="Home")
    await store.put_regions([good])
    assert await store.add(fixes(3)) == 3
    assert await store.delete_region("phone", "r1")
    store.close()
    again = await open_store(tmp_path)
    assert again.count == 3 and again.regions() == []
    again.close()
