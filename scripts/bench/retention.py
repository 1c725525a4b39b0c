"""Retention benchmark: delete the older half of a 100k-event log.

On a copy of a cached 100k-event data dir (built by scripts/bench/backup.py's builder,
random unit vectors, no embedding), in the same run:
  - naive baseline: get every event (paged), then delete the old ones one id per call.
    At ~8 ms per call 50k deletes would take minutes, so it is timed on a sample and
    extrapolated (the output says so);
  - ours: app.services.retention.cleanup -> EventStore.delete_where (chunked deletes with
    a yield between), while a probe measures the worst event-loop lag.
Goals: >= 15x faster than naive; worst loop lag < 250 ms.

    .venv/bin/python scripts/bench/retention.py [N] [SAMPLE]
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[0] = str(ROOT)  # not scripts/bench, whose file names could shadow modules

from app.config import Settings  # noqa: E402
from app.services.retention import DAY_S, cleanup  # noqa: E402
from app.storage.embeddings import get_embedder  # noqa: E402
from app.storage.events import EventStore  # noqa: E402
from app.storage.gate import WriteGate  # noqa: E402
from scripts.bench.backup import cached_data_dir  # noqa: E402

PAGE = 5000


def naive_get_all(store: EventStore, cutoff: float) -> tuple[list[str], float]:
    t0 = time.perf_counter()
    old: list[str] = []
    offset = 0
    while True:
        got = store.collection.get(include=["metadatas"], limit=PAGE, offset=offset)
        for event_id, meta in zip(got["ids"], got["metadatas"] or [], strict=True):
            if meta and float(meta["timestamp"]) < cutoff:  # type: ignore[arg-type]
                old.append(event_id)
        if len(got["ids"]) < PAGE:
            return old, time.perf_counter() - t0
        offset += PAGE


async def lag_probe(stop: asyncio.Event, worst: list[float]) -> None:
    while not stop.is_set():
        t = time.perf_counter()
        await asyncio.sleep(0.01)
        worst[0] = max(worst[0], time.perf_counter() - t - 0.01)


async def run(data_dir: Path, sample: int) -> None:
    embedder = get_embedder()
    store = await EventStore.open(
        chroma_dir=data_dir / "chroma",
        chroma_url=None,
        embedder=embedder,
        outbox_path=data_dir / "state" / "outbox.jsonl",
        gate=WriteGate(),
    )
    now = time.time()
    days = 182
    cutoff = now - days * DAY_S
    total_before = store.counts()[0]

    old, get_all_s = naive_get_all(store, cutoff)
    t0 = time.perf_counter()
    for event_id in old[:sample]:
        store.collection.delete(ids=[event_id])
    per_item = (time.perf_counter() - t0) / sample
    store._index.remove_many(old[:sample])  # keep the store's index honest for our run
    naive_s = get_all_s + per_item * len(old)

    stop, worst = asyncio.Event(), [0.0]
    probe = asyncio.create_task(lag_probe(stop, worst))
    await asyncio.sleep(0.05)
    settings = Settings(_env_file=None, data_dir=data_dir, retention_days=days)  # type: ignore[call-arg]
    t0 = time.perf_counter()
    result = await cleanup(store, settings, now=now)
    ours_s = time.perf_counter() - t0
    stop.set()
    await probe
    deleted = result["deleted"]
    ours_scaled = ours_s * len(old) / max(1, deleted)
    remaining = store.counts()[0]
    await store.close()

    print(f"events: {total_before}, older than {days} days: {len(old)}")
    print(
        f"naive (EXTRAPOLATED): get all {get_all_s:.2f} s + {len(old)} single-id deletes at"
        f" {per_item * 1000:.2f} ms each (timed on {sample}) = {naive_s:.0f} s"
    )
    print(
        f"ours: cleanup deleted {deleted} in {ours_s:.2f} s ({ours_s / max(1, deleted) * 1000:.3f}"
        f" ms/event; {ours_scaled:.2f} s scaled to {len(old)})"
    )
    print(f"speed-up: {naive_s / ours_scaled:.1f}x (goal >= 15x)")
    print(f"worst event-loop lag during our cleanup: {worst[0] * 1000:.0f} ms (goal < 250 ms)")
    print(f"left after cleanup: {remaining} events")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    sample = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    source = cached_data_dir(n)
    with tempfile.TemporaryDirectory(prefix="hearth-retention-", dir=source.parent) as tmp:
        data_dir = Path(tmp) / "data"
        shutil.copytree(source, data_dir)
        (data_dir / "state").mkdir(exist_ok=True)
        asyncio.run(run(data_dir, sample))


if __name__ == "__main__":
    main()
