"""Phone-sync throughput against baselines measured in the same run.

1. GET /v1/state (auth, middleware, ETag) vs a bare `async def` FastAPI route, both
   served by uvicorn with one worker and driven by wrk (goal >= 0.8).
2. PUT /v1/mood durable writes/s vs a raw write+fsync+rename+fsync-dir loop (goal >= 0.7),
   at 1 client (every write waits for its own fsyncs) and at 32 clients (group commit).

Needs Debian's `wrk` (apt-get install wrk). Run: .venv/bin/python scripts/bench/http.py
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
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


def wait_healthy(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit(f"{url} never answered")


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("needs wrk: apt-get install wrk")
    work = Path(tempfile.mkdtemp(prefix="hearth-bench-"))
    python = sys.executable
    procs: list[subprocess.Popen[bytes]] = []
    try:
        (work / "bare_app.py").write_text(BARE_APP)
        bare_port, hearth_port = free_port(), free_port()
        bare = subprocess.Popen(
            [python, "-m", "uvicorn", "bare_app:app", "--port", str(bare_port), "--workers", "1"],
            cwd=work,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(bare)
        env = {
            **os.environ,
            "HEARTH_DATA_DIR": str(work / "data"),
            "HEARTH_PORT": str(hearth_port),
            "HEARTH_API_TOKEN": TOKEN,
            "HEARTH_LOG_LEVEL": "WARNING",
        }
        hearth = subprocess.Popen(
            [python, "-m", "app.cli", "serve"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(hearth)
        wait_healthy(f"http://127.0.0.1:{bare_port}/bare", bare)
        wait_healthy(f"http://127.0.0.1:{hearth_port}/health", hearth)
        base = f"http://127.0.0.1:{hearth_port}"
        auth = ["-H", f"Authorization: Bearer {TOKEN}"]
        secs = args.seconds

        bare_rps = wrk(f"http://127.0.0.1:{bare_port}/bare", conns=32, seconds=secs, args=[])
        state_rps = wrk(base + "/v1/state", conns=32, seconds=secs, args=auth)
        (work / "put.lua").write_text(PUT_LUA)
        put_args = ["-s", str(work / "put.lua")]
        raw = raw_durable_loop(work, secs)
        put1 = wrk(base + "/v1/mood", conns=1, seconds=secs, args=put_args)
        put32 = wrk(base + "/v1/mood", conns=32, seconds=secs, args=put_args)

        rows = [
            ("bare async FastAPI route (req/s)", bare_rps, 1.0),
            ("GET /v1/state with auth (req/s)", state_rps, state_rps / bare_rps),
            ("raw write+fsync+rename loop (writes/s)", raw, 1.0),
            ("PUT /v1/mood, 1 client (writes/s)", put1, put1 / raw),
            ("PUT /v1/mood, 32 clients (writes/s)", put32, put32 / raw),
        ]
        print(f"{'measure':<44}{'value':>12}{'ratio':>10}")
        for label, value, ratio in rows:
            print(f"{label:<44}{value:>12.0f}{ratio:>10.2f}")
        print("goals: state >= 0.80 of bare; PUT >= 0.70 of the raw loop")
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
