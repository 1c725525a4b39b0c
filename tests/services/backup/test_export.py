"""Export -> import round trips through real stores in separate data dirs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from app.services.backup.export import ImportFormatError, export_lines, import_file
from app.storage.embeddings import Embedder
from app.storage.events.store import EventStore
from tests.utils.events import DAY, events, open_store

pytestmark = pytest.mark.anyio
NOW = 1_800_000_000.0
MOOD = '{"context": "sunny", "mood": "calm", "updated_at": 1799999000}'


async def write_export(store: EventStore, path: Path) -> None:
    with path.open("wb") as out:
        async for chunk in export_lines(store, {"current_mood.txt": MOOD.encode()}):
            out.write(chunk)


async def everything(store: EventStore) -> dict[str, dict]:
    return {r["id"]: r async for batch in store.export_batches(7) for r in batch}


async def ranked(store: EventStore, query: str) -> list[str]:
    return [event.id for event, _ in await store.search(query, n=8)]


async def filled(data_dir: Path, embedder: Embedder) -> EventStore:
    store = await open_store(data_dir, embedder)
    await store.add(events(12, type="note", ts=NOW - 5 * DAY, prefix="note"))
    await store.add(events(5, type="mood", ts=NOW - DAY, prefix="mood"))
    return store


async def exported_file(tmp_path: Path, embedder: Embedder) -> Path:
    """An export of a filled store, the store closed again."""
    source = await filled(tmp_path / "a", embedder)
    export = tmp_path / "hearth.ndjson"
    await write_export(source, export)
    await source.close()
    return export


async def test_round_trip_keeps_events_vectors_and_search(
    tmp_path: Path, embedder: Embedder
) -> None:
    source = await filled(tmp_path / "a", embedder)
    export = tmp_path / "hearth.ndjson"
    await write_export(source, export)
    before = await everything(source)
    queries = {q: await ranked(source, q) for q in ("running in bad weather", "dentist nerves")}
    await source.close()

    lines = [json.loads(line) for line in export.read_text().splitlines()]
    assert lines[0]["kind"] == "header" and lines[0]["counts"]["total"] == 17
    assert lines[1] == {"kind": "state", "name": "current_mood.txt", "content": MOOD}
    assert sum(1 for line in lines if line["kind"] == "event") == 17
    for line in lines[2:]:  # each vector is the stored float32 exactly, in float32's digits
        stored = np.asarray(before[line["id"]]["embedding"], dtype=np.float32)
        assert np.array_equal(np.asarray(line["embedding"], dtype=np.float32), stored)
        assert max(len(repr(x)) for x in line["embedding"]) <= 16

    target = await open_store(tmp_path / "b", embedder)
    written: dict[str, str] = {}

    async def write_state(name: str, content: str) -> None:
        written[name] = content

    try:
        result = await import_file(target, export, write_state=write_state)
        after = await everything(target)
        for query, expected in queries.items():
            assert await ranked(target, query) == expected
    finally:
        await target.close()
    assert result["created"] == 17 and result["reembedded"] is False
    assert written == {"current_mood.txt": MOOD}
    assert after.keys() == before.keys()
    for event_id, record in before.items():
        for field in ("type", "text", "timestamp", "received_at", "metadata"):
            assert after[event_id][field] == record[field], (event_id, field)
        # Chroma's cosine space may renormalize: equal up to float32 rounding.
        assert np.allclose(after[event_id]["embedding"], record["embedding"], rtol=0, atol=1e-7)


async def test_import_reuses_the_files_vectors_instead_of_embedding(
    tmp_path: Path, embedder: Embedder
) -> None:
    """An export from the same model is loaded as is: no model run, the file's vector wins."""
    export = await exported_file(tmp_path, embedder)
    marker = np.zeros(embedder.dim, dtype=np.float32)
    marker[3] = 1.0
    lines = [json.loads(line) for line in export.read_text().splitlines()]
    for obj in lines:
        if obj.get("id") == "note-0":
            obj["embedding"] = marker.tolist()
    export.write_text("".join(json.dumps(obj) + "\n" for obj in lines))
    target = await open_store(tmp_path / "b", embedder)
    try:
        await import_file(target, export, write_state=None)
        after = await everything(target)
    finally:
        await target.close()
    assert np.allclose(after["note-0"]["embedding"], marker)


async def test_import_twice_adds_nothing_the_second_time(
    tmp_path: Path, embedder: Embedder
) -> None:
    export = await exported_file(tmp_path, embedder)
    target = await open_store(tmp_path / "b", embedder)
    messages: list[str] = []
    try:
        await import_file(target, export, write_state=None)
        again = await import_file(target, export, write_state=None, progress=messages.append)
        total, _ = target.counts()
    finally:
        await target.close()
    assert (again["created"], again["duplicates"], total) == (0, 17, 17)
    assert messages and messages[-1] == "imported 17 of 17 events"


async def test_another_models_export_is_re_embedded(tmp_path: Path, embedder: Embedder) -> None:
    source = await filled(tmp_path / "a", embedder)
    export = tmp_path / "hearth.ndjson"
    await write_export(source, export)
    before = await everything(source)
    await source.close()
    lines = export.read_text().splitlines()
    header = json.loads(lines[0])
    header["embedder"] = "some/other-model"
    poisoned = []
    for line in lines[1:]:
        obj = json.loads(line)
        if obj["kind"] == "event":
            obj["embedding"] = [0.0] * len(obj["embedding"])  # useless vectors
        poisoned.append(json.dumps(obj))
    export.write_text("\n".join([json.dumps(header), *poisoned]) + "\n")

    target = await open_store(tmp_path / "b", embedder)
    try:
        result = await import_file(target, export, write_state=None)
        after = await everything(target)
    finally:
        await target.close()
    assert result["reembedded"] is True and result["created"] == 17
    for event_id, record in before.items():
        assert np.allclose(after[event_id]["embedding"], record["embedding"], atol=1e-4)


async def test_a_file_that_is_not_an_export_is_refused(tmp_path: Path, embedder: Embedder) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text('{"kind": "event", "id": "x"}\n')
    store = await open_store(tmp_path / "b", embedder)
    try:
        with pytest.raises(ImportFormatError, match="header"):
            await import_file(store, bad, write_state=None)
        assert store.counts()[0] == 0
    finally:
        await store.close()
