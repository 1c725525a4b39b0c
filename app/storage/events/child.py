"""Chroma's own server over the data dir's store, in a child process the service runs.

Why a second process: Chroma's write calls hold the GIL for their whole run, and every
1,000 writes one of them saves the whole HNSW index inside the call (~250 ms at 100k
events, ~2.5 s at 1M). In the service's own process that stalls every request for as
long; in a child it stalls only that child (docs/measurements.md). The child serves the
same files (`data/chroma`, the format the embedded client writes), so backups still copy
them, and the offline commands open them embedded while the service is stopped.

The child is Chroma's `chroma run`, bound to loopback on a free port. It is tied to the
service: it gets SIGKILL if the service dies (Linux PDEATHSIG), it sits in its own
session so a Ctrl-C meant for the service does not stop it before the service has
flushed, and it is started again, on the same port, if it exits. While it is away the
event store treats it as any unreachable Chroma server: writes queue in the durable
outbox and /health says "degraded".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import time
from pathlib import Path

import httpx

from app.children import die_with_parent
from app.errors import StorageError

log = logging.getLogger(__name__)
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
BACKOFF_S = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
LOG_MAX_BYTES = 5 * 1024 * 1024
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def chroma_command(path: Path, port: int) -> list[str]:
    script = Path(sys.executable).with_name("chroma")  # the package's own entry point
    fallback = [sys.executable, "-c", "from chromadb.cli.cli import app; app()"]
    head = [str(script)] if script.exists() else fallback
    return [*head, "run", "--path", str(path), "--host", HOST, "--port", str(port)]


class ChromaChild:
    """Start, watch and stop `chroma run` over `path`; its log goes to `log_path`."""

    def __init__(self, path: Path, log_path: Path) -> None:
        self.path = path
        self.log_path = log_path
        self.port = 0
        self.restarts = 0
        self._proc: asyncio.subprocess.Process | None = None
        self._stopping = False
        self._watcher: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs."""
        proc = self._proc
        return proc.pid if proc is not None and proc.returncode is None else None

    async def start(self) -> str:
        """Spawn the child and wait until it answers; its URL. Raises `StorageError`."""
        self.port = free_port()
        await self._spawn_ready()
        self._watcher = asyncio.create_task(self._watch(), name="chroma-child")
        return self.url

    async def stop(self) -> None:
        """SIGTERM (the server's clean stop; SIGINT only sets a flag its Python shell never
        reads), then SIGKILL if it has not gone in STOP_TIMEOUT_S."""
        self._stopping = True
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        proc = self._proc
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), STOP_TIMEOUT_S)
        except TimeoutError:
            log.warning("chroma child did not stop in %.0f s; killing it", STOP_TIMEOUT_S)
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()

    async def _spawn(self) -> asyncio.subprocess.Process:
        # Spawned from the event loop's thread: PDEATHSIG follows the thread that forked,
        # and the loop's thread lives as long as the service.
        self._rotate_log()
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "RUST_LOG": "warn"}
        out = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            self._proc = await asyncio.create_subprocess_exec(
                *chroma_command(self.path, self.port),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                env=env,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        finally:
            os.close(out)
        return self._proc

    async def _spawn_ready(self) -> None:
        proc = await self._spawn()
        deadline = time.monotonic() + START_TIMEOUT_S
        async with httpx.AsyncClient(timeout=1.0) as client:
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    answer = await client.get(f"{self.url}/api/v2/heartbeat")
                    if answer.status_code == 200:
                        log.info("chroma child %d serving %s at %s", proc.pid, self.path, self.url)
                        return
                if proc.returncode is not None or time.monotonic() > deadline:
                    if proc.returncode is None:
                        proc.kill()
                        await proc.wait()
                    raise StorageError(
                        f"the event store's Chroma process did not start"
                        f" (exit {proc.returncode}): {self._log_tail()}"
                    )
                await asyncio.sleep(0.1)

    async def _watch(self) -> None:
        """Start the child again whenever it exits, backing off while it keeps failing."""
        failures = 0
        while not self._stopping:
            proc = self._proc
            if proc is not None:
                code = await proc.wait()
                if self._stopping:
                    return
                tail = self._log_tail()
                log.error("chroma child exited with %s; starting it again: %s", code, tail)
            await asyncio.sleep(BACKOFF_S[min(failures, len(BACKOFF_S) - 1)])
            try:
                await self._spawn_ready()
            except (StorageError, OSError) as exc:
                failures += 1
                self._proc = None
                log.error("chroma child could not start again (attempt %d): %s", failures, exc)
                continue
            failures = 0
            self.restarts += 1

    def _rotate_log(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            if self.log_path.stat().st_size > LOG_MAX_BYTES:
                self.log_path.replace(self.log_path.with_name(self.log_path.name + ".1"))

    def _log_tail(self, lines: int = 8) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return " | ".join(line.strip() for line in text.splitlines()[-lines:] if line.strip())
