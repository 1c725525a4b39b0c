"""Offline commands on a real data dir: stats, cleanup --dry-run, reindex."""

from __future__ import annotations

import json
import time
from pathlib import Path

from fastapi.testclient import TestClient

from app.main import create_app
from tests.conftest import AUTH, make_settings
from tests.utils.server import run_cli

DAY = 86400.0


def _seed(data_dir: Path) -> None:
    now = time.time()
    events = [
        {"type": "location", "text": "old place", "timestamp": now - 40 * DAY},
        {"type": "location", "text": "new place", "timestamp": now - DAY},
        {"type": "note", "text": "old note", "timestamp": now - 400 * DAY},
        {"type": "mood", "text": "old mood", "timestamp": now - 400 * DAY},
    ]
    with TestClient(create_app(make_settings(data_dir)), headers=AUTH) as c:
        assert c.post("/v1/events", json={"events": events}).status_code == 200


def _stats(data_dir: Path) -> dict[str, object]:
    result = run_cli("stats", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_stats_cleanup_dry_run_and_real_run(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _seed(data)
    assert _stats(data)["events"] == {
        "total": 4,
        "by_type": {"location": 2, "note": 1, "mood": 1},
    }
    rules = {"HEARTH_RETENTION_DAYS": "365", "HEARTH_RETENTION_BY_TYPE": "location=30,mood=0"}
    dry = run_cli("cleanup", "--dry-run", data_dir=data, **rules)
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["deleted"] == 2  # old location, old note; mood kept forever
    assert _stats(data)["events"]["total"] == 4  # type: ignore[index]
    real = run_cli("cleanup", data_dir=data, **rules)
    assert json.loads(real.stdout)["deleted"] == 2
    assert _stats(data)["events"] == {"total": 2, "by_type": {"location": 1, "mood": 1}}


def test_reindex_keeps_every_event_searchable(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _seed(data)
    result = run_cli("reindex", data_dir=data, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "re-embedded 4 events" in result.stdout
    with TestClient(create_app(make_settings(data)), headers=AUTH) as c:
        hits = c.get("/v1/search", params={"q": "a note from long ago", "type": "note"}).json()
        assert hits["results"][0]["text"] == "old note"
        assert c.get("/v1/status").json()["events"]["total"] == 4


def test_scrape_command_runs_and_records_the_job(tmp_path: Path, blog_url: str) -> None:
    data = tmp_path / "data"
    result = run_cli("scrape", data_dir=data, HEARTH_BLOG_URLS=blog_url, HEARTH_SCRAPE_DELAY_S="0")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["status"] == "ok" and record["stats"]["new"] == 1
    cache = json.loads((data / "state" / "blog_cache.json").read_text())
    assert cache[0]["title"] == "Walking in the rain"
    runs = json.loads((data / "state" / "jobs.json").read_text())
    assert record["run_id"] in json.dumps(runs)
