"""Writing, reading, paging, deleting and restarting the event log (embedded and server)."""

from __future__ import annotations

import random

import pytest

from app.storage.events.store import EventStore
from app.storage.events.types import NewEvent
from tests.storage.events.conftest import StoreSetup

pytestmark = pytest.mark.anyio
T0 = 1_763_600_000.0


def ev(text: str, ts: float, kind: str = "note", id: str | None = None, **meta: object) -> NewEvent:
    return NewEvent(type=kind, text=text, timestamp=ts, metadata=meta, id=id)  # type: ignore[arg-type]


async def test_replayed_batch_is_reported_as_duplicates(store: EventStore) -> None:
    batch = [ev(f"walked {i} km", T0 + i, id=f"walk-{i}") for i in range(5)]
    first = await store.add(batch)
    again = await store.add(batch)
    assert (first.created, first.duplicates) == (5, 0)
    assert (again.created, again.duplicates) == (0, 5)
    assert again.ids == first.ids
    assert store.counts() == (5, {"note": 5})
    page, _ = await store.list(limit=50)
    assert len(page) == 5


async def test_repeated_id_inside_a_batch_is_stored_once(store: EventStore) -> None:
    result = await store.add(
        [ev("first copy", T0, id="same"), ev("second copy", T0 + 1, id="same")]
    )
    assert (result.created, result.duplicates, result.ids) == (1, 1, ["same", "same"])
    stored = await store.get("same")
    assert stored is not None and stored.text == "first copy"
    assert store.counts()[0] == 1


async def test_missing_ids_are_generated_and_events_round_trip(store: EventStore) -> None:
    result = await store.add(
        [ev("slept badly", T0, kind="sleep", hours=5.5, restful=False, n=3, note="ünïcødé")]
    )
    event_id = result.ids[0]
    assert len(event_id) == 32 and store.known(event_id)
    stored = await store.get(event_id)
    assert stored is not None
    assert stored.to_api() | {"received_at": 0} == {
        "id": event_id,
        "type": "sleep",
        "text": "slept badly",
        "timestamp": T0,
        "received_at": 0,
        "metadata": {"hours": 5.5, "restful": False, "n": 3, "note": "ünïcødé"},
    }
    assert isinstance(stored.metadata["restful"], bool) and isinstance(stored.metadata["n"], int)


async def test_odd_metadata_never_crashes_nor_clobbers_our_fields(store: EventStore) -> None:
    odd = {"type": "evil", "timestamp": "never", "ключ 🔑": True, "big": 2**70, "nan": float("nan")}
    result = await store.add([ev("odd metadata", T0, kind="note", id="odd", **odd)])
    stored = await store.get(result.ids[0])
    assert stored is not None
    assert (stored.type, stored.timestamp) == ("note", T0)
    assert stored.metadata["type"] == "evil" and stored.metadata["ключ 🔑"] is True
    assert stored.metadata["big"] == str(2**70) and stored.metadata["nan"] == "nan"


async def test_get_and_delete(store: EventStore) -> None:
    await store.add([ev("keep me", T0, id="keep"), ev("drop me", T0 + 1, id="drop")])
    assert await store.delete("drop") is True
    assert await store.delete("drop") is False
    assert await store.get("drop") is None
    assert await store.get("never-existed") is None
    assert not store.known("drop") and store.known("keep")
    hits = await store.search("drop me", n=5, type=None, since=None, until=None)
    assert [event.id for event, _ in hits] == ["keep"]


async def test_events_survive_close_and_reopen(setup: StoreSetup) -> None:
    store = await setup.open()
    await store.add([ev(f"day {i}", T0 + i, kind="thought" if i % 2 else "mood") for i in range(6)])
    await store.enqueue([ev("queued thought", T0 + 10, kind="thought", id="queued")])
    counts = store.counts()
    await store.close()
    reopened = await setup.open()
    try:
        assert reopened.counts() == counts == (7, {"thought": 4, "mood": 3})
        page, _ = await reopened.list(limit=2)
        assert [e.text for e in page] == ["queued thought", "day 5"]
        hits = await reopened.search("queued thought", n=1, type=None, since=None, until=None)
        assert hits[0][0].id == "queued"
    finally:
        await reopened.close()


async def walk(store: EventStore, limit: int, **filters: object) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        page, cursor = await store.list(limit=limit, cursor=cursor, **filters)  # type: ignore[arg-type]
        seen += [e.id for e in page]
        if cursor is None:
            return seen


async def seed(store: EventStore, n: int) -> dict[str, tuple[float, str]]:
    rng = random.Random(7)
    kinds = ["thought", "mood", "blog"]
    batch = [
        ev(f"entry {i}", T0 + rng.randrange(40), kind=rng.choice(kinds), id=f"e{i:03d}")
        for i in range(n)
    ]
    await store.add(batch)
    return {e.id: (e.timestamp, e.type) for e in batch if e.id}


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"type": "mood"},
        {"since": T0 + 10, "until": T0 + 30},
        {"type": "thought", "since": T0 + 5},
    ],
)
async def test_cursor_walks_every_event_once_newest_first(
    store: EventStore, filters: dict[str, object]
) -> None:
    known = await seed(store, 90)
    kind, since, until = filters.get("type"), filters.get("since"), filters.get("until")
    expected = {
        i
        for i, (ts, k) in known.items()
        if (kind is None or k == kind)
        and (since is None or ts >= since)  # type: ignore[operator]
        and (until is None or ts < until)  # type: ignore[operator]
    }
    seen = await walk(store, 7, **filters)
    assert len(seen) == len(set(seen)) and set(seen) == expected
    keys = [(known[i][0], i) for i in seen]
    assert keys == sorted(keys, reverse=True)


async def test_cursor_is_stable_while_events_arrive(store: EventStore) -> None:
    known = await seed(store, 60)
    seen: list[str] = []
    page, cursor = await store.list(limit=8)
    seen += [e.id for e in page]
    n = 0
    while cursor is not None:
        # Inserts between pages, both newer than the page and inside the range still to walk.
        await store.add(
            [ev("new newest", T0 + 100 + n, id=f"new{n}"), ev("old", T0 - 5 - n, id=f"old{n}")]
        )
        n += 1
        page, cursor = await store.list(limit=8, cursor=cursor)
        seen += [e.id for e in page]
    assert len(seen) == len(set(seen))
    assert set(known) <= set(seen)
    assert {f"old{i}" for i in range(n)} <= set(seen)


async def test_bad_cursor_is_a_value_error(store: EventStore) -> None:
    for bad in ["not-base64!", "bm9wZQ", "WzEsMl0"]:
        with pytest.raises(ValueError):
            await store.list(limit=5, cursor=bad)


async def test_delete_where_in_chunks_with_dry_run(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store._writer, "_delete_chunk", 4)  # several calls, both modes
    kinds = ["mood", "thought", "blog"]
    await store.add([ev(f"e{i}", T0 + i, kind=kinds[i % 3], id=f"e{i}") for i in range(30)])
    assert await store.delete_where(before=T0 + 20, dry_run=True) == 20
    assert store.counts()[0] == 30
    assert await store.delete_where(before=T0 + 20, type="mood") == 7
    assert await store.delete_where(before=T0 + 20, exclude_types={"blog"}) == 7
    total, by_type = store.counts()
    assert (total, by_type) == (16, {"mood": 3, "thought": 3, "blog": 10})
    remaining = await walk(store, 50)
    assert len(remaining) == 16
    assert all(int(i[1:]) >= 20 or int(i[1:]) % 3 == 2 for i in remaining)
    hits = await store.search("e3", n=30, type=None, since=None, until=None)
    assert {e.id for e, _ in hits} == set(remaining)
