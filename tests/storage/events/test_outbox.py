"""The outbox: acked means on disk, whatever happens to the process afterwards."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import anyio.to_thread
import pytest

from app.errors import StorageFullError
from app.storage.events.journal import encode_line, read_journal
from app.storage.events.outbox import Outbox
from app.storage.events.store import EventStore
from app.storage.events.types import Event, NewEvent
from app.storage.gate import WriteGate
from tests.storage.events.conftest import StoreSetup

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[2]


def thought(i: int) -> NewEvent:
    return NewEvent(type="thought", text=f"thought number {i}", timestamp=1e9 + i, id=f"t{i}")


async def test_enqueued_events_are_readable_at_once_and_reach_chroma(store: EventStore) -> None:
    assert await store.enqueue([thought(1), thought(1), thought(2)]) == [True, False, True]
    assert await store.enqueue([thought(2)]) == [False]
    assert store.known("t1") and store.counts() == (2, {"thought": 2})
    got = await store.get("t1")
    assert got is not None and got.text == "thought number 1"
    await store.flush()
    assert store.collection.count() == 2
    assert store._outbox.path.read_bytes() == b""
    hits = await store.search("thought number 2", n=1, type="thought", since=None, until=None)
    assert hits[0][0].id == "t2"


def enqueue_then_kill(setup: StoreSetup, count: int) -> set[str]:
    """Run the child until it reports every ack, then kill -9 it; the acked ids."""
    child = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).with_name("enqueue_child.py")),
            str(setup.data_dir),
            setup.chroma_url or "",
            setup.namespace,
            str(count),
        ],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
    )
    assert child.stdout is not None
    acked = set()
    try:
        for raw in child.stdout:
            line = raw.decode().strip()
            if line == "all acked":
                break
            acked.add(line.removeprefix("ack "))
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
    return acked


async def test_acked_events_survive_kill_9(setup: StoreSetup) -> None:
    acked = await anyio.to_thread.run_sync(enqueue_then_kill, setup, 25)
    assert len(acked) == 25
    store = await setup.open()
    try:
        assert all(store.known(event_id) for event_id in acked)
        await store.flush()
        assert store.collection.count() == 25
        page, _ = await store.list(limit=100, type="thought")
        assert {e.id for e in page} == acked
        hits = await store.search("crash-safe thought 7", n=1, type=None, since=None, until=None)
        assert hits[0][0].id == "t7"
    finally:
        await store.close()


async def test_torn_last_line_is_ignored_with_a_warning(setup: StoreSetup) -> None:
    lines = [
        json.dumps(
            {
                "id": f"j{i}",
                "type": "mood",
                "text": f"calm {i}",
                "timestamp": 5.0 + i,
                "received_at": 6.0,
                "metadata": {"m": i},
            }
        )
        for i in range(2)
    ]
    torn = lines[1][:25]
    setup.outbox_path.write_text(lines[0] + "\n" + lines[1] + "\n" + torn)
    store = await setup.open()
    try:
        assert any("torn last line" in w for w in store.warnings)
        await store.flush()
        assert store.counts() == (2, {"mood": 2})
        got = await store.get("j1")
        assert got is not None and got.metadata == {"m": 1}
        assert setup.outbox_path.read_bytes() == b""
    finally:
        await store.close()


async def test_full_disk_acks_nothing(store: EventStore) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("needs /dev/full")
    store._outbox.path = Path("/dev/full")
    with pytest.raises(StorageFullError):
        await store.enqueue([thought(1), thought(2)])
    assert not store.known("t1") and store.counts() == (0, {})
    assert await store.get("t1") is None


async def test_concurrent_enqueues_share_fsyncs(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:

    fsyncs = 0
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        nonlocal fsyncs
        fsyncs += 1
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counting_fsync)
    await store._outbox.put([])  # nothing to write, nothing synced
    results = await asyncio.gather(*(store.enqueue([thought(i)]) for i in range(40)))
    assert results == [[True]] * 40
    assert fsyncs < 20
    await store.flush()
    assert store.counts()[0] == 40


async def test_append_after_a_torn_line_keeps_the_new_event(tmp_path: Path) -> None:
    stuck = asyncio.Event()

    async def never_drains(batch: list[Event]) -> None:
        await stuck.wait()
        assert batch

    journal = tmp_path / "outbox.jsonl"
    journal.write_bytes(b'{"id": "half-writ')
    outbox = Outbox(journal, never_drains, WriteGate())
    outbox.start([])
    event = Event(id="n1", type="thought", text="after the crash", timestamp=1.0, received_at=2.0)
    await outbox.put([event])
    events, warnings = read_journal(journal)
    assert events == [event] and len(warnings) == 1
    assert journal.read_bytes().endswith(encode_line(event))
    stuck.set()
    await outbox.close()


async def test_flush_returns_while_phone_writes_keep_coming(store: EventStore) -> None:
    """A backup or export flushes under steady traffic: it waits only for earlier puts."""
    stop = asyncio.Event()

    async def steady() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            await store.enqueue([thought(1000 + n)])
            await asyncio.sleep(0.002)

    writer = asyncio.create_task(steady())
    try:
        await asyncio.sleep(0.2)
        await store.enqueue([thought(1)])
        with anyio.fail_after(60):
            await store.flush()
        got = await anyio.to_thread.run_sync(lambda: store.collection.get(ids=["t1"]))
        assert got["ids"] == ["t1"]
        assert not writer.done()  # the traffic never paused
    finally:
        stop.set()
        await writer
