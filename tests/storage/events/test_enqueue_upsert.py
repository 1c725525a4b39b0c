"""enqueue_upsert: an app's resend stores nothing twice, a changed record replaces its copy."""

from __future__ import annotations

import pytest

from app.errors import StorageFullError
from app.storage.events.store import EventStore
from app.storage.events.types import NewEvent

pytestmark = pytest.mark.anyio


def steps(qty: int, day: int = 1) -> NewEvent:
    return NewEvent(
        type="health",
        text=f"step_count {qty} count on day {day}",
        timestamp=1.7e9 + day * 86400,
        metadata={"name": "step_count", "qty": qty},
        id=f"health:step_count:{day}",
    )


async def test_resend_is_unchanged_and_a_changed_record_replaces_the_old(
    store: EventStore,
) -> None:
    assert await store.enqueue_upsert([steps(100), steps(5, day=2)]) == (2, 0)
    assert await store.enqueue_upsert([steps(100), steps(5, day=2)]) == (0, 0)  # pending copy
    await store.flush()
    assert await store.enqueue_upsert([steps(100), steps(5, day=2)]) == (0, 0)  # Chroma copy
    assert await store.enqueue_upsert([steps(250), steps(5, day=2)]) == (0, 1)
    got = await store.get("health:step_count:1")
    assert got is not None and got.metadata["qty"] == 250 and "250" in got.text
    await store.flush()
    assert store.counts() == (2, {"health": 2})
    assert store.collection.count() == 2
    hits = await store.search("step_count 250", n=1, type="health", since=None, until=None)
    assert hits[0][0].metadata["qty"] == 250


async def test_a_rewrite_in_place_is_named_by_changed_once_readable(store: EventStore) -> None:
    await store.enqueue_upsert([steps(100), steps(5, day=2)])
    before, none = store.changed(type="health", after=10**9)
    assert none == []
    keys = store.keys(type="health")
    assert await store.enqueue_upsert([steps(250)]) == (0, 1)
    assert store.keys(type="health") == keys  # same id and time: the keys cannot show it
    now, ids = store.changed(type="health", after=before)
    assert ids == ["health:step_count:1"] and now > before
    assert store.changed(type="mood", after=before)[1] == []
    assert store.changed(type="health", after=now) == (now, [])
    assert await store.delete("health:step_count:1")
    assert store.changed(type="health", after=before)[1] == []  # gone: the keys show that


async def test_a_moved_timestamp_moves_the_event_in_the_index(store: EventStore) -> None:
    await store.enqueue_upsert([steps(1)])
    moved = NewEvent(type="health", text="x", timestamp=5.0, id="health:step_count:1")
    assert await store.enqueue_upsert([moved]) == (0, 1)
    page, _ = await store.list(type="health", since=0, until=10)
    assert [e.id for e in page] == ["health:step_count:1"]
    assert (await store.list(type="health", since=10))[0] == []


async def test_a_failed_write_leaves_the_old_copy(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.enqueue_upsert([steps(100)])
    await store.flush()

    async def full(_events: object) -> None:
        raise StorageFullError("disk is full")

    monkeypatch.setattr(store._outbox, "put", full)
    with pytest.raises(StorageFullError):
        await store.enqueue_upsert([steps(300), steps(1, day=9)])
    assert not store.known("health:step_count:9")
    got = await store.get("health:step_count:1")
    assert got is not None and got.metadata["qty"] == 100
    assert store.counts() == (1, {"health": 1})
    hits = await store.search("step_count 100", n=1, type="health", since=None, until=None)
    assert hits and hits[0][0].id == "health:step_count:1"  # its vector is back too
