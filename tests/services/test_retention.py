"""Retention against a real store: per-type rules, keep-forever types, dry run."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import Settings
from app.services.retention import cleanup
from app.storage.embeddings import Embedder
from tests.utils.events import DAY, events, open_store

pytestmark = pytest.mark.anyio
NOW = 1_800_000_000.0


def settings(tmp_path: Path, days: int, by_type: dict[str, int]) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path, retention_days=days, retention_by_type=by_type
    )


async def seeded(tmp_path: Path, embedder: Embedder):  # type: ignore[no-untyped-def]
    store = await open_store(tmp_path / "data", embedder)
    await store.add(events(4, type="note", ts=NOW - 100 * DAY, prefix="old-note"))
    await store.add(events(3, type="note", ts=NOW - 1 * DAY, prefix="new-note"))
    await store.add(events(2, type="location", ts=NOW - 40 * DAY, prefix="old-loc"))
    await store.add(events(2, type="location", ts=NOW - 10 * DAY, prefix="new-loc"))
    await store.add(events(3, type="mood", ts=NOW - 400 * DAY, prefix="ancient-mood"))
    return store


async def test_rules_per_type_and_keep_forever(tmp_path: Path, embedder: Embedder) -> None:
    store = await seeded(tmp_path, embedder)
    rules = settings(tmp_path, 90, {"location": 30, "mood": 0})
    try:
        preview = await cleanup(store, rules, now=NOW, dry_run=True)
        assert store.counts()[0] == 14, "a dry run deletes nothing"
        result = await cleanup(store, rules, now=NOW)
        total, by_type = store.counts()
        kept = {event.id for event, _ in await store.search("day", n=50)}
    finally:
        await store.close()
    by_rule = {r["rule"]: r["deleted"] for r in result["rules"]}
    assert by_rule == {"default": 4, "type:location": 2, "type:mood": 0}
    assert preview["rules"] == result["rules"] and preview["dry_run"] is True
    assert result["deleted"] == 6 and total == 8
    assert by_type == {"note": 3, "location": 2, "mood": 3}
    assert not any(k.startswith(("old-note", "old-loc")) for k in kept)
    assert {k for k in kept if k.startswith("ancient-mood")} == {
        f"ancient-mood-{i}" for i in range(3)
    }


async def test_zero_days_keeps_everything_but_type_rules_still_apply(
    tmp_path: Path, embedder: Embedder
) -> None:
    store = await seeded(tmp_path, embedder)
    try:
        result = await cleanup(store, settings(tmp_path, 0, {"location": 30}), now=NOW)
        _, by_type = store.counts()
    finally:
        await store.close()
    assert result["deleted"] == 2
    assert by_type == {"note": 7, "location": 2, "mood": 3}


async def test_deletion_survives_reopening_the_store(tmp_path: Path, embedder: Embedder) -> None:
    store = await seeded(tmp_path, embedder)
    await cleanup(store, settings(tmp_path, 30, {}), now=NOW)
    await store.close()
    again = await open_store(tmp_path / "data", embedder)
    try:
        total, by_type = again.counts()
        assert await again.get("old-note-0") is None
        assert await again.get("new-note-0") is not None
    finally:
        await again.close()
    assert (total, by_type) == (5, {"note": 3, "location": 2})
