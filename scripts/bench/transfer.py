"""Export/import benchmark: NDJSON export and import throughput against raw Chroma.

Builds, in a temp dir removed at the end, a Hearth data dir of N events with precomputed
random unit vectors (scripts/bench/backup.py's builder: raw Chroma adds, no embedding),
opens it as an EventStore with the real embedder, then, in the same run:
  - export: `export_lines(store, state_docs)` written to an NDJSON file, vs the least any
    export must do: paged `collection.get(include=[embeddings, documents, metadatas])`;
  - import: `import_file` into an empty store with the same embedder name (vectors are
    reused, nothing is embedded; checked on a sample), vs raw `collection.add` of the same
    ids/vectors/documents/metadatas in chunks, with the worst event-loop lag of each.
Ratios are ours / raw in events/s (1.0 = as fast as raw); the raw lag column shows what
one big `add` in a thread does to the loop. Goal: worst loop lag during import < 250 ms.
The export is measured twice: with the store served by a Chroma child process, as
`GET /v1/export` reads it at the service's defaults (the raw paged `get` goes through the
same child), and inline, as `hearth export` reads it offline. The import runs inline only:
`hearth import` is an offline command.

    .venv/bin/python scripts/bench/transfer.py [--n 20000] [--page 5000] [--chunk 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path[0] = str(ROOT)  # not scripts/bench, whose file names could shadow modules

import numpy as np  # noqa: E402
from chromadb.api.models.Collection import Collection  # noqa: E402

from app.services.backup.export import export_lines, import_file  # noqa: E402
from app.storage.embeddings import Embedder, get_embedder  # noqa: E402
from app.storage.events import ChromaChild, EventStore, chroma  # noqa: E402
from app.storage.gate import WriteGate  # noqa: E402
from scripts.bench.backup import build_data_dir  # noqa: E402
from scripts.bench.events import Ticker  # noqa: E402

SAMPLE = 200

Rows = list[tuple[str, float, float | None, str, str]]


async def open_store(root: Path, embedder: Embedder, url: str | None = None) -> EventStore:
    return await EventStore.open(
        chroma_dir=root / "chroma",
        chroma_url=url,
        embedder=embedder,
        outbox_path=root / "state" / "outbox.jsonl",
        gate=WriteGate(),
        local_server=url is not None,
    )


async def export_pair(
    store: EventStore, state: dict[str, bytes | str], path: Path, page: int
) -> tuple[float, float, int, float, dict[str, list[Any]]]:
    """(ours s, raw s, events written, worst lag, the raw read's data) for one store."""
    raw_s, data = raw_export(store.collection, page)
    ours_s, written, lag = await our_export(store, state, path)
    await store.close()
    return ours_s, raw_s, written, lag, data


def raw_export(collection: Collection, page: int) -> tuple[float, dict[str, list[Any]]]:
    """Paged get of everything: the reads any export needs, with nothing serialized."""
    out: dict[str, list[Any]] = {"ids": [], "embeddings": [], "documents": [], "metadatas": []}
    start = time.perf_counter()
    offset = 0
    while True:
        got = collection.get(
            include=["embeddings", "documents", "metadatas"], limit=page, offset=offset
        )
        out["ids"] += got["ids"]
        if got["ids"]:
            out["embeddings"].append(np.asarray(got["embeddings"], dtype=np.float32))
        out["documents"] += got["documents"] or []
        out["metadatas"] += got["metadatas"] or []
        if len(got["ids"]) < page:
            return time.perf_counter() - start, out
        offset += page


async def our_export(
    store: EventStore, state: dict[str, bytes | str], path: Path
) -> tuple[float, int, float]:
    """Like `hearth export`: every chunk written to the file as it comes."""
    stats: dict[str, Any] = {}
    with Ticker() as ticker, path.open("wb") as out:
        start = time.perf_counter()
        async for chunk in export_lines(store, state, stats=stats):
            out.write(chunk)
        seconds = time.perf_counter() - start
    return seconds, stats["total"], ticker.worst


async def raw_import(
    root: Path, embedder: Embedder, data: dict[str, Any], chunk: int
) -> tuple[float, float]:
    """`add` in big chunks off the loop: the fastest way in, blind to the loop's lag."""
    collection = chroma.create_collection(chroma.make_client(root, None), "raw", embedder)
    vectors = np.concatenate(data["embeddings"])
    n = len(data["ids"])
    with Ticker() as ticker:
        start = time.perf_counter()
        for i in range(0, n, chunk):
            await asyncio.to_thread(
                collection.add,
                ids=data["ids"][i : i + chunk],
                embeddings=vectors[i : i + chunk],
                documents=data["documents"][i : i + chunk],
                metadatas=data["metadatas"][i : i + chunk],
            )
        seconds = time.perf_counter() - start
    assert collection.count() == n
    return seconds, ticker.worst


def check_vectors(source: dict[str, Any], store: EventStore) -> float:
    """Largest difference between exported and imported vectors on a sample: ~0 if reused."""
    ids = source["ids"][:: max(1, len(source["ids"]) // SAMPLE)]
    wanted = set(ids)
    vectors = np.concatenate(source["embeddings"])
    before = {e: v for e, v in zip(source["ids"], vectors, strict=True) if e in wanted}
    got = store.collection.get(ids=ids, include=["embeddings"])
    after = dict(zip(got["ids"], got["embeddings"], strict=True))  # type: ignore[arg-type]
    assert after.keys() == wanted, "imported store is missing sampled events"
    return max(float(np.abs(before[e] - np.asarray(after[e])).max()) for e in ids)


async def run(tmp: Path, n: int, page: int, chunk: int) -> Rows:
    start = time.perf_counter()
    embedder = await asyncio.to_thread(get_embedder)
    print(f"model loaded in {time.perf_counter() - start:.1f} s", flush=True)
    start = time.perf_counter()
    await asyncio.to_thread(build_data_dir, tmp / "src", n)
    print(f"built {n} events in {time.perf_counter() - start:.0f} s", flush=True)
    state: dict[str, bytes | str] = {
        p.name: p.read_bytes() for p in sorted((tmp / "src" / "state").iterdir())
    }
    export = tmp / "export.ndjson"
    child = ChromaChild(tmp / "src" / "chroma", tmp / "child.log")
    try:
        served = await open_store(tmp / "src", embedder, await child.start())
        assert served.counts()[0] == n
        child_out = await export_pair(served, state, export, page)
    finally:
        await child.stop()
    ours_out_s, raw_out_s, written, out_lag, data = await export_pair(
        await open_store(tmp / "src", embedder), state, export, page
    )
    assert written == n and len(data["ids"]) == n and child_out[2] == n
    size_mb = export.stat().st_size / 1e6
    print(f"export file: {size_mb:.0f} MB ({size_mb * 1e6 / n:.0f} B/event)", flush=True)

    raw_in_s, raw_lag = await raw_import(tmp / "raw", embedder, data, chunk)
    target = await open_store(tmp / "dst", embedder)
    states: dict[str, str] = {}

    async def write_state(name: str, content: str) -> None:
        states[name] = content

    with Ticker() as ticker:
        start = time.perf_counter()
        result = await import_file(target, export, write_state=write_state)
        ours_in_s = time.perf_counter() - start
    assert result["created"] == n and not result["reembedded"], result
    assert target.counts()[0] == n and states.keys() == state.keys()
    drift = check_vectors(data, target)
    assert drift < 1e-6, f"vectors changed on import (max diff {drift}): re-embedded?"
    await target.close()

    return [
        (
            f"export {n}, Chroma child (get page {page})",
            n / child_out[0],
            n / child_out[1],
            "ev/s",
            "",
        ),
        ("worst loop lag during export, child", child_out[3] * 1000, None, "ms", ""),
        (f"export {n}, inline (get page {page})", n / ours_out_s, n / raw_out_s, "ev/s", ""),
        ("worst loop lag during export, inline", out_lag * 1000, None, "ms", ""),
        (f"import {n} (raw add chunks of {chunk})", n / ours_in_s, n / raw_in_s, "ev/s", ""),
        ("worst loop lag during import", ticker.worst * 1000, raw_lag * 1000, "ms", "< 250"),
    ]


def print_table(rows: Rows) -> None:
    print(f"\n{'':<44} {'ours':>10} {'raw':>10} {'unit':<5} {'ours/raw':>8}  goal")
    for label, ours, raw, unit, goal in rows:
        ratio = f"{ours / raw:8.2f}" if raw and unit == "ev/s" else f"{'-':>8}"
        raw_s = f"{raw:10.1f}" if raw is not None else f"{'-':>10}"
        print(f"{label:<44} {ours:10.1f} {raw_s} {unit:<5} {ratio}  {goal}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=20_000, help="events in the store")
    parser.add_argument("--page", type=int, default=5000, help="raw export: get page size")
    parser.add_argument("--chunk", type=int, default=5000, help="raw import: add chunk size")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hearth-transfer-") as tmp:
        rows = asyncio.run(run(Path(tmp), args.n, args.page, args.chunk))
    print_table(rows)


if __name__ == "__main__":
    main()
