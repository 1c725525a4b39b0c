"""The collection is pinned to its model; `hearth reindex` moves it to the current one."""

from __future__ import annotations

import anyio.to_thread
import pytest

from app.errors import EmbedderMismatchError
from app.storage.embeddings import Embedder
from app.storage.events import chroma
from app.storage.events.reindex import reindex
from app.storage.events.types import NewEvent
from tests.storage.events.conftest import StoreSetup
from tests.storage.events.fakes import HashEmbedder

pytestmark = pytest.mark.anyio

TEXTS = ["argued with my manager", "ran by the river", "baked bread", "sick with a fever"]


async def build_with_old_model(setup: StoreSetup) -> None:
    old = await setup.open(HashEmbedder())  # type: ignore[arg-type]
    await old.add(
        [
            NewEvent(type="note", text=t, timestamp=100.0 + i, id=f"n{i}", metadata={"i": i})
            for i, t in enumerate(TEXTS)
        ]
    )
    await old.close()


async def test_other_model_is_refused_with_the_reindex_message(setup: StoreSetup) -> None:
    await build_with_old_model(setup)
    with pytest.raises(EmbedderMismatchError, match="hearth reindex"):
        await setup.open()


async def test_reindex_swaps_collections_and_keeps_every_event(
    setup: StoreSetup, embedder: Embedder
) -> None:
    await build_with_old_model(setup)
    seen: list[tuple[int, int]] = []

    def run() -> int:
        return reindex(
            chroma_dir=setup.chroma_dir,
            chroma_url=setup.chroma_url,
            embedder=embedder,
            progress=lambda done, total: seen.append((done, total)),
            namespace=setup.namespace,
        )

    assert await anyio.to_thread.run_sync(run) == len(TEXTS)
    assert seen[-1] == (len(TEXTS), len(TEXTS))
    store = await setup.open()
    try:
        assert store.counts() == (4, {"note": 4})
        event = await store.get("n2")
        assert event is not None and event.metadata == {"i": 2} and event.timestamp == 102.0
        hits = await store.search("fever and flu", n=1, type=None, since=None, until=None)
        assert hits[0][0].id == "n3"
    finally:
        await store.close()
    client = chroma.make_client(setup.chroma_dir, setup.chroma_url)
    active = chroma.active_collection(client, setup.namespace)
    collection = client.get_collection(active, embedding_function=None)
    assert collection.count() == 4 and (collection.metadata or {})["embedder"] == embedder.name
    names = {c.name for c in client.list_collections() if c.name.startswith(setup.namespace)}
    assert names == {active, f"{setup.namespace}-meta"}


async def test_crash_mid_reindex_leaves_the_old_collection_in_use(
    setup: StoreSetup, embedder: Embedder
) -> None:
    await build_with_old_model(setup)

    def crash(done: int, total: int) -> None:
        if done:
            raise KeyboardInterrupt(f"killed at {done}/{total}")

    with pytest.raises(KeyboardInterrupt):
        reindex(
            chroma_dir=setup.chroma_dir,
            chroma_url=setup.chroma_url,
            embedder=embedder,
            progress=crash,
            namespace=setup.namespace,
        )
    old = await setup.open(HashEmbedder())  # type: ignore[arg-type]
    try:
        assert old.counts() == (4, {"note": 4})
    finally:
        await old.close()
    # The next reindex cleans up the half-built copy and completes.
    done = reindex(
        chroma_dir=setup.chroma_dir,
        chroma_url=setup.chroma_url,
        embedder=embedder,
        namespace=setup.namespace,
    )
    assert done == 4
    client = chroma.make_client(setup.chroma_dir, setup.chroma_url)
    assert len([c for c in client.list_collections() if c.name.startswith(setup.namespace)]) == 2
