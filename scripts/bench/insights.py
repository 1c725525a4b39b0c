"""Mood insights over a decade of moods, and `about=` in a 100k-event log, over HTTP.

    .venv/bin/python scripts/bench/insights.py [--n 100000] [--years 10] [--requests 40]

Builds a data dir (3 moods a day for --years years, Daylio labels and activities, plus
other events up to --n; their vectors are random unit vectors imported as they are,
except 300 real embedded work and family notes for `about=` to find), starts a real
`hearth serve` on it and measures from a separate client process, one request at a
time: `GET /health` (the baseline), `/v1/insights/mood` over everything and over the
last 30 days, with `about=`, and `/v1/insights/on-this-day`. The first insights call
after start fills the mood log from Chroma (timed apart, as "cold"). Goals: p50 < 100
ms for insights, < 500 ms with `about=`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from app.storage.embeddings import get_embedder
from app.storage.events import EventStore
from app.storage.gate import WriteGate
from tests.utils import server as server_utils
from tests.utils.server import ServerProcess

TOKEN = "bench-token-0123456789"
MOODS = [("rad", 1), ("good", 4), ("meh", 3), ("bad", 1), ("awful", 1)]
ACTIVITIES = ["work", "friends", "family", "sport", "reading", "gaming", "shopping", "travel"]
NOTES = [
    "Long meeting at work about the roadmap",
    "Deadline stress at the office, stayed late",
    "Dinner with my family at my parents' place",
    "Played football with friends in the park",
]


def records(n: int, years: int, dim: int, embedder_name: str, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    nprng = np.random.default_rng(seed)
    end = time.time()
    start = end - years * 365 * 86400
    out: list[dict] = []
    day = start
    while day < end:
        for hour in (8, 14, 21):
            label = rng.choices([m for m, _ in MOODS], weights=[w for _, w in MOODS])[0]
            acts = " | ".join(rng.sample(ACTIVITIES, rng.randint(0, 3)))
            meta = {"mood": label, "context": "", **({"activities": acts} if acts else {})}
            out.append(
                {
                    "id": f"m{len(out)}",
                    "type": "mood",
                    "text": label,
                    "timestamp": day + hour * 3600 + rng.random() * 1800,
                    "metadata": meta,
                }
            )
        day += 86400
    moods = len(out)
    for i in range(max(0, n - moods)):
        out.append(
            {
                "id": f"e{i}",
                "type": rng.choice(["note", "location", "health", "blog"]),
                "text": f"filler event {i}",
                "timestamp": rng.uniform(start, end),
                "metadata": {},
            }
        )
    vectors = nprng.standard_normal((len(out), dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    for record, vector in zip(out, vectors, strict=True):
        record["embedding"] = vector.tolist()
        record["embedder"] = embedder_name
    print(f"{moods} moods over {years} years, {len(out)} events", file=sys.stderr)
    return out


async def build(data_dir: Path, n: int, years: int) -> None:
    embedder = get_embedder()
    (data_dir / "state").mkdir(parents=True, mode=0o700)
    store = await EventStore.open(
        chroma_dir=data_dir / "chroma",
        chroma_url=None,
        embedder=embedder,
        outbox_path=data_dir / "state/outbox.jsonl",
        gate=WriteGate(),
    )
    try:
        rows = records(n, years, embedder.dim, embedder.name)
        for start in range(0, len(rows), 5000):
            await store.import_records(rows[start : start + 5000])
        rng = random.Random(3)
        notes = [
            {
                "id": f"n{i}",
                "type": "note",
                "text": f"{rng.choice(NOTES)} ({i})",
                "timestamp": rng.choice(rows)["timestamp"] + 3600,
                "metadata": {},
            }
            for i in range(300)
        ]
        await store.import_records(notes)
    finally:
        await store.close()


def client(url: str, requests: int) -> None:
    """Runs in its own process: the server's CPU is not shared with the measuring loop."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    month = time.time() - 30 * 86400
    cases = {
        "GET /health (baseline)": ("/health", {}),
        "insights, all 10 years": ("/v1/insights/mood", {}),
        "insights, last 30 days": ("/v1/insights/mood", {"since": month}),
        "insights, about=work meeting": ("/v1/insights/mood", {"about": "work meeting"}),
        "on this day": ("/v1/insights/on-this-day", {}),
    }
    result = {}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
        started = time.perf_counter()
        cold = http.get("/v1/insights/mood")
        cold.raise_for_status()
        result["cold"] = (time.perf_counter() - started) * 1000
        for name, (path, params) in cases.items():
            times = []
            for _ in range(requests):
                started = time.perf_counter()
                http.get(path, params=params).raise_for_status()
                times.append((time.perf_counter() - started) * 1000)
            result[name] = times
        about = http.get("/v1/insights/mood", params={"about": "work meeting"}).json()["about"]
        result["about"] = about
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    args = parser.parse_args()
    server_utils.STARTUP_TIMEOUT_S = 600  # a shared, busy machine may take minutes to start
    if args.client:
        client(args.client, args.requests)
        return
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        started = time.perf_counter()
        asyncio.run(build(data_dir, args.n, args.years))
        print(f"built in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        server = ServerProcess(data_dir, token=TOKEN).start()
        try:
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--client",
                    server.url,
                    "--requests",
                    str(args.requests),
                ],
                capture_output=True,
                text=True,
                check=True,
                env=os.environ.copy(),
            ).stdout
        finally:
            server.stop()
    result = json.loads(out)
    base = statistics.median(result.pop("GET /health (baseline)"))
    print(f"first insights call after start (fills the mood log): {result.pop('cold'):.0f} ms")
    print(f"about=work meeting: {result.pop('about')}")
    print(f"{'request':32} {'p50 ms':>8} {'p95 ms':>8} {'p50 / health':>13}")
    print(f"{'GET /health (baseline)':32} {base:8.1f} {'':>8} {1.0:13.1f}")
    for name, times in result.items():
        p50 = statistics.median(times)
        p95 = sorted(times)[int(0.95 * (len(times) - 1))]
        print(f"{name:32} {p50:8.1f} {p95:8.1f} {p50 / base:13.1f}")


if __name__ == "__main__":
    main()
