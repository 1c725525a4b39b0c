"""Factories for event-log tests: real stores in real temp dirs, readable events."""

from __future__ import annotations

import hashlib
from pathlib import Path

from app.storage.embeddings import Embedder
from app.storage.events.store import EventStore
from app.storage.events.types import NewEvent
from app.storage.gate import WriteGate

DAY = 86400.0
WORDS = [
    "coffee with anna by the river",
    "long run in the rain this morning",
    "reading about sourdough starters",
    "felt anxious before the dentist",
    "walked the dog around the lake",
    "fixed the bike's rear brake",
    "planning a trip to the mountains",
    "quiet evening, tea and a novel",
]


async def open_store(
    data_dir: Path,
    embedder: Embedder,
    *,
    gate: WriteGate | None = None,
    chroma_url: str | None = None,
) -> EventStore:
    state = data_dir / "state"
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    return await EventStore.open(
        chroma_dir=data_dir / "chroma",
        chroma_url=chroma_url,
        embedder=embedder,
        outbox_path=state / "outbox.jsonl",
        gate=gate or WriteGate(),
    )


def events(
    n: int, *, type: str = "note", ts: float, prefix: str = "e", step: float = 1.0
) -> list[NewEvent]:
    """`n` events with stable ids `<prefix>-<i>` and readable, varied texts."""
    return [
        NewEvent(
            id=f"{prefix}-{i}",
            type=type,
            text=f"{WORDS[i % len(WORDS)]} ({prefix} {i})",
            timestamp=ts + i * step,
            metadata={"i": i, "source": prefix},
        )
        for i in range(n)
    ]


def tree_digest(root: Path) -> dict[str, str]:
    """sha256 of every file under root, to prove a directory was left untouched."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
