"""Backups end to end: the real server under a write storm, the real CLI restoring."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN
from tests.utils.archives import flip_a_data_byte
from tests.utils.server import ServerProcess, run_cli

pytestmark = pytest.mark.slow


def _writer(server: ServerProcess, stop: threading.Event, acked: list[str], tag: str) -> None:
    n = 0
    with server.client(timeout=20) as c:
        while not stop.is_set():
            n += 1
            eid = f"{tag}-{n}"
            try:
                r = c.post(
                    "/v1/events",
                    json={"events": [{"id": eid, "type": "storm", "text": f"storm event {eid}"}]},
                )
            except httpx.TransportError:
                return
            if r.status_code == 200:
                acked.append(eid)


def test_backup_during_storm_restores_with_the_cli(server: ServerProcess, tmp_path: Path) -> None:
    server.start()
    stop = threading.Event()
    acked: list[str] = []
    writers = [
        threading.Thread(target=_writer, args=(server, stop, acked, f"w{i}")) for i in range(2)
    ]
    for w in writers:
        w.start()
    with server.client(timeout=120) as c:
        while len(acked) < 10:
            threading.Event().wait(0.05)
        c.put("/v1/mood", json={"mood": "backed-up", "updated_at": 50})
        before_backup = list(acked)
        r = c.post("/v1/backups")
        assert r.status_code == 201, r.text
        item = r.json()
    stop.set()
    for w in writers:
        w.join()
    assert item["verified"] is True
    archive = server.data_dir / "backups" / item["name"]

    # The CLI refuses to restore over a data dir a server holds.
    refused = run_cli("restore", str(archive), data_dir=server.data_dir)
    assert refused.returncode != 0 and "in use by pid" in refused.stderr
    server.stop()

    target = tmp_path / "restored"
    restored = run_cli("restore", str(archive), data_dir=target, timeout=300)
    assert restored.returncode == 0, restored.stderr
    assert isinstance(json.loads(restored.stdout), dict)  # only the JSON result on stdout
    assert "checking and extracting" in restored.stderr  # progress goes to stderr
    fresh = ServerProcess(target, token=ADMIN_TOKEN)
    fresh.start()
    try:
        with fresh.client() as c:
            for eid in before_backup:
                assert c.get(f"/v1/events/{eid}").status_code == 200, eid
            total = c.get("/v1/status").json()["events"]["by_type"]["storm"]
            assert total <= len(acked)  # nothing that was never sent
            assert c.get("/v1/mood").json()["mood"] == "backed-up"
    finally:
        fresh.stop()


def test_flipped_byte_archive_is_refused_and_data_untouched(
    server: ServerProcess, tmp_path: Path
) -> None:
    server.start()
    with server.client(timeout=120) as c:
        c.put("/v1/mood", json={"mood": "original", "updated_at": 5})
        item = c.post("/v1/backups").json()
    server.stop()
    archive = server.data_dir / "backups" / item["name"]
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(flip_a_data_byte(archive.read_bytes()))
    mood_before = (server.data_dir / "state" / "current_mood.txt").read_bytes()
    result = run_cli("restore", str(broken), data_dir=server.data_dir)
    assert result.returncode != 0
    assert "checksum" in result.stderr.lower() or "corrupt" in result.stderr.lower()
    assert (server.data_dir / "state" / "current_mood.txt").read_bytes() == mood_before


def test_export_then_import_into_an_empty_install(server: ServerProcess, tmp_path: Path) -> None:
    server.start()
    with server.client(timeout=60) as c:
        c.post(
            "/v1/events",
            json={
                "events": [
                    {"id": "a", "type": "note", "text": "planted tomatoes in the garden"},
                    {"id": "b", "type": "note", "text": "fixed the bike's flat tyre"},
                ]
            },
        )
        c.put("/v1/mood", json={"mood": "green", "updated_at": 9})
        expected = c.get("/v1/search", params={"q": "gardening", "type": "note"}).json()["results"]
    server.stop()
    dump = tmp_path / "dump.ndjson"
    exported = run_cli("export", str(dump), data_dir=server.data_dir)
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["lines"] == len(dump.read_text().splitlines())
    header = json.loads(dump.read_text().splitlines()[0])
    assert header["kind"] == "header"

    target = tmp_path / "new"
    for _ in range(2):  # the second import is a no-op
        imported = run_cli("import", str(dump), data_dir=target)
        assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["created"] == 0
    fresh = ServerProcess(target, token=ADMIN_TOKEN)
    fresh.start()
    try:
        with fresh.client() as c:
            assert c.get("/v1/mood").json()["mood"] == "green"
            got = c.get("/v1/search", params={"q": "gardening", "type": "note"}).json()["results"]
            assert [h["id"] for h in got] == [h["id"] for h in expected]
    finally:
        fresh.stop()
