"""A server killed during a backup: what the backup left is cleared at the next start,
and the archive-verifying child process dies with the server instead of outliving it."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN
from tests.utils.server import ServerProcess

pytestmark = pytest.mark.slow


def children_running(parent: int, marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == parent and fields[0] != "Z" and marker in cmdline:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_kill_during_backup_leaves_nothing_running_or_behind(tmp_path: Path) -> None:
    data = tmp_path / "data"
    backups = data / "backups"
    backups.mkdir(parents=True)
    (backups / ".staging-hearth-20260101T000000Z.tar.gz").mkdir()
    (backups / ".staging-hearth-20260101T000000Z.tar.gz" / "state").mkdir()
    (backups / ".hearth-20260101T000000Z.tar.gz.tmp").write_bytes(b"half an archive")
    server = ServerProcess(data, token=ADMIN_TOKEN)
    verifier: list[int] = []
    try:
        server.start()
        assert sorted(p.name for p in backups.iterdir() if p.name.startswith(".")) == []

        with server.client() as c:
            assert c.put("/v1/mood", json={"mood": "calm"}).status_code == 200

        def backup() -> None:
            try:
                with server.client(timeout=120) as c:
                    c.post("/v1/backups")
            except httpx.HTTPError:
                pass  # the server is killed under it

        threading.Thread(target=backup, daemon=True).start()
        assert server.proc is not None
        deadline = time.monotonic() + 120
        while not verifier:
            assert time.monotonic() < deadline, "the verify child never started"
            verifier = children_running(server.proc.pid, "app.services.backup.verify")
            time.sleep(0.02)
        server.kill9()
        deadline = time.monotonic() + 10
        while alive(verifier[0]):
            assert time.monotonic() < deadline, "the verify child outlived the server"
            time.sleep(0.1)
    finally:
        server.stop()
        for pid in verifier:
            if alive(pid):
                os.kill(pid, 9)
