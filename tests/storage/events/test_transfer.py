"""Export and import: a round trip rebuilds the log without re-embedding."""

from __future__ import annotations

import numpy as np
import pytest

from app.storage.embeddings import Embedder
from app.storage.events.store import EventStore
from app.storage.events.types import NewEvent
from tests.storage.events.conftest import StoreSetup
from tests.storage.events.fakes import CountingEmbedder

pytestmark = pytest.mark.anyio


async def test_export_import_round_trip_reuses_embeddings(
    store: EventStore,
    setup: StoreSetup,
    embedder: Embedder,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    await store.add(
        [
            NewEvent(
                type="mood" if i % 2 else "thought",
                text=f"line {i}",
                timestamp=10.0 + i,
                metadata={"i": i, "ok": bool(i % 3)},
            )
            for i in range(23)
        ]
    )
    records = [r async for batch in store.export_batches(batch=5) for r in batch]
    assert len(records) == 23 and all(len(r["embedding"]) == embedder.dim for r in records)
    assert [r["timestamp"] for r in records] == sorted(r["timestamp"] for r in records)

    target_dir = tmp_path_factory.mktemp("import") / "data"
    target_dir.mkdir()
    counting = CountingEmbedder(embedder)
    target = StoreSetup(target_dir, setup.chroma_url, counting, setup.namespace + "x")  # type: ignore[arg-type]
    copy = await target.open()
    try:
        result = await copy.import_records(records)
        assert (result.created, result.duplicates) == (23, 0)
        again = await copy.import_records(records)
        assert (again.created, again.duplicates) == (0, 23)
        assert counting.texts == 0
        assert copy.counts() == store.counts()
        exported = [r async for batch in copy.export_batches() for r in batch]
        # Chroma renormalizes cosine vectors on insert: equal up to float32 rounding.
        for a, b in zip(exported, records, strict=True):
            assert np.allclose(a.pop("embedding"), b["embedding"], rtol=0, atol=1e-6)
            assert a == {k: v for k, v in b.items() if k != "embedding"}
        foreign = [dict(r, id=r["id"] + "-f", embedder="other/model") for r in records[:4]]
        await copy.import_records(foreign)
        assert counting.texts == 4
    finally:
        await copy.close()
