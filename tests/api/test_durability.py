"""Nothing lost: real server processes, real kill -9, corrupt files, a full disk."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.conftest import ADMIN_TOKEN, AUTH
from tests.utils.server import ServerProcess, run_cli

pytestmark = pytest.mark.slow


def _storm(server: ServerProcess, stop: threading.Event, acked: list[tuple[str, object]]) -> None:
    """Write until told to stop; remember only what got a 2xx."""
    n = 0
    with server.client(timeout=10) as c:
        while not stop.is_set():
            n += 1
            try:
                if n % 2:
                    body = {"mood": f"m{n}", "context": "storm", "updated_at": float(n)}
                    if c.put("/v1/mood", json=body).status_code == 200:
                        acked.append(("mood", n))
                else:
                    r = c.post("/v1/thoughts", json={"text": f"thought {n}", "id": f"t{n}"})
                    if r.status_code in (200, 201):
                        acked.append(("thought", f"t{n}"))
            except httpx.TransportError:
                return


def test_kill_9_loses_no_acknowledged_write(server: ServerProcess) -> None:
    server.start()
    stop = threading.Event()
    acked: list[tuple[str, object]] = []
    writers = [threading.Thread(target=_storm, args=(server, stop, acked)) for _ in range(4)]
    for w in writers:
        w.start()
    time.sleep(3)
    server.kill9()  # while the writers are still going
    stop.set()
    for w in writers:
        w.join()
    assert len(acked) > 20

    server.start()
    with server.client() as c:
        newest_mood = max(n for kind, n in acked if kind == "mood")
        assert c.get("/v1/mood").json()["updated_at"] >= newest_mood
        thought_ids = [v for kind, v in acked if kind == "thought"]
        for tid in thought_ids:
            assert c.get(f"/v1/events/{tid}").status_code == 200, tid
            # a replay after the crash is recognised, never a second copy
            r = c.post("/v1/thoughts", json={"text": "again", "id": tid})
            assert r.status_code == 200
        known = {i["id"] for i in c.get("/v1/thoughts", params={"limit": 500}).json()["items"]}
        assert set(thought_ids) <= known


def test_second_server_and_offline_command_are_refused(server: ServerProcess) -> None:
    server.start()
    second = ServerProcess(server.data_dir, token=ADMIN_TOKEN)
    proc = second.spawn()
    assert proc.wait(timeout=60) != 0
    message = second.log.read_text()
    assert "in use by pid" in message and str(server.proc.pid) in message  # type: ignore[union-attr]
    offline = run_cli("stats", data_dir=server.data_dir)
    assert offline.returncode != 0 and "in use by pid" in offline.stderr


def test_lock_is_released_by_kill_9(server: ServerProcess) -> None:
    server.start()
    server.kill9()
    stats = run_cli("stats", data_dir=server.data_dir)
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["mood"]["mood"] == "neutral"


def test_corrupt_mood_file_is_moved_aside_and_reported(settings: Settings) -> None:
    with TestClient(create_app(settings), headers=AUTH) as c:
        c.put("/v1/mood", json={"mood": "first", "updated_at": 1})
        c.put("/v1/mood", json={"mood": "second", "updated_at": 2})
    mood_file = settings.state_dir / "current_mood.txt"
    mood_file.write_text('{"mood": "sec')  # torn by some outside tool
    with TestClient(create_app(settings), headers=AUTH) as c:
        # the .bak copy, then the newest mood event over it: the acknowledged "second"
        assert c.get("/v1/mood").json()["mood"] == "second"
        warnings = c.get("/v1/status").json()["warnings"]
        assert any("current_mood.txt was corrupt" in w for w in warnings)
        assert c.get("/health").status_code == 200
    aside = list(settings.state_dir.glob("current_mood.txt.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_text() == '{"mood": "sec'


def test_wrongly_shaped_blog_cache_falls_back_to_default(settings: Settings) -> None:
    settings.state_dir.mkdir(parents=True)
    (settings.state_dir / "blog_cache.json").write_text('{"not": "a list"}')
    with TestClient(create_app(settings), headers=AUTH) as c:
        assert c.get("/v1/blog/posts").json() == {"items": []}
        assert any("blog_cache.json" in w for w in c.get("/v1/status").json()["warnings"])
    assert json.loads((settings.state_dir / "blog_cache.json").read_text()) == []


@contextmanager
def tiny_disk(path: Path, size: str) -> Iterator[Path]:
    """Mount a small tmpfs at `path`, so the disk really fills up."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.fixture
def tiny_state_disk(settings: Settings) -> Iterator[Path]:
    with tiny_disk(settings.state_dir, "512k") as path:
        yield path


def test_backup_to_a_full_disk_is_507_and_keeps_nothing_half_written(tmp_path: Path) -> None:
    from tests.conftest import make_settings

    with tiny_disk(tmp_path / "backups", "256k") as backups:
        settings = make_settings(tmp_path / "data", backup_dir=backups)
        with TestClient(create_app(settings), headers=AUTH) as c:
            c.put("/v1/mood", json={"mood": "big enough"})
            r = c.post("/v1/backups")
            assert r.status_code == 507, r.text
            assert c.get("/v1/backups").json() == {"items": []}
            assert c.get("/health").status_code == 200  # the data disk is fine
        assert not [p for p in backups.iterdir() if p.name.endswith(".tar.gz")]


def test_full_disk_gives_507_and_keeps_the_old_file(
    settings: Settings, tiny_state_disk: Path
) -> None:
    with TestClient(create_app(settings), headers=AUTH) as c:
        assert c.put("/v1/mood", json={"mood": "before", "updated_at": 1}).status_code == 200
        c.portal.call(c.app.state.runtime.events.flush)  # type: ignore[union-attr]
        # The mood file is written behind the journal: let that write land before filling.
        c.portal.call(c.app.state.runtime.state.drain)  # type: ignore[union-attr]
        filler = tiny_state_disk / "filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while os.write(fd, b"\0" * 4096):
                pass
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
        finally:
            os.close(fd)
        r = c.put("/v1/mood", json={"mood": "after", "updated_at": 2, "context": "x" * 1500})
        assert r.status_code == 507, r.text
        assert c.get("/v1/mood").json()["mood"] == "before"
        t = c.post("/v1/thoughts", json={"text": "y" * 3000, "id": "lost"})
        assert t.status_code == 507
        mood = json.loads((tiny_state_disk / "current_mood.txt").read_text())
        assert mood["mood"] == "before"
        filler.unlink()
        assert c.put("/v1/mood", json={"mood": "after", "updated_at": 2}).status_code == 200
        assert c.post("/v1/thoughts", json={"text": "ok", "id": "lost"}).status_code == 201
