"""Backups and restores with a real store, real `tar`, real verify and Chroma processes."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import anyio.to_thread
import chromadb
import pytest

from app.errors import ArchiveCorruptError, BackupError
from app.services.backup.create import create_backup, list_backups, prune
from app.services.backup.restore import restore
from app.storage.embeddings import Embedder
from app.storage.events.store import EventStore
from app.storage.files import atomic_write
from app.storage.gate import WriteGate
from tests.utils.archives import flip_a_data_byte
from tests.utils.chroma_server import chroma_server as start_chroma
from tests.utils.events import DAY, events, open_store, tree_digest

pytestmark = pytest.mark.anyio
NOW = 1_800_000_000.0
MOOD = b'{"context": "", "mood": "hopeful", "schema": 1, "updated_at": 1799990000}'


async def all_ids(store: EventStore) -> set[str]:
    return {r["id"] async for batch in store.export_batches() for r in batch}


async def backup(
    data: Path, store: EventStore, gate: WriteGate, keep: int = 5, **extra: object
) -> dict:
    return await create_backup(
        data_dir=data,
        backups_dir=data / "backups",
        gate=gate,
        flush=store.flush,
        manifest_extra={},
        keep=keep,
        store=store,
        **extra,  # type: ignore[arg-type]
    )


IDS_SCRIPT = """
import json, sys, chromadb
from app.storage.events.chroma import active_collection
client = chromadb.PersistentClient(path=sys.argv[1])
name = active_collection(client, "hearth")
print(json.dumps(client.get_collection(name, embedding_function=None).get(include=[])["ids"]))
"""


def ids_in_new_process(data: Path) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", IDS_SCRIPT, str(data / "chroma")],
        capture_output=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    return set(json.loads(out.stdout))


async def test_hot_backup_during_a_write_storm_restores_every_acked_event(
    tmp_path: Path, embedder: Embedder
) -> None:
    data, gate = tmp_path / "data", WriteGate()
    store = await open_store(data, embedder, gate=gate)
    atomic_write(data / "state" / "current_mood.txt", MOOD)
    await store.add(events(10, ts=NOW - DAY, prefix="seed"))
    sent: set[str] = {f"seed-{i}" for i in range(10)}
    acked: dict[str, float] = {}
    stop = asyncio.Event()

    async def storm(name: str, queued: bool) -> None:
        n = 0
        while not stop.is_set():
            batch = events(3, ts=NOW + n, prefix=f"{name}{n}")
            sent.update(e.id for e in batch if e.id)
            if queued:
                await store.enqueue(batch)  # the phone's path: journal first, Chroma later
            else:
                await store.add(batch)
            done = time.perf_counter()
            acked.update((e.id, done) for e in batch if e.id)
            n += 1
            await asyncio.sleep(0.005)

    writers = [asyncio.create_task(storm("add", False)), asyncio.create_task(storm("q", True))]
    await asyncio.sleep(0.5)
    began = time.perf_counter()
    item = await backup(data, store, gate, flush_timeout=1.0)
    await asyncio.sleep(0.2)
    stop.set()
    await asyncio.gather(*writers)
    await store.close()

    before_backup = {i for i, t in acked.items() if t < began} | {f"seed-{i}" for i in range(10)}
    assert len(before_backup) > 30 and len(acked) > len(before_backup), "the storm overlapped"
    assert item["verified"] and list_backups(data / "backups")[0]["name"] == item["name"]

    fresh = tmp_path / "fresh"
    said: list[str] = []
    await anyio.to_thread.run_sync(
        lambda: restore(data / "backups" / item["name"], fresh, progress=said.append)
    )
    restored = await open_store(fresh, embedder)
    try:
        ids = await all_ids(restored)
        hits = await restored.search("a run in the rain", n=3)
    finally:
        await restored.close()
    assert before_backup <= ids, f"lost: {sorted(before_backup - ids)[:5]}"
    assert ids <= sent, f"never sent: {sorted(ids - sent)[:5]}"
    assert hits and "rain" in hits[0][0].text
    assert (fresh / "state" / "current_mood.txt").read_bytes() == MOOD
    assert "restored" in said[-1] and "events" in said[-1]


async def test_flipped_byte_is_refused_and_live_data_untouched(
    tmp_path: Path, embedder: Embedder
) -> None:
    data, gate = tmp_path / "data", WriteGate()
    store = await open_store(data, embedder, gate=gate)
    await store.add(events(8, ts=NOW - DAY, prefix="early"))
    item = await backup(data, store, gate)
    await store.add(events(4, ts=NOW, prefix="late"))
    await store.close()
    archive = data / "backups" / item["name"]

    listing = subprocess.run(["tar", "tzf", str(archive)], capture_output=True, check=True)
    assert listing.stdout.decode().splitlines()[0] == "manifest.json"
    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    subprocess.run(["tar", "xzf", str(archive), "-C", str(unpacked)], check=True)
    manifest = json.loads((unpacked / "manifest.json").read_text())
    assert set(tree_digest(unpacked)) == {"manifest.json", *manifest["files"]}
    assert {k: v["sha256"] for k, v in manifest["files"].items()} == {
        k: v for k, v in tree_digest(unpacked).items() if k != "manifest.json"
    }

    damaged = tmp_path / item["name"]
    damaged.write_bytes(flip_a_data_byte(archive.read_bytes()))
    live = {top: tree_digest(data / top) for top in ("chroma", "state")}
    with pytest.raises(ArchiveCorruptError, match=item["name"]):
        await anyio.to_thread.run_sync(lambda: restore(damaged, data, progress=lambda _m: None))
    assert {top: tree_digest(data / top) for top in ("chroma", "state")} == live
    assert not list(data.glob("previous-*")) and not list(data.glob(".restore-*"))
    check = subprocess.run(
        [sys.executable, "-m", "app.services.backup.verify", str(damaged)], capture_output=True
    )
    assert check.returncode == 1 and item["name"] in check.stderr.decode()

    # The good archive restores over the live data; what was there is kept aside.
    result = await anyio.to_thread.run_sync(
        lambda: restore(archive, data, progress=lambda _m: None)
    )
    # A fresh process, as after `hearth restore`: Chroma caches an opened path per process.
    assert ids_in_new_process(data) == {f"early-{i}" for i in range(8)}
    assert Path(result["previous"]).parent == data
    assert tree_digest(Path(result["previous"]) / "chroma") == live["chroma"]


def fake_archive(backups: Path, name: str, *, verified: bool | None) -> None:
    (backups / name).write_bytes(b"x")
    if verified is not None:
        (backups / f"{name}.verified").write_text(json.dumps({"verified": verified}))


def test_prune_keeps_the_newest_verified_archives_and_nothing_else_of_ours(
    tmp_path: Path,
) -> None:
    backups = tmp_path / "backups"
    backups.mkdir()
    fake_archive(backups, "hearth-20261101T031000Z.tar.gz", verified=True)
    fake_archive(backups, "hearth-20261102T031000Z.tar.gz", verified=False)
    fake_archive(backups, "hearth-20261103T031000Z.tar.gz", verified=True)
    fake_archive(backups, "hearth-20261104T031000Z.tar.gz", verified=None)
    fake_archive(backups, "hearth-20261105T031000Z.tar.gz", verified=True)
    fake_archive(backups, "hearth-20261105T031000Z-2.tar.gz", verified=True)
    (backups / "my-own-notes.tar.gz").write_bytes(b"mine")

    removed = prune(backups, keep=2)

    names = [item["name"] for item in list_backups(backups)]
    assert names == ["hearth-20261105T031000Z-2.tar.gz", "hearth-20261105T031000Z.tar.gz"]
    assert len(removed) == 4
    assert (backups / "my-own-notes.tar.gz").exists()
    assert sorted(p.name for p in backups.iterdir() if p.name.endswith(".verified")) == [
        f"{n}.verified" for n in sorted(names)
    ]


async def test_backup_prunes_to_keep(tmp_path: Path, embedder: Embedder) -> None:
    data, gate = tmp_path / "data", WriteGate()
    store = await open_store(data, embedder, gate=gate)
    await store.add(events(3, ts=NOW, prefix="a"))
    try:
        first = await backup(data, store, gate, keep=1)
        second = await backup(data, store, gate, keep=1)
    finally:
        await store.close()
    assert first["name"] != second["name"]
    assert [b["name"] for b in list_backups(data / "backups")] == [second["name"]]
    assert second["stats"]["pruned"] == [first["name"]]


@pytest.fixture
def own_chroma_server(tmp_path: Path) -> Iterator[str]:
    """A real `chroma run` of this test's own (the test restarts it)."""
    with start_chroma(tmp_path / "server") as url:
        yield url


@pytest.mark.slow
async def test_server_mode_backup_is_a_logical_export_that_restores(
    tmp_path: Path, embedder: Embedder, own_chroma_server: str
) -> None:
    data, gate = tmp_path / "data", WriteGate()
    store = await open_store(data, embedder, gate=gate, chroma_url=own_chroma_server)
    atomic_write(data / "state" / "current_mood.txt", MOOD)
    await store.add(events(9, ts=NOW, prefix="srv"))
    await store.enqueue(events(2, ts=NOW, prefix="queued"))
    try:
        item = await backup(data, store, gate, logical=True)
    finally:
        await store.close()
    assert item["verified"]

    port = int(own_chroma_server.rsplit(":", 1)[1])
    client = chromadb.HttpClient(host="127.0.0.1", port=port)
    for collection in client.list_collections():
        client.delete_collection(collection.name)  # the server lost everything

    fresh = tmp_path / "fresh"
    result = await anyio.to_thread.run_sync(
        lambda: restore(
            data / "backups" / item["name"],
            fresh,
            progress=lambda _m: None,
            chroma_url=own_chroma_server,
        )
    )
    restored = await open_store(fresh, embedder, chroma_url=own_chroma_server)
    try:
        ids = await all_ids(restored)
        hits = await restored.search("walking the dog", n=1)
    finally:
        await restored.close()
    assert result["kind"] == "logical" and result["imported"]["created"] == 11
    assert ids == {f"srv-{i}" for i in range(9)} | {"queued-0", "queued-1"}
    assert hits and "dog" in hits[0][0].text
    assert (fresh / "state" / "current_mood.txt").read_bytes() == MOOD
    assert not (fresh / "chroma").exists() or not any((fresh / "chroma").iterdir())


async def test_a_backup_that_fails_verification_is_reported_and_prunes_nothing(
    tmp_path: Path, embedder: Embedder
) -> None:
    data, gate = tmp_path / "data", WriteGate()
    store = await open_store(data, embedder, gate=gate)
    await store.add(events(3, ts=NOW, prefix="a"))

    async def wrong_count() -> dict:
        return {"chroma": {"collection": store.collection.name, "count": 4}}

    try:
        good = await backup(data, store, gate, keep=1)
        with pytest.raises(BackupError, match="holds 3 events, manifest says 4"):
            await backup(data, store, gate, keep=1, snapshot=wrong_count)
    finally:
        await store.close()
    listed = list_backups(data / "backups")
    assert [b["verified"] for b in listed] == [False, True]
    assert listed[1]["name"] == good["name"]
