"""Location ingest at a year's scale, through the real Overland route of a real server.

A separate client process posts N fixes (default 1,000,000: about four months of one fix
every 10 s) in batches of 1000, as Overland does, one batch after the other. Meanwhile a
third process polls /health. Reported, each against a baseline from the same run:

- fixes/s through HTTP (goal >= 5,000/s) vs a raw SQLite executemany of the same rows
  in this process (same WAL + synchronous=FULL settings, one commit per batch), and the
  server's CPU time per 1000 fixes (steadier than fixes/s on a shared machine);
- bytes on disk per fix (goal <= 120), the database plus its WAL;
- worst and p99 /health latency during the ingest (goal < 250 ms) vs before it;
- search p50 before vs after (goal: unchanged within noise, the fixes are not embedded).

Run: PYTHONPATH=. .venv/bin/python scripts/bench/locations.py [--fixes 100000]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

TOKEN = "bench-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
START = 1_700_000_000
QUERIES = ["coffee with a friend", "long walk by the river", "work meeting", "tired evening"]
FEATURE = (
    '{"type":"Feature","geometry":{"type":"Point","coordinates":[%.6f,%.6f]},'
    '"properties":{"timestamp":"%s","altitude":%d,"speed":%.1f,"horizontal_accuracy":%d,'
    '"vertical_accuracy":4,"motion":["walking"],"battery_state":"unplugged",'
    '"battery_level":%.2f,"device_id":"bench-phone","wifi":""}}'
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def body(first: int, n: int) -> bytes:
    parts = []
    for i in range(first, first + n):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(START + i * 10))
        lat, lon = 48.85 + (i % 5000) * 1e-5, 2.29 + (i % 7000) * 1e-5
        parts.append(FEATURE % (lon, lat, stamp, 30 + i % 40, 1.2, 5 + i % 20, 0.5))
    return ('{"locations":[' + ",".join(parts) + "]}").encode()


def rows(first: int, n: int) -> list[tuple[object, ...]]:
    return [
        ((START + i * 10) * 1000, 1, 48.85 + (i % 5000) * 1e-5, 2.29 + (i % 7000) * 1e-5,
         5, 30 + i % 40, 50, 4, None)
        for i in range(first, first + n)
    ]  # fmt: skip


def raw_sqlite(path: Path, total: int, batch: int) -> float:
    """The floor: the same rows straight into SQLite, one commit per batch."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute(
        "CREATE TABLE fixes (ts INTEGER, dev INTEGER, lat REAL, lon REAL, acc INTEGER,"
        " alt INTEGER, batt INTEGER, vel INTEGER, tid TEXT, PRIMARY KEY (ts, dev)) WITHOUT ROWID"
    )
    started = time.perf_counter()
    for first in range(0, total, batch):
        db.execute("BEGIN")
        db.executemany("INSERT OR IGNORE INTO fixes VALUES (?,?,?,?,?,?,?,?,?)", rows(first, batch))
        db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    db.close()
    return total / elapsed


def poll_health(url: str, out: str, stop: multiprocessing.synchronize.Event) -> None:  # type: ignore[name-defined]
    """Runs in its own process: /health every 50 ms, latencies in ms to `out`."""
    seen = []
    with httpx.Client(timeout=30) as client:
        while not stop.is_set():
            started = time.perf_counter()
            client.get(url + "/health")
            seen.append((time.perf_counter() - started) * 1000)
            time.sleep(0.05)
    Path(out).write_text(json.dumps(seen))


def ingest(url: str, total: int, batch: int, out: str) -> None:
    """Runs in its own process, like the phone: one batch, wait for ok, the next."""
    saved = 0
    started = time.perf_counter()
    with httpx.Client(base_url=url, headers=AUTH, timeout=60) as client:
        for first in range(0, total, batch):
            got = client.post(
                "/v1/ingest/overland",
                content=body(first, min(batch, total - first)),
                headers={"Content-Type": "application/json"},
            )
            got.raise_for_status()
            saved += got.json()["saved"]
            if first and first % (batch * 100) == 0:
                print(f"  {first:,} fixes sent", file=sys.stderr)
    Path(out).write_text(json.dumps({"saved": saved, "s": time.perf_counter() - started}))


def search_p50(client: httpx.Client, rounds: int = 5) -> float:
    times = []
    for _ in range(rounds):
        for q in QUERIES:
            started = time.perf_counter()
            client.get("/v1/search", params={"q": q}).raise_for_status()
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def health_run(url: str, tmp: Path, name: str, work: multiprocessing.Process) -> list[float]:
    stop = multiprocessing.Event()
    out = str(tmp / f"{name}.json")
    poller = multiprocessing.Process(target=poll_health, args=(url, out, stop))
    poller.start()
    work.start()
    work.join()
    stop.set()
    poller.join()
    return sorted(json.loads(Path(out).read_text()))


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux): the server's cost, whatever the load."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(len(values) * p))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixes", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="hearth-bench-loc-"))
    raw = raw_sqlite(tmp / "raw.sqlite3", min(args.fixes, 200_000), args.batch)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "HEARTH_DATA_DIR": str(tmp / "data"),
        "HEARTH_API_TOKEN": TOKEN,
        "HEARTH_PORT": str(port),
        "HEARTH_LOG_LEVEL": "WARNING",
        "HEARTH_BLOG_URLS": "",
    }
    log = open(tmp / "server.log", "wb")  # noqa: SIM115
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve"], env=env, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        with httpx.Client(base_url=url, headers=AUTH, timeout=60) as client:
            events = [
                {"type": "note", "text": f"{q} number {i}"} for i in range(50) for q in QUERIES
            ]
            client.post("/v1/events", json={"events": events}).raise_for_status()
            search_before = search_p50(client)
            idle = health_run(
                url, tmp, "idle", multiprocessing.Process(target=time.sleep, args=(3,))
            )
            done = tmp / "ingest.json"
            work = multiprocessing.Process(
                target=ingest, args=(url, args.fixes, args.batch, str(done))
            )
            cpu_before = cpu_seconds(server.pid)
            busy = health_run(url, tmp, "busy", work)
            cpu = cpu_seconds(server.pid) - cpu_before
            result = json.loads(done.read_text())
            search_after = search_p50(client)
        store = tmp / "data" / "state"
        size = sum(p.stat().st_size for p in store.glob("locations.sqlite3*"))
    finally:
        server.terminate()
        server.wait(60)
        log.close()
    rate = result["saved"] / result["s"]
    print(f"fixes stored            {result['saved']:,} in {result['s']:.1f} s")
    print(f"ingest via Overland     {rate:,.0f} fixes/s  (goal >= 5,000)")
    print(
        f"server CPU per 1000     {cpu / result['saved'] * 1e6:.1f} ms  "
        f"(wall per 1000: {result['s'] / result['saved'] * 1e6:.1f} ms)"
    )
    print(f"raw SQLite baseline     {raw:,.0f} fixes/s  ratio {rate / raw:.2f}")
    print(f"bytes on disk per fix   {size / result['saved']:.1f}  (goal <= 120)")
    print(
        f"/health idle p99/max    {pct(idle, 0.99):.1f} / {idle[-1]:.1f} ms  ({len(idle)} probes)"
    )
    print(
        f"/health ingest p99/max  {pct(busy, 0.99):.1f} / {busy[-1]:.1f} ms  (goal < 250, "
        f"{len(busy)} probes)"
    )
    print(f"search p50 before/after {search_before:.1f} / {search_after:.1f} ms  "
          f"ratio {search_after / search_before:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
