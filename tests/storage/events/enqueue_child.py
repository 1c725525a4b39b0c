"""Child process for the crash test: enqueue, report each ack, then wait to be killed.

Its embedder never returns, so nothing leaves the outbox journal before the kill: the
parent proves that acked events come back from the journal alone.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from pathlib import Path

import numpy as np

from app.storage.embeddings import MODEL_NAME
from app.storage.events.store import EventStore
from app.storage.events.types import NewEvent
from app.storage.gate import WriteGate


class StuckEmbedder:
    name = MODEL_NAME
    dim = 384

    def embed_array(self, texts: list[str]) -> np.ndarray:
        threading.Event().wait()
        raise AssertionError(f"unreachable: {len(texts)} texts")


async def main(data_dir: Path, chroma_url: str | None, namespace: str, count: int) -> None:
    store = await EventStore.open(
        chroma_dir=data_dir / "chroma",
        chroma_url=chroma_url or None,
        embedder=StuckEmbedder(),  # type: ignore[arg-type]
        outbox_path=data_dir / "outbox.jsonl",
        gate=WriteGate(),
        namespace=namespace,
    )

    async def one(i: int) -> None:
        event = NewEvent(
            type="thought", text=f"crash-safe thought {i}", timestamp=1e9 + i, id=f"t{i}"
        )
        assert await store.enqueue([event]) == [True]
        sys.stdout.write(f"ack t{i}\n")

    await asyncio.gather(*(one(i) for i in range(count)))
    sys.stdout.write("all acked\n")
    sys.stdout.flush()
    await asyncio.sleep(3600)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])))
