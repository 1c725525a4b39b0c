"""Fixtures for the event log: the model loaded once, a real `chroma run` server once.

Every store test runs twice, against the embedded PersistentClient and against the
server; each test gets its own data dir and its own collection namespace, so tests on
the shared server never see each other's events.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from app.storage.embeddings import Embedder
from app.storage.events.store import EventStore
from app.storage.gate import WriteGate


@dataclass
class StoreSetup:
    """Everything EventStore.open needs; `open()` can be called again to test a restart."""

    data_dir: Path
    chroma_url: str | None
    embedder: Embedder
    namespace: str
    gate: WriteGate = field(default_factory=WriteGate)

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def outbox_path(self) -> Path:
        return self.data_dir / "outbox.jsonl"

    def kwargs(self) -> dict[str, Any]:
        return {
            "chroma_dir": self.chroma_dir,
            "chroma_url": self.chroma_url,
            "outbox_path": self.outbox_path,
            "namespace": self.namespace,
        }

    async def open(self, embedder: Embedder | None = None) -> EventStore:
        return await EventStore.open(
            embedder=embedder or self.embedder, gate=self.gate, **self.kwargs()
        )


@pytest.fixture(params=["embedded", "server"])
def setup(request: pytest.FixtureRequest, tmp_path: Path, embedder: Embedder) -> StoreSetup:
    url = request.getfixturevalue("chroma_server") if request.param == "server" else None
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    return StoreSetup(data_dir, url, embedder, f"t{uuid.uuid4().hex[:12]}")


@pytest.fixture
async def store(setup: StoreSetup) -> AsyncIterator[EventStore]:
    opened = await setup.open()
    try:
        yield opened
    finally:
        await opened.close()
