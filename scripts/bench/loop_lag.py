"""Event-loop lag as a monitoring probe feels it: /health latency over HTTP during work.

Starts a real server (`hearth serve`) on a temp data dir and a separate probe process that
GETs /health every 20 ms over HTTP, then drives the server over HTTP through each phase:
  - five POST /v1/events batches (1000 events each in full mode),
  - in full mode, an import of 100,000 more events posted as 1000-event batches
    (`--import-events`), the way an app replays a long history over HTTP,
  - a backup (POST /v1/backups),
  - an export (GET /v1/export, streamed and discarded),
  - retention of the older half of the events (POST /v1/jobs/retention_cleanup/run).
In full mode the data dir starts with 100,000 events spread over a year (`--seed`, built
once with raw Chroma adds by scripts/bench/backup.py and copied), so the backup runs at
100k and retention (182 days) deletes ~50k.
For each phase it prints the probe's worst and p99 /health latency, against the same
probe's median while the server is idle (the baseline, measured in the same run).
Goal: worst /health latency < 100 ms in every phase. `hearth import FILE` and
`hearth reindex` run offline with the server stopped, so no probe can see them;
transfer.py measures them in-process.

    .venv/bin/python scripts/bench/loop_lag.py [--full] [--seed N] [--mode child|inline|server]
    (quick: 5 x 200 events on an empty store; full: 5 x 1000 on a 100k store)
--mode: child (the default a user runs: the service's own Chroma child process), inline
(HEARTH_CHROMA_MODE=inline: Chroma in the server's process, where its write calls hold
the server's GIL), server (HEARTH_CHROMA_URL: a `chroma run` started here; backups are then
logical, an NDJSON export of the events).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
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

from scripts.bench.backup import cached_data_dir  # noqa: E402
from scripts.bench.phone_sync import free_port, wait_healthy  # noqa: E402

TOKEN = "bench-token-0123456789abcdef"
DAY = 86400.0
PROBE = textwrap.dedent(
    """
    import sys, time, httpx
    url, out = sys.argv[1], sys.argv[2]
    with httpx.Client(timeout=30) as c, open(out, "w", buffering=1) as f:
        while True:
            t0 = time.time(); start = time.perf_counter()
            c.get(url)
            f.write(f"{t0} {(time.perf_counter() - start) * 1000:.2f}\\n")
            time.sleep(0.02)
    """
)


def probe_window(samples: Path, start: float, end: float) -> list[float]:
    out = []
    for line in samples.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and start <= float(parts[0]) <= end:
            out.append(float(parts[1]))
    return out


def wait_job(client: httpx.Client, name: str) -> None:
    while True:
        jobs = {j["name"]: j for j in client.get("/v1/jobs").json()["jobs"]}
        last = jobs[name]["last_run"]
        if last and last["status"] != "running":
            return
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--seed", type=int, default=None, help="events already stored")
    parser.add_argument("--mode", choices=["child", "inline", "server"], default="child")
    parser.add_argument("--import-events", type=int, default=None, help="default: 100k if --full")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        run(args, stack)


def run(args: argparse.Namespace, stack: contextlib.ExitStack) -> None:
    batch = 1000 if args.full else 200
    seed = args.seed if args.seed is not None else (100_000 if args.full else 0)
    work = Path(tempfile.mkdtemp(prefix="hearth-lag-"))
    # On the stack before the Chroma server: removed only once that server has stopped.
    stack.callback(shutil.rmtree, work, ignore_errors=True)
    if seed:
        shutil.copytree(cached_data_dir(seed), work / "data", ignore=shutil.ignore_patterns(".*"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")}
    env.update(
        HEARTH_DATA_DIR=str(work / "data"),
        HEARTH_PORT=str(port),
        HEARTH_API_TOKEN=TOKEN,
        # seeded events span a year: 182 days removes about half of them
        HEARTH_RETENTION_DAYS="182" if seed else "30",
        PYTHONPATH=os.getcwd(),
    )
    env["HEARTH_CHROMA_MODE"] = "inline" if args.mode == "inline" else "child"
    if args.mode == "server":
        from tests.utils.chroma_server import chroma_server

        (work / "chroma-server").mkdir()
        if (work / "data" / "chroma").exists():
            (work / "data" / "chroma").rename(work / "chroma-server" / "db")
        env["HEARTH_CHROMA_URL"] = stack.enter_context(chroma_server(work / "chroma-server"))
    base = f"http://127.0.0.1:{port}"
    log = (work / "server.log").open("wb")
    spawned = time.monotonic()
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve"], env=env, stdout=log, stderr=log
    )
    probe: subprocess.Popen[bytes] | None = None
    samples = work / "probe.txt"
    phases: list[tuple[str, float, float]] = []
    try:
        wait_healthy(base + "/health", server)
        print(f"server healthy {time.monotonic() - spawned:.1f} s after it was started", flush=True)
        (work / "probe.py").write_text(PROBE)
        probe = subprocess.Popen(
            [sys.executable, str(work / "probe.py"), base + "/health", str(samples)]
        )
        client = httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=600
        )
        time.sleep(3)
        phases.append(("idle (baseline)", time.time() - 3, time.time()))
        now = time.time()
        start = time.time()
        for b in range(5):
            events = [
                {
                    "type": "note",
                    "text": f"batch {b} note {i}: walked to the market and bought bread",
                    # half of the events are older than the 30-day retention
                    "timestamp": now - (90 * DAY if i % 2 else DAY) - i,
                }
                for i in range(batch)
            ]
            r = client.post("/v1/events", json={"events": events})
            r.raise_for_status()
        phases.append((f"5 x {batch}-event POST batches", start, time.time()))
        imported = args.import_events
        if imported is None:
            imported = 100_000 if args.full else 0
        if imported:
            start = time.time()
            for b in range(0, imported, 1000):
                events = [
                    {"type": "note", "text": f"imported note {b + i}: a line from an old diary",
                     "timestamp": now - 2 * DAY - (b + i) * 60}
                    for i in range(min(1000, imported - b))
                ]  # fmt: skip
                client.post("/v1/events", json={"events": events}).raise_for_status()
            end = time.time()
            phases.append((f"import of {imported} ({imported / (end - start):.0f}/s)", start, end))
        total = client.get("/v1/status").json()["events"]["total"]
        start = time.time()
        client.post("/v1/backups").raise_for_status()
        phases.append((f"backup at {total} events", start, time.time()))
        start = time.time()
        with client.stream("GET", "/v1/export") as r:
            lines = sum(1 for _ in r.iter_lines())
        phases.append((f"export ({lines} lines)", start, time.time()))
        before = client.get("/v1/status").json()["events"]["total"]
        start = time.time()
        client.post("/v1/jobs/retention_cleanup/run").raise_for_status()
        wait_job(client, "retention_cleanup")
        removed = before - client.get("/v1/status").json()["events"]["total"]
        phases.append((f"retention of {removed} events", start, time.time()))
        time.sleep(0.5)
        rows = []
        idle = statistics.median(probe_window(samples, *phases[0][1:]))
        print(
            f"{'phase':<36}{'probes':>7}{'p50 ms':>8}{'p99 ms':>8}{'worst ms':>10}"
            f"{'worst/idle':>11}"
        )
        for name, a, z in phases:
            got = sorted(probe_window(samples, a, z))
            if not got:
                continue
            p99 = got[min(len(got) - 1, int(len(got) * 0.99))]
            rows.append({"phase": name, "worst_ms": got[-1]})
            print(
                f"{name:<36}{len(got):>7}{statistics.median(got):>8.1f}{p99:>8.1f}"
                f"{got[-1]:>10.1f}{got[-1] / idle:>11.1f}"
            )
        print("goal: worst /health latency < 100 ms in every phase")
        (work / "result.json").write_text(json.dumps(rows))
    finally:
        if probe is not None:
            probe.kill()
            probe.wait()
        server.terminate()
        server.wait(timeout=120)


if __name__ == "__main__":
    main()
