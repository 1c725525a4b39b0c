"""Backup benchmark: our hot backup vs plain `tar czf` of the same data dir.

Builds (once, cached under /tmp) a data dir whose Chroma collection holds N events
with precomputed random unit vectors, laid out the way Hearth stores them. Then, in the
same run and on the same data:
  - baseline: `tar czf` of the data dir (gzip level 6, one core);
  - ours: create_backup (unpaused pre-copy, paused resync, parallel gzip archive,
    out-of-process verify) while a writer keeps upserting into the live Chroma collection
    and rewriting a state file, both through the write gate.
Prints the wall-time ratios and how long writes were paused (goals: archive <= 1.0x of
tar czf; pause < 1 s at 100k events).

    .venv/bin/python scripts/bench/backup.py [N]
"""

from __future__ import annotations

import asyncio
import functools
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[0] = str(ROOT)  # not scripts/bench, whose file names could shadow modules

import numpy as np  # noqa: E402

from app.services.backup.create import create_backup  # noqa: E402
from app.storage.document import DurableDocument  # noqa: E402
from app.storage.gate import WriteGate  # noqa: E402

BATCH = 5000
TYPES = ["note", "mood", "location", "thought", "blog"]


def build_data_dir(
    data_dir: Path, n: int, *, now: float | None = None, types: Sequence[str] = TYPES
) -> None:
    """A Hearth-shaped data dir: chroma/ with the events collection, state/ with small files;
    events of `types` in turn over the last year, with random unit vectors."""
    import chromadb

    from app.storage.embeddings import MODEL_NAME
    from app.storage.events.chroma import SCHEMA, default_collection

    now = now or time.time()
    client = chromadb.PersistentClient(
        path=str(data_dir / "chroma"), settings=chromadb.config.Settings(anonymized_telemetry=False)
    )
    collection = client.get_or_create_collection(
        default_collection("hearth"),
        configuration={"hnsw": {"space": "cosine"}},
        metadata={"embedder": MODEL_NAME, "dim": 384, "schema": SCHEMA},
        embedding_function=None,
    )
    rng = np.random.default_rng(7)
    for start in range(0, n, BATCH):
        size = min(BATCH, n - start)
        vectors = rng.standard_normal((size, 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        ids = [f"ev-{i:07d}" for i in range(start, start + size)]
        ts = [now - 86400 * 365 * (i / n) for i in range(start, start + size)]
        collection.add(
            ids=ids,
            embeddings=vectors,
            documents=[f"event {i}: a short note about the day, mood and plans" for i in ids],
            metadatas=[
                {"type": types[j % len(types)], "timestamp": t, "received_at": t, "m.n": j}
                for j, t in enumerate(ts, start)
            ],
        )
    state = data_dir / "state"
    state.mkdir(parents=True, exist_ok=True)
    (state / "current_mood.txt").write_text(json.dumps({"mood": "ok", "updated_at": now}))
    (state / "blog_cache.json").write_text(json.dumps([{"title": f"post {i}"} for i in range(50)]))


def cached_data_dir(n: int, types: Sequence[str] = TYPES) -> Path:
    """Built once per (n, types) under /tmp; copy it before opening it with the app."""
    name = f"data-{n}" if list(types) == TYPES else f"data-{n}-{'-'.join(types)}"
    base = Path(tempfile.gettempdir()) / "hearth-bench" / name
    if not (base / ".complete").exists():
        shutil.rmtree(base, ignore_errors=True)
        t0 = time.perf_counter()
        print(f"building a {n}-event data dir in {base} (once) ...", flush=True)
        build_data_dir(base, n, types=types)
        (base / ".complete").touch()
        print(f"  built in {time.perf_counter() - t0:.0f} s", flush=True)
    return base


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


async def ours(data_dir: Path, backups: Path) -> tuple[dict, float, float, int]:
    """Our backup while a writer upserts into the live Chroma collection and a state file."""
    import anyio.to_thread
    import chromadb

    from app.storage.events.chroma import default_collection

    client = chromadb.PersistentClient(
        path=str(data_dir / "chroma"), settings=chromadb.config.Settings(anonymized_telemetry=False)
    )
    collection = client.get_collection(default_collection("hearth"), embedding_function=None)
    gate = WriteGate()
    doc: DurableDocument[dict] = DurableDocument(
        data_dir / "state" / "bench_writer.json",
        encode=lambda v: json.dumps(v).encode(),
        decode=json.loads,
        default=dict,
        gate=gate,
    )
    doc.load()
    stop = asyncio.Event()
    worst = 0.0
    writes = 0
    rng = np.random.default_rng(1)

    async def writer() -> None:
        nonlocal worst, writes
        while not stop.is_set():
            vectors = rng.standard_normal((8, 384)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            ids = [f"bench-w-{(writes * 8 + j) % 2000}" for j in range(8)]
            t = time.perf_counter()
            async with gate.write():
                call = functools.partial(
                    collection.upsert,
                    ids=ids,
                    embeddings=vectors,
                    documents=["written during the backup"] * 8,
                    metadatas=[{"type": "bench", "timestamp": time.time()}] * 8,
                )
                await anyio.to_thread.run_sync(call)
            count = writes
            await doc.update(lambda old, count=count: ({**old, "n": count}, None))
            worst = max(worst, time.perf_counter() - t)
            writes += 1
            await asyncio.sleep(0.02)

    async def no_flush() -> None:
        return None

    task = asyncio.create_task(writer())
    await asyncio.sleep(0.5)
    t0 = time.perf_counter()
    item = await create_backup(
        data_dir=data_dir,
        backups_dir=backups,
        gate=gate,
        flush=no_flush,
        manifest_extra={"bench": True},
        keep=2,
    )
    wall = time.perf_counter() - t0
    stop.set()
    await task
    return item, wall, worst, writes


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    data_dir = cached_data_dir(n)
    size = du(data_dir)
    with tempfile.TemporaryDirectory(prefix="hearth-bench-", dir=data_dir.parent) as tmp:
        out = Path(tmp)
        subprocess.run(["sync"], check=True)
        t0 = time.perf_counter()
        subprocess.run(
            ["tar", "czf", str(out / "plain.tar.gz"), "-C", str(data_dir), "chroma", "state"],
            check=True,
        )
        tar_s = time.perf_counter() - t0
        tar_size = (out / "plain.tar.gz").stat().st_size
        item, wall, worst, writes = asyncio.run(ours(data_dir, out / "backups"))
        stats = item["stats"]
        listing = subprocess.run(
            ["tar", "tzf", str(out / "backups" / item["name"])],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.splitlines()
    archive_wall = wall - stats["verify_s"]
    print(f"events: {n}, data dir {size / 1e6:.0f} MB")
    print(f"tar czf (baseline):        {tar_s:6.2f} s, {tar_size / 1e6:.0f} MB")
    print(
        f"ours without verify:       {archive_wall:6.2f} s, {item['size_bytes'] / 1e6:.0f} MB"
        f"  -> {archive_wall / tar_s:.2f}x of tar czf (goal <= 1.0x)"
    )
    print(
        f"ours with verify:          {wall:6.2f} s  -> {wall / tar_s:.2f}x"
        f" (verify process {stats['verify_s']:.2f} s)"
    )
    print(
        f"writes paused:             {stats['paused_s']:.3f} s (+{stats['pause_wait_s']:.3f} s"
        f" waiting for writes in flight; goal < 1 s), recopied"
        f" {stats['recopied_bytes'] / 1e6:.0f} MB changed during the unpaused pre-copy"
        f" ({stats['precopy_s']:.2f} s)"
    )
    print(f"concurrent writer: {writes} upserts of 8, worst latency {worst * 1000:.0f} ms")
    print(f"`tar tzf` reads it: {len(listing)} entries, first {listing[0]!r}")


if __name__ == "__main__":
    main()
