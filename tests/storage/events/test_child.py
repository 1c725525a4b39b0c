"""The event store's Chroma child process: it serves the data dir's store, comes back on
the same address when it dies, stops cleanly, and leaves files the inline client opens."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import chromadb
import httpx
import pytest
from chromadb.config import Settings as ChromaSettings

from app.errors import StorageError
from app.storage.events import ChromaChild
from app.storage.events import child as child_module
from tests.utils.server import process_gone

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def chroma_settings() -> ChromaSettings:
    return ChromaSettings(anonymized_telemetry=False)  # HttpClient writes its port into it


async def _heartbeat(url: str) -> int:
    async with httpx.AsyncClient(timeout=2) as client:
        return (await client.get(f"{url}/api/v2/heartbeat")).status_code


async def test_serves_the_store_and_stops(tmp_path: Path) -> None:
    child = ChromaChild(tmp_path / "chroma", tmp_path / "chroma.log")
    url = await child.start()
    pid = child.pid
    try:
        assert pid is not None
        assert url.startswith("http://127.0.0.1:")
        assert await _heartbeat(url) == 200
        client = chromadb.HttpClient(host="127.0.0.1", port=child.port, settings=chroma_settings())
        collection = await asyncio.to_thread(client.create_collection, "notes")
        await asyncio.to_thread(collection.add, ids=["a"], documents=["x"], embeddings=[[1.0, 0]])
    finally:
        await child.stop()
    assert child.pid is None
    assert process_gone(pid)
    # Per-request lines stay out of the log: one line per call would grow it without end.
    assert "HTTP request" not in (tmp_path / "chroma.log").read_text()
    assert oct((tmp_path / "chroma.log").stat().st_mode & 0o777) == "0o600"
    # The offline commands open the same files inline.
    inline = chromadb.PersistentClient(path=str(tmp_path / "chroma"), settings=chroma_settings())
    assert inline.get_collection("notes").get(ids=["a"])["documents"] == ["x"]


async def test_comes_back_on_the_same_address_after_a_kill(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(child_module, "BACKOFF_S", (0.1,))
    child = ChromaChild(tmp_path / "chroma", tmp_path / "chroma.log")
    url = await child.start()
    try:
        client = chromadb.HttpClient(host="127.0.0.1", port=child.port, settings=chroma_settings())
        collection = client.create_collection("notes")
        await asyncio.to_thread(collection.add, ids=["a"], documents=["x"], embeddings=[[1.0, 0.0]])
        first = child.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        for _ in range(300):
            if child.restarts == 1:
                break
            await asyncio.sleep(0.1)
        assert child.restarts == 1
        assert child.pid not in (None, first)
        assert await _heartbeat(url) == 200
        # The client made before the kill still works, and the write is still there.
        got = await asyncio.to_thread(collection.get, ids=["a"])
        assert got["documents"] == ["x"]
    finally:
        await child.stop()


async def test_a_child_that_cannot_start_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "chroma"
    blocker.write_text("a file where the store's directory should be")
    child = ChromaChild(blocker, tmp_path / "chroma.log")
    with pytest.raises(StorageError, match="did not start"):
        await child.start()
    assert child.pid is None
