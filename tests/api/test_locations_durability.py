"""Location fixes survive what events survive: kill -9, backup and restore, export and
import; retention removes them like any type. Real server process, real archive."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest

from app.services.backup.restore import restore
from app.storage.gate import WriteGate
from app.storage.locations import Fix, LocationStore, Region
from tests.conftest import ADMIN_TOKEN
from tests.utils.apps import OT_WAYPOINT, overland_feature
from tests.utils.server import ServerProcess, run_cli

pytestmark = pytest.mark.slow
DAY = 86400


def iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def batch(device: str, start: float, n: int, step: float = 10) -> dict[str, object]:
    return {
        "locations": [
            overland_feature(device_id=device, timestamp=iso(start + i * step)) for i in range(n)
        ]
    }


def stored(data_dir: Path) -> dict[str, int]:
    """Fixes per device, read straight from the store file."""
    fixes, _ = read_store(data_dir)
    counts: dict[str, int] = {}
    for fix in fixes:
        counts[fix.device] = counts.get(fix.device, 0) + 1
    return counts


def read_store(data_dir: Path) -> tuple[list[Fix], list[Region]]:
    async def read() -> tuple[list[Fix], list[Region]]:
        store = await LocationStore.open(data_dir / "state" / "locations.sqlite3", WriteGate())
        try:
            fixes, _ = await store.page(limit=100_000)
            return fixes, store.regions()
        finally:
            store.close()

    return anyio.run(read)


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("fixes") / "data"
    proc = ServerProcess(data, token=ADMIN_TOKEN, HEARTH_RETENTION_BY_TYPE="location=30")
    try:
        proc.start()
        yield proc
    finally:
        proc.stop()


def post(srv: ServerProcess, body: dict[str, object]) -> httpx.Response:
    with srv.client() as client:
        return client.post("/v1/ingest/overland", json=body)


def test_backup_and_restore_carry_the_fixes(srv: ServerProcess, tmp_path: Path) -> None:
    now = time.time()
    assert post(srv, batch("old", now - 60 * DAY, 40)).json()["saved"] == 40
    assert post(srv, batch("new", now - DAY, 25)).json()["saved"] == 25
    with srv.client(timeout=600) as client:
        made = client.post("/v1/backups")
    assert made.status_code == 201, made.text
    archive = srv.data_dir / "backups" / made.json()["name"]
    target = tmp_path / "restored"
    restore(archive, target, progress=lambda _m: None)
    assert stored(target) == {"old": 40, "new": 25}


def test_export_and_import_carry_the_fixes(srv: ServerProcess, tmp_path: Path) -> None:
    with srv.client() as client:
        sent = client.post("/v1/ingest/owntracks", content=OT_WAYPOINT, headers={"X-Limit-D": "p"})
        assert (sent.status_code, sent.content) == (200, b"[]")
    export = tmp_path / "export.ndjson"
    with srv.client(timeout=300) as client, client.stream("GET", "/v1/export") as got:
        assert got.status_code == 200
        export.write_bytes(b"".join(got.iter_bytes()))
    lines = [json.loads(line) for line in export.read_text().splitlines()]
    fixes = [line for line in lines if line["kind"] == "location"]
    assert len(fixes) == 65 and lines[0]["locations"] == 65
    assert set(fixes[0]) >= {"device", "timestamp", "lat", "lon"}
    target = tmp_path / "imported"
    for _ in range(2):  # a second import stores nothing new
        done = run_cli("import", str(export), data_dir=target, timeout=600)
        assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["locations"], result["locations_created"], result["regions"]) == (65, 0, 1)
    assert stored(target) == {"old": 40, "new": 25}
    name = "My favorite coffee shop (Delaville)"
    home = Region("p", "tst:1385997757", name, 48.87069, 2.34916, 50, 1385997757.0)
    assert read_store(target)[1] == [home]


def test_retention_deletes_fixes_older_than_the_type_rule(srv: ServerProcess) -> None:
    with srv.client() as client:
        run = client.post("/v1/jobs/retention_cleanup/run")
        assert run.status_code == 202
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            jobs = {j["name"]: j for j in client.get("/v1/jobs").json()["jobs"]}
            last = jobs["retention_cleanup"]["last_run"]
            if last and last["run_id"] == run.json()["run_id"] and last["status"] != "running":
                break
            time.sleep(0.2)
        assert last["status"] == "ok", last
        left = client.get("/v1/locations", params={"format": "json", "limit": 1000}).json()
    assert last["stats"]["deleted"] == 40
    assert {f["device"] for f in left["items"]} == {"new"}


def test_kill_9_right_after_the_answer_keeps_the_fixes(srv: ServerProcess) -> None:
    stop = threading.Event()
    acked: list[int] = []

    def storm(worker: int) -> None:
        start = time.time() - 3600 + worker * 1000
        n = 0
        with srv.client(timeout=10) as client:
            while not stop.is_set():
                body = batch(f"storm{worker}", start + n * 100, 50, step=1)
                try:
                    got = client.post("/v1/ingest/overland", json=body)
                except httpx.TransportError:
                    return
                if got.status_code == 200:
                    acked.append(worker * 10**6 + n)
                n += 1

    workers = [threading.Thread(target=storm, args=(w,)) for w in range(3)]
    for w in workers:
        w.start()
    time.sleep(3)
    srv.kill9()
    stop.set()
    for w in workers:
        w.join()
    assert len(acked) > 5
    counts = stored(srv.data_dir)  # a fresh connection replays the WAL, as a restart would
    for worker in range(3):
        answered = sum(1 for a in acked if a // 10**6 == worker)
        assert counts.get(f"storm{worker}", 0) >= 50 * answered
