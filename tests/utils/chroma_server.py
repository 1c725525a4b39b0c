"""A real `chroma run` server process for tests of the Chroma-server mode."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.utils.server import free_port

CHROMA_BIN = Path(sys.executable).with_name("chroma")


@contextmanager
def chroma_server(path: Path, timeout: float = 60, port: int | None = None) -> Iterator[str]:
    """Start `chroma run --path path/db` on `port` (default: a free one); yield its URL; stop it.

    Stopping and starting it again on the same path and port is an outage and its end.
    """
    path.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log_path = path / "server.log"
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [str(CHROMA_BIN), "run", "--path", str(path / "db"), "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"chroma run did not start: {log_path.read_text()}")
                time.sleep(0.2)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
