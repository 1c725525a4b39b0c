"""Benchmark the event log against raw Chroma measured in the same run.

    .venv/bin/python scripts/bench/events.py [--n 100000] [--ingest 10000] [--queries 60]

Prints ratios (ours / raw): ingest throughput through EventStore.add (with the store in
a Chroma child process, the service's default, and inline), search latency
with and without filters at 10k and --n events, the worst event-loop lag during an
ingest, page fetch time, open time (index + vector table load), RSS growth at open and
model load time. For every filter it prints "filtered p50 / unfiltered raw p50" (the
goal is <= 2.0) and what ranking every matching row exactly would cost ("exact only").
The search corpora use random unit vectors and random timestamps (latency does not
depend on meaning; random time order is the worst case for the vector table's memory
locality); only the ingest part embeds text. Everything lives in a temp dir.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np

from app.storage.embeddings import Embedder, get_embedder
from app.storage.events import ChromaChild, EventStore, NewEvent, chroma
from app.storage.events import search as event_search
from app.storage.gate import WriteGate

T0 = 1_700_000_000.0
SPAN = 3 * 365 * 86400.0
TYPES = ["thought", "mood", "blog", "run", "meal", "work", "note", "sleep"]
WEIGHTS = [30, 20, 2, 8, 15, 15, 8, 2]
SUBJECTS = ["my manager", "the river", "a friend", "mom", "the dog", "the gym", "my bike"]
VERBS = ["argued with", "walked along", "called", "cooked for", "worried about", "fixed"]
TAILS = ["before work", "in the rain", "after dinner", "all afternoon", "for an hour"]


def sentences(n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    return [
        f"{rng.choice(VERBS)} {rng.choice(SUBJECTS)} {rng.choice(TAILS)}, entry {i}"
        for i in range(n)
    ]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def row(label: str, ours: float, raw: float | None, unit: str = "ms", goal: str = "") -> None:
    """The last column is always "how many times better than raw": >1 means ours wins."""
    better = ours / raw if unit.endswith("/s") else raw / ours if raw and ours else 0.0
    ratio = f"{better:6.2f}x" if raw and ours else "   -   "
    raw_s = f"{raw:10.2f}" if raw is not None else " " * 10
    print(f"{label:<44} {ours:10.2f} {raw_s} {unit:<5} {ratio}  {goal}")


class Ticker:
    """Measures how late `sleep(interval)` wakes: the event-loop lag a request would see,
    and the longest garbage collection meanwhile (it holds the GIL for its whole run)."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.worst = 0.0
        self.worst_gc = 0.0
        self._gc_start = 0.0
        self._task: asyncio.Task[None] | None = None

    def _gc(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        else:
            self.worst_gc = max(self.worst_gc, time.perf_counter() - self._gc_start)

    async def _run(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(self.interval)
            self.worst = max(self.worst, time.perf_counter() - start - self.interval)

    def __enter__(self) -> Ticker:
        # As the server does once it has started (`Runtime.start`): what exists now (the
        # model, Chroma) is kept out of the collector's sight, or every full collection
        # walks it with the GIL held.
        gc.collect()
        gc.freeze()
        gc.callbacks.append(self._gc)
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        gc.callbacks.remove(self._gc)


async def open_store(root: Path, embedder: Any, url: str | None = None) -> EventStore:
    return await EventStore.open(
        chroma_dir=root / "chroma",
        chroma_url=url,
        embedder=embedder,
        outbox_path=root / "outbox.jsonl",
        gate=WriteGate(),
        local_server=url is not None,
    )


async def ingest_rate(store: EventStore, events: list[NewEvent]) -> tuple[float, Ticker]:
    """(events/s, the ticker's lags) adding `events` in batches of 500."""
    with Ticker() as ticker:
        start = time.perf_counter()
        for i in range(0, len(events), 500):
            await store.add(events[i : i + 500])
        rate = len(events) / (time.perf_counter() - start)
    await store.close()
    return rate, ticker


async def bench_ingest(tmp: Path, embedder: Embedder, n: int) -> None:
    texts = sentences(n)
    rng = random.Random(2)
    events = [
        NewEvent(type=rng.choice(TYPES), text=t, timestamp=T0 + rng.random() * SPAN) for t in texts
    ]
    client = chroma.make_client(tmp / "raw", None)
    raw = chroma.create_collection(client, "raw-events", embedder)
    start = time.perf_counter()
    vectors = embedder.embed_array(texts)
    for i in range(0, n, 5000):
        raw.add(
            ids=[f"r{j}" for j in range(i, min(n, i + 5000))],
            embeddings=vectors[i : i + 5000],
            documents=texts[i : i + 5000],
            metadatas=[{"type": e.type, "timestamp": e.timestamp} for e in events[i : i + 5000]],
        )
    raw_rate = n / (time.perf_counter() - start)

    child = ChromaChild(tmp / "child" / "chroma", tmp / "child.log")
    url = await child.start()
    try:
        child_rate, child_ticks = await ingest_rate(
            await open_store(tmp / "child", embedder, url), events
        )
    finally:
        await child.stop()
    ours_rate, ticks = await ingest_rate(await open_store(tmp / "ours", embedder), events)
    row(f"ingest {n}, Chroma child (default)", child_rate, raw_rate, "ev/s", "goal >= 0.85")
    row(f"ingest {n}, inline", ours_rate, raw_rate, "ev/s", "goal >= 0.85")
    for name, ticker in (("child", child_ticks), ("inline", ticks)):
        row(f"worst loop lag during {n} ingest, {name}", ticker.worst * 1000, None, "ms", "< 250")
        row("  longest garbage collection meanwhile", ticker.worst_gc * 1000, None, "ms")


def build_corpus(root: Path, embedder: Embedder, n: int) -> None:
    """n events with random unit vectors and realistic type/time spread, written raw."""
    client = chroma.make_client(root / "chroma", None)
    collection = chroma.create_collection(client, chroma.default_collection("hearth"), embedder)
    rng = np.random.default_rng(n)
    weights = np.array(WEIGHTS, dtype=float) / sum(WEIGHTS)
    for i in range(0, n, 5000):
        m = min(5000, n - i)
        vectors = rng.standard_normal((m, embedder.dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        kinds = rng.choice(TYPES, m, p=weights)
        stamps = T0 + rng.random(m) * SPAN
        collection.add(
            ids=[f"{j:032x}" for j in range(i, i + m)],
            embeddings=vectors,
            documents=[f"event {j}" for j in range(i, i + m)],
            metadatas=[
                {"type": str(k), "timestamp": float(t), "received_at": float(t)}
                for k, t in zip(kinds, stamps, strict=True)
            ],
        )


async def timed(fn: Callable[[], Awaitable[Any]], repeat: int) -> list[float]:
    await fn()
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


async def bench_search(tmp: Path, embedder: Embedder, n: int, queries: int) -> None:
    root = tmp / f"corpus{n}"
    start = time.perf_counter()
    await asyncio.to_thread(build_corpus, root, embedder, n)
    print(f"--- {n} events (corpus written in {time.perf_counter() - start:.0f} s)")
    rss = rss_mb()
    start = time.perf_counter()
    with Ticker() as ticker:
        store = await open_store(root, embedder)
    row(f"open (index + vector table load) at {n}", (time.perf_counter() - start) * 1000, None)
    row(f"worst event-loop lag during open at {n}", ticker.worst * 1000, None, "ms", "goal < 250")
    row(f"RSS growth at open at {n}", rss_mb() - rss, None, "MB")
    row(f"vector table size at {n}", store._index.vectors.nbytes / 2**20, None, "MB")
    rng = np.random.default_rng(7)
    pool = rng.standard_normal((queries + 1, embedder.dim)).astype(np.float32)
    pool /= np.linalg.norm(pool, axis=1, keepdims=True)
    state = {"i": 0}

    def vec() -> np.ndarray:
        state["i"] = (state["i"] + 1) % len(pool)
        return pool[state["i"]]

    end = T0 + SPAN
    cases: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = [
        ("no filter", {}, None),
        ("type=mood (20%)", {"type": "mood"}, {"type": "mood"}),
        ("type=sleep (2%)", {"type": "sleep"}, {"type": "sleep"}),
        (
            "last 30 days (2.7%)",
            {"since": end - 30 * 86400},
            {"timestamp": {"$gte": end - 30 * 86400}},
        ),
        (
            "one year (33%)",
            {"since": end - 365 * 86400, "until": end},
            {"$and": [{"timestamp": {"$gte": end - 365 * 86400}}, {"timestamp": {"$lt": end}}]},
        ),
        (
            "type=run, last 90 days (0.7%)",
            {"type": "run", "since": end - 90 * 86400},
            {"$and": [{"type": "run"}, {"timestamp": {"$gte": end - 90 * 86400}}]},
        ),
    ]
    collection = store.collection
    include: Any = ["documents", "metadatas", "distances"]
    plain_raw: list[float] = []
    for label, ours_kw, where in cases:
        filters = {"type": None, "since": None, "until": None, **ours_kw}

        async def ours(filters: dict[str, Any] = filters) -> object:
            return await store._search.search(vec(), n=10, **filters)

        async def raw(where: dict[str, Any] | None = where) -> object:
            return await asyncio.to_thread(
                collection.query,
                query_embeddings=[vec()],
                n_results=10,
                where=where,
                include=include,
            )

        ours_ms = await timed(ours, queries)
        plan = store._search.last_plan
        raw_ms = await timed(raw, max(5, queries // 4) if where else queries)
        if where is None:
            plain_raw = raw_ms
        p50, p95 = statistics.median(ours_ms), pct(ours_ms, 0.95)
        row(f"search {label} p50 [{plan}]"[:44], p50, statistics.median(raw_ms), "ms")
        row(f"search {label} p95", p95, pct(raw_ms, 0.95), "ms")
        if where is None:
            continue
        ratio = p50 / statistics.median(plain_raw)
        verdict = "ok" if ratio <= 2.0 else "MISSED"
        print(f"    filtered p50 / unfiltered raw p50 = {ratio:.2f} (goal <= 2.0: {verdict})")
        if plan != "exact":
            saved = event_search.QUERY_COST_ROWS
            event_search.QUERY_COST_ROWS = 10**12  # force ranking every matching row
            exact_ms = await timed(ours, max(5, queries // 4))
            event_search.QUERY_COST_ROWS = saved
            exact = statistics.median(exact_ms) / statistics.median(plain_raw)
            print(f"    exact only: p50 {statistics.median(exact_ms):.1f} ms = {exact:.2f}x raw")

    first = await timed(lambda: store.list(limit=50), 20)
    row(f"list page 1 (50) at {n}", statistics.median(first), None, "ms")
    _, cursor = await store.list(limit=50)
    for _ in range(20):
        _, cursor = await store.list(limit=50, cursor=cursor)
    deep = await timed(lambda: store.list(limit=50, cursor=cursor), 20)
    row(f"list page 22 (50) at {n}", statistics.median(deep), None, "ms")
    typed = await timed(lambda: store.list(type="sleep", limit=50), 20)

    def raw_page() -> object:
        return collection.get(where={"type": "sleep"}, limit=50)

    raw_get = await timed(lambda: asyncio.to_thread(raw_page), 5)
    row(
        f"list type=sleep page at {n} vs raw filtered get",
        statistics.median(typed),
        statistics.median(raw_get),
        "ms",
    )
    await store.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10_000, help="largest search corpus")
    parser.add_argument("--ingest", type=int, default=10_000, help="events embedded for ingest")
    parser.add_argument("--queries", type=int, default=60)
    args = parser.parse_args()
    start = time.perf_counter()
    embedder = await asyncio.to_thread(get_embedder)
    print(f"{'':<44} {'ours':>10} {'raw':>10}")
    row("model load (import + weights)", (time.perf_counter() - start) * 1000, None, "ms")
    query_ms = await timed(lambda: asyncio.to_thread(embedder.embed_array, ["how was my run"]), 30)
    row("embed one query p50", statistics.median(query_ms), None, "ms")
    with tempfile.TemporaryDirectory(prefix="hearth-bench-") as tmp:
        if args.ingest:
            await bench_ingest(Path(tmp), embedder, args.ingest)
        for n in sorted({min(10_000, args.n), args.n} - {0}):
            await bench_search(Path(tmp), embedder, n, args.queries)
    assert math.isfinite(start)


if __name__ == "__main__":
    asyncio.run(main())
