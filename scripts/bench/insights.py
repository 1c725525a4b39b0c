"""Mood insights over a decade of moods, and `about=` in a 100k-event log, over HTTP.

    PYTHONPATH=. .venv/bin/python scripts/bench/insights.py [--n 100000] [--years 10]
        [--requests 40]

The log: --n events of other types with random unit vectors (scripts/bench/backup.py's
data dir, built once under /tmp in batches of 5,000 and copied), then through the store
3 moods a day for --years years (Daylio labels and activities) and 300 real embedded
work and family notes for `about=` to find. A real `hearth serve` at its default
settings answers a separate client process, one request at a time. Then, on the same
Chroma files, a bare FastAPI app (uvicorn, one worker) answers the baselines the same
way: the very bytes of each insights answer from an `async def` route (what shipping
that answer costs, with no work), and embedding the text plus one raw Chroma `query`
(n=60) for `about=`. Goals: insights p50 < 100 ms, `about=` p50 < 500 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[0] = str(ROOT)  # not scripts/bench, whose file names could shadow modules

import httpx  # noqa: E402
import numpy as np  # noqa: E402

from app.storage.embeddings import get_embedder  # noqa: E402
from app.storage.events import EventStore  # noqa: E402
from app.storage.gate import WriteGate  # noqa: E402
from scripts.bench.backup import cached_data_dir  # noqa: E402
from scripts.bench.phone_sync import wait_healthy  # noqa: E402
from tests.utils import server as server_utils  # noqa: E402
from tests.utils.server import ServerProcess, free_port  # noqa: E402

TOKEN = "bench-token-0123456789"
OTHER_TYPES = ("note", "location", "health", "blog")  # no moods among the filler
MOODS = [("rad", 1), ("good", 4), ("meh", 3), ("bad", 1), ("awful", 1)]
ACTIVITIES = ["work", "friends", "family", "sport", "reading", "gaming", "shopping", "travel"]
NOTES = [
    "Long meeting at work about the roadmap",
    "Deadline stress at the office, stayed late",
    "Dinner with my family at my parents' place",
    "Played football with friends in the park",
]
ABOUT = "work meeting"
BARE_APP = textwrap.dedent(
    """
    import json, os, pathlib
    from fastapi import FastAPI, Response
    from app.storage.embeddings import get_embedder
    from app.storage.events import chroma

    bodies = {p.stem: p.read_bytes() for p in pathlib.Path(os.environ["BENCH_BODIES"]).iterdir()}
    client = chroma.make_client(pathlib.Path(os.environ["BENCH_CHROMA"]), None)
    collection = client.get_collection(chroma.default_collection("hearth"), embedding_function=None)
    embedder = get_embedder()
    embedder.embed_array(["warm up"])
    app = FastAPI()

    @app.get("/bare/{name}")
    async def bare(name: str) -> Response:
        return Response(bodies[name], media_type="application/json")

    @app.get("/raw-search")
    def raw_search(q: str) -> Response:  # a thread, as the app's search
        got = collection.query(query_embeddings=embedder.embed_array([q]), n_results=60,
                               include=["documents", "metadatas", "distances"])
        return Response(json.dumps({"ids": got["ids"][0]}), media_type="application/json")
    """
)


def moods_and_notes(years: int, dim: int, embedder_name: str, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    end = time.time()
    day = end - years * 365 * 86400
    out: list[dict] = []
    while day < end:
        for hour in (8, 14, 21):
            label = rng.choices([m for m, _ in MOODS], weights=[w for _, w in MOODS])[0]
            acts = " | ".join(rng.sample(ACTIVITIES, rng.randint(0, 3)))
            meta = {"mood": label, "context": "", **({"activities": acts} if acts else {})}
            ts = day + hour * 3600 + rng.random() * 1800
            out.append({"id": f"m{len(out)}", "type": "mood", "text": label, "timestamp": ts})
            out[-1]["metadata"] = meta
        day += 86400
    vectors = np.random.default_rng(seed).standard_normal((len(out), dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    for record, vector in zip(out, vectors, strict=True):
        record["embedding"], record["embedder"] = vector.tolist(), embedder_name
    notes = [  # no vectors: the store embeds them, so `about=` finds them by meaning
        {
            "id": f"n{i}",
            "type": "note",
            "text": f"{rng.choice(NOTES)} ({i})",
            "timestamp": rng.choice(out)["timestamp"] + 3600,
            "metadata": {},
        }
        for i in range(300)
    ]
    return out + notes


async def build(data_dir: Path, n: int, years: int) -> int:
    shutil.copytree(cached_data_dir(n, OTHER_TYPES), data_dir)
    embedder = get_embedder()
    store = await EventStore.open(
        chroma_dir=data_dir / "chroma",
        chroma_url=None,
        embedder=embedder,
        outbox_path=data_dir / "state/outbox.jsonl",
        gate=WriteGate(),
    )
    try:
        rows = moods_and_notes(years, embedder.dim, embedder.name)
        for start in range(0, len(rows), 5000):
            await store.import_records(rows[start : start + 5000])
        total, by_type = store.counts()
    finally:
        await store.close()
    print(f"{by_type['mood']} moods over {years} years, {total} events", file=sys.stderr)
    return total


def measure(url: str, cases: dict[str, tuple[str, dict]], requests: int, auth: bool) -> dict:
    headers = {"Authorization": f"Bearer {TOKEN}"} if auth else {}
    result: dict[str, list[float]] = {}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
        for name, (path, params) in cases.items():
            http.get(path, params=params).raise_for_status()  # warm
            times = []
            for _ in range(requests):
                started = time.perf_counter()
                http.get(path, params=params).raise_for_status()
                times.append((time.perf_counter() - started) * 1000)
            result[name] = times
    return result


def client(url: str, phase: str, requests: int, bodies: Path) -> None:
    """Runs in its own process: the server's CPU is not shared with the measuring loop."""
    if phase == "bare":
        cases = {f"bare {p.stem}": (f"/bare/{p.stem}", {}) for p in sorted(bodies.iterdir())}
        cases["raw search"] = ("/raw-search", {"q": ABOUT})
        print(json.dumps(measure(url, cases, requests, auth=False)))
        return
    month = {"since": time.time() - 30 * 86400}
    cases = {
        "health": ("/health", {}),
        "all": ("/v1/insights/mood", {}),
        "month": ("/v1/insights/mood", month),
        "about": ("/v1/insights/mood", {"about": ABOUT}),
        "on this day": ("/v1/insights/on-this-day", {}),
    }
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
        started = time.perf_counter()
        http.get("/v1/insights/mood").raise_for_status()
        cold = (time.perf_counter() - started) * 1000
        for name in ("health", "all", "month"):
            path, params = cases[name]
            (bodies / f"{name}.json").write_bytes(http.get(path, params=params).content)
        about = http.get("/v1/insights/mood", params={"about": ABOUT}).json()["about"]
    result = measure(url, cases, requests, auth=True)
    print(json.dumps({"cold": cold, "about_answer": about, **result}))


def run_client(url: str, phase: str, requests: int, bodies: Path) -> dict:
    args = [sys.executable, __file__, "--client", url, "--phase", phase, "--bodies", str(bodies)]
    out = subprocess.run(
        [*args, "--requests", str(requests)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def bare_server(work: Path, data_dir: Path, bodies: Path) -> tuple[subprocess.Popen, str]:
    (work / "bare_app.py").write_text(BARE_APP)
    port = free_port()
    env = {**os.environ, "BENCH_BODIES": str(bodies), "BENCH_CHROMA": str(data_dir / "chroma")}
    env["PYTHONPATH"] = os.pathsep.join([str(work), str(ROOT)])
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bare_app:app", "--port", str(port), "--workers", "1"],
        cwd=work,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_healthy(f"{url}/bare/health", proc)
    return proc, url


def report(ours: dict, bare: dict, total: int) -> None:
    def p50(times: list[float]) -> float:
        return statistics.median(times)

    def p95(times: list[float]) -> float:
        return sorted(times)[int(0.95 * (len(times) - 1))]

    print(f"first insights call after start (fills the mood log): {ours['cold']:.0f} ms")
    print(f"about={ABOUT}: {ours['about_answer']}")
    rows = [
        ("GET /health", "health", "bare route, same body", "bare health"),
        ("insights, all 10 years", "all", "bare route, same body", "bare all"),
        ("insights, last 30 days", "month", "bare route, same body", "bare month"),
        (f"about= at {total} events", "about", "embed + raw Chroma query", "raw search"),
        ("on this day", "on this day", "bare route, /health body", "bare health"),
    ]
    head = f"{'request':30} {'p50 ms':>7} {'p95 ms':>7}   {'baseline':26} {'p50 ms':>7}"
    print(f"{head} {'ratio':>6}")
    for label, mine, base_label, base in rows:
        a, b = ours[mine], bare[base]
        print(
            f"{label:30} {p50(a):7.1f} {p95(a):7.1f}   {base_label:26} {p50(b):7.1f}"
            f" {p50(a) / p50(b):6.1f}"
        )
    print("goals: insights p50 < 100 ms, about= p50 < 500 ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000, help="events other than the moods")
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--bodies", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        client(args.client, args.phase, args.requests, args.bodies)
        return
    server_utils.STARTUP_TIMEOUT_S = 600  # a shared, busy machine may take minutes to start
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data_dir, bodies = work / "data", work / "bodies"
        bodies.mkdir()
        started = time.perf_counter()
        total = asyncio.run(build(data_dir, args.n, args.years))
        print(f"built in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        server = ServerProcess(data_dir, token=TOKEN, HEARTH_LOG_LEVEL="INFO").start()
        try:
            ours = run_client(server.url, "hearth", args.requests, bodies)
        finally:
            server.stop()
        proc, url = bare_server(work, data_dir, bodies)
        try:
            bare = run_client(url, "bare", args.requests, bodies)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    report(ours, bare, total)


if __name__ == "__main__":
    main()
