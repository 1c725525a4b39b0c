"""ENOSPC injected at the file layer and in Chroma, in-process: 507, and nothing of the
refused write is left (no file changed, no journal line, no part of a batch)."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from chromadb.errors import InternalError
from fastapi.testclient import TestClient

from app.config import Settings

_real_write = os.write


@contextmanager
def no_space_under(root: Path) -> Iterator[None]:
    """Every os.write to a file under `root` fails with ENOSPC."""
    prefix = str(root.resolve())

    def write(fd: int, data: Any) -> int:
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            target = ""
        if target.startswith(prefix):
            raise OSError(errno.ENOSPC, "No space left on device")
        return _real_write(fd, data)

    mp = pytest.MonkeyPatch()
    mp.setattr(os, "write", write)
    try:
        yield
    finally:
        mp.undo()


def test_enospc_on_state_files_and_journal_is_507_and_changes_nothing(
    client: TestClient, settings: Settings
) -> None:
    assert client.put("/v1/mood", json={"mood": "calm"}).status_code == 200
    state = settings.state_dir
    client.post("/v1/thoughts", json={"text": "first", "id": "t-0"})
    client.portal.call(client.app.state.runtime.state.drain)  # type: ignore[union-attr]
    before = {p.name: p.read_bytes() for p in state.iterdir() if p.is_file()}

    with no_space_under(settings.data_dir):
        mood = client.put("/v1/mood", json={"mood": "stressed"})
        thought = client.post("/v1/thoughts", json={"text": "lost?", "id": "t-1"})

    assert mood.status_code == 507 and "space" in mood.json()["detail"], mood.text
    assert thought.status_code == 507, thought.text
    assert client.get("/v1/mood").json()["mood"] == "calm"
    assert [i["id"] for i in client.get("/v1/thoughts").json()["items"]] == ["t-0"]
    after = {p.name: p.read_bytes() for p in state.iterdir() if p.is_file()}
    assert after.get("current_mood.txt") == before["current_mood.txt"]
    assert b"t-1" not in after.get("outbox.jsonl", b"")
    assert not [name for name in after if name.endswith(".tmp")]
    # Space back: the same write is new, not a "duplicate" of the refused one.
    assert client.post("/v1/thoughts", json={"text": "lost?", "id": "t-1"}).status_code == 201


class FailingSecondUpsert:
    """Chroma's collection, but the second upsert meets a full disk."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.upserts = 0

    def upsert(self, **kwargs: Any) -> None:
        self.upserts += 1
        if self.upserts == 2:
            raise InternalError("Database error: (code: 13) database or disk is full")
        self._real.upsert(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def test_a_batch_that_meets_a_full_disk_halfway_is_taken_back(client: TestClient) -> None:
    store = client.app.state.runtime.events  # type: ignore[attr-defined]
    writer = store._writer
    writer._collection = FailingSecondUpsert(writer._collection)
    batch = {"events": [{"id": f"b-{i}", "type": "note", "text": f"n {i}"} for i in range(100)]}
    r = client.post("/v1/events", json=batch)
    assert r.status_code == 507, r.text
    assert writer._collection.upserts == 2  # the first chunk had been written
    assert client.get("/v1/events/b-0").status_code == 404
    assert store.collection.get(ids=["b-0", "b-70"])["ids"] == []
    assert store.counts()[0] == 0
    retry = client.post("/v1/events", json=batch)  # the third upsert works again
    assert retry.status_code == 200 and retry.json()["created"] == 100
