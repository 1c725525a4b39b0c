"""Phone-sync throughput against baselines measured in the same run.

1. GET /v1/state (auth, middleware, ETag) vs a bare `async def` FastAPI route, both
   served by uvicorn with one worker and driven by wrk (goal >= 0.9). The service runs
   with the defaults a user has (HEARTH_LOG_LEVEL=INFO, access log on, log lines written
   to a file); a second server beside it shows tuned settings (WARNING, no access log).
2. PUT /v1/mood durable writes/s vs a raw write+fsync+rename+fsync-dir loop on the same
   disk, at 1 client (goal >= 0.5) and 32 clients (goal >= 0.8). After each PUT run the
   script also reports how long the event log took to catch up (outbox journal empty).

Baseline and subject runs alternate (A/B/A/B) and medians are printed, because the
machine is shared. Needs Debian's `wrk` (apt-get install wrk).
Run: .venv/bin/python scripts/bench/phone_sync.py [--seconds 5] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import httpx

TOKEN = "bench-token-0123456789abcdef"
BARE_APP = textwrap.dedent(
    """
    from fastapi import FastAPI
    app = FastAPI()

    @app.get("/bare")
    async def bare() -> dict:
        return {"mood": {"mood": "neutral", "context": "", "updated_at": 0},
                "thoughts": "", "updated_at": 0}
    """
)
PUT_LUA = f"""
wrk.method = "PUT"
wrk.body = '{{"mood": "calm", "context": "benchmark"}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {TOKEN}"
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path | None = None) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log else ""
            raise SystemExit(f"server exited with {proc.returncode}\n{tail}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit(f"{url} never answered")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk_cpu(
    url: str, pid: int, *, conns: int, seconds: int, args: list[str]
) -> tuple[float, float]:
    """Requests/s, and the server's CPU microseconds per request (steadier on a busy box)."""
    before = cpu_seconds(pid)
    rps = wrk(url, conns=conns, seconds=seconds, args=args)
    return rps, (cpu_seconds(pid) - before) / max(1.0, rps * seconds) * 1e6


def wrk(url: str, *, conns: int, seconds: int, args: list[str]) -> float:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", *args, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise SystemExit(f"wrk saw {non2xx.group(1)} error responses:\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert match, out
    return float(match.group(1))


def raw_durable_loop(directory: Path, seconds: float) -> float:
    target = directory / "raw.json"
    tmp = directory / ".raw.json.tmp"
    data = b'{"mood": "calm", "context": "benchmark", "updated_at": 0}\n'
    n = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, data)
        os.fsync(fd)
        os.close(fd)
        os.replace(tmp, target)
        dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        os.fsync(dfd)
        os.close(dfd)
        n += 1
    return n / seconds


def wait_drained(journal: Path, limit: float = 600.0) -> float:
    """Seconds until the outbox journal is empty (every event is in Chroma)."""
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        if not journal.exists() or journal.stat().st_size == 0:
            return time.perf_counter() - start
        time.sleep(0.1)
    return float("nan")


class Servers:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, argv: list[str], env: dict[str, str], url: str) -> int:
        path = self.work / f"{name}.log"
        with path.open("wb") as log:
            proc = subprocess.Popen(argv, cwd=self.work, env=env, stdout=log, stderr=log)
        self.procs.append(proc)
        wait_healthy(url, proc, path)
        return proc.pid

    def hearth(self, name: str, port: int, **extra: str) -> tuple[str, int]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")}
        env.update(
            HEARTH_DATA_DIR=str(self.work / name),
            HEARTH_PORT=str(port),
            HEARTH_API_TOKEN=TOKEN,
            PYTHONPATH=os.getcwd(),
            **extra,
        )
        base = f"http://127.0.0.1:{port}"
        pid = self.start(name, [sys.executable, "-m", "app.cli", "serve"], env, base + "/health")
        return base, pid

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
            proc.wait(timeout=60)


def ratio(subject: list[float], base: list[float]) -> float:
    """Median of the per-round ratios (each round ran both back to back)."""
    return statistics.median(s / b for s, b in zip(subject, base, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-put", action="store_true")
    parser.add_argument("--skip-get", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("needs wrk: apt-get install wrk")
    work = Path(tempfile.mkdtemp(prefix="hearth-bench-"))
    servers = Servers(work)
    secs = args.seconds
    rows: list[tuple[str, list[float], float]] = []
    try:
        (work / "bare_app.py").write_text(BARE_APP)
        bare_port = free_port()
        bare_url = f"http://127.0.0.1:{bare_port}/bare"
        uvicorn = [sys.executable, "-m", "uvicorn", "bare_app:app", "--no-access-log"]
        bare_pid = servers.start(
            "bare", [*uvicorn, "--port", str(bare_port)], dict(os.environ), bare_url
        )
        default, default_pid = servers.hearth("default", free_port())
        auth = ["-H", f"Authorization: Bearer {TOKEN}"]
        if not args.skip_get:
            tuned, tuned_pid = servers.hearth(
                "tuned", free_port(), HEARTH_LOG_LEVEL="WARNING", HEARTH_ACCESS_LOG="false"
            )
            runs: dict[str, list[tuple[float, float]]] = {"bare": [], "default": [], "tuned": []}
            targets = {
                "bare": (bare_url, bare_pid, []),
                "default": (default + "/v1/state", default_pid, auth),
                "tuned": (tuned + "/v1/state", tuned_pid, auth),
            }
            for _ in range(args.rounds):
                for name, (url, pid, extra) in targets.items():
                    runs[name].append(wrk_cpu(url, pid, conns=32, seconds=secs, args=extra))
            rps = {name: [r for r, _ in got] for name, got in runs.items()}
            cpu = {name: [c for _, c in got] for name, got in runs.items()}
            rows += [
                ("bare async FastAPI route (req/s)", rps["bare"], 1.0),
                (
                    "GET /v1/state, defaults (req/s)",
                    rps["default"],
                    ratio(rps["default"], rps["bare"]),
                ),
                ("GET /v1/state, tuned (req/s)", rps["tuned"], ratio(rps["tuned"], rps["bare"])),
                ("bare route, server CPU us/request", cpu["bare"], 1.0),
                (
                    "/v1/state defaults, CPU us/request",
                    cpu["default"],
                    ratio(cpu["bare"], cpu["default"]),
                ),
                ("/v1/state tuned, CPU us/request", cpu["tuned"], ratio(cpu["bare"], cpu["tuned"])),
            ]
        if not args.skip_put:
            (work / "put.lua").write_text(PUT_LUA)
            put_args = ["-s", str(work / "put.lua")]
            journal = work / "default" / "state" / "outbox.jsonl"
            raw: list[float] = []
            put1: list[float] = []
            put32: list[float] = []
            catch_up: list[float] = []
            for _ in range(args.rounds):
                raw.append(raw_durable_loop(work / "default", secs))
                put1.append(wrk(default + "/v1/mood", conns=1, seconds=secs, args=put_args))
                catch_up.append(wait_drained(journal))
                put32.append(wrk(default + "/v1/mood", conns=32, seconds=secs, args=put_args))
                catch_up.append(wait_drained(journal))
            rows += [
                ("raw write+fsync+rename loop (writes/s)", raw, 1.0),
                ("PUT /v1/mood, 1 client (writes/s)", put1, ratio(put1, raw)),
                ("PUT /v1/mood, 32 clients (writes/s)", put32, ratio(put32, raw)),
            ]
            print(f"event log caught up {max(catch_up):.1f} s (worst) after a PUT run ends")
        print(f"{'measure':<42}{'median':>9}{'range':>16}{'ratio':>8}")
        for label, values, rel in rows:
            spread = f"{min(values):.0f}-{max(values):.0f}"
            print(f"{label:<42}{statistics.median(values):>9.0f}{spread:>16}{rel:>8.2f}")
        print("goals: state (defaults) >= 0.90 of bare; PUT >= 0.50 (1 client), 0.80 (32)")
        print("CPU rows: ratio = bare's CPU per request / this one's (1.0 = as cheap as bare)")
    finally:
        servers.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
