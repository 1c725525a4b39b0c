"""Run the real service as a subprocess (for kill -9 and lock tests)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from app.storage.events.child import free_port

STARTUP_TIMEOUT_S = 300.0  # generous: a loaded 2-core machine imports torch slowly


def process_gone(pid: int) -> bool:
    """True once no process has this id (a reaped child, or one never started)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def hearth_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")}
    env.update({"HEARTH_DATA_DIR": str(data_dir), "HEARTH_LOG_LEVEL": "WARNING"})
    env.update(extra)
    return env


def run_cli(
    *args: str, data_dir: Path, timeout: float = 120, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=hearth_env(data_dir, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class ServerProcess:
    def __init__(self, data_dir: Path, *, token: str, **env: str) -> None:
        self.data_dir = data_dir
        self.token = token
        self.env = env
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = data_dir.parent / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, timeout: float = 30) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def spawn(self, *, same_port: bool = False) -> subprocess.Popen[bytes]:
        """Start without waiting (for tests that expect it to refuse). same_port: come back
        where a client (a browser) expects the server that was stopped."""
        if not (same_port and self.port):
            self.port = free_port()
        env = hearth_env(
            self.data_dir, HEARTH_PORT=str(self.port), HEARTH_API_TOKEN=self.token, **self.env
        )
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "serve"], env=env, stdout=log, stderr=log
            )
        return self.proc

    def start(self, *, same_port: bool = False) -> ServerProcess:
        proc = self.spawn(same_port=same_port)
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited {proc.returncode}: {self.log.read_text()}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server not healthy in time: {self.log.read_text()}")

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.kill9()
