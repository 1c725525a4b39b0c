"""Jobs, the blog, backups and export over HTTP, against a real local blog server."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.conftest import AUTH, make_settings
from tests.utils.blog_server import BlogHandler


@pytest.fixture
def blog_client(data_dir: Path, blog_url: str) -> Iterator[TestClient]:
    settings = make_settings(data_dir, blog_urls=[blog_url], scrape_delay_s=0)
    with TestClient(create_app(settings), headers=AUTH) as c:
        _wait_job(c, "scrape_blog")  # the first scrape runs at start (never run before)
        yield c


def _wait_job(c: TestClient, name: str, run_id: str | None = None) -> dict[str, object]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = next(j for j in c.get("/v1/jobs").json()["jobs"] if j["name"] == name)
        last = job["last_run"]
        if last and last["status"] != "running" and (run_id is None or last["run_id"] == run_id):
            return job
        time.sleep(0.1)
    raise AssertionError(f"{name} did not finish")


def test_jobs_are_listed_with_next_runs(client: TestClient) -> None:
    jobs = {j["name"]: j for j in client.get("/v1/jobs").json()["jobs"]}
    assert {"scrape_blog", "retention_cleanup", "backup"} <= set(jobs)
    assert jobs["backup"]["next_run_at"] > time.time()
    assert client.get("/v1/status").json()["jobs"]
    assert client.post("/v1/jobs/nope/run").status_code == 404


def test_blog_scrape_fills_cache_thoughts_text_and_search(
    blog_client: TestClient, data_dir: Path
) -> None:
    c = blog_client
    [post] = c.get("/v1/blog/posts").json()["items"]
    assert post["title"] == "Walking in the rain"
    assert post["url"].endswith("/rain.html") and post["published_at"] > 0
    assert "rain" in post["summary"] and len(post["summary"]) <= 600
    for clutter in ("SECRET-TRACKER", "Sidebar", "buy my pills", "Copyright", "Archive"):
        assert clutter not in post["summary"]
    cache = json.loads((data_dir / "state" / "blog_cache.json").read_text())
    assert cache[0]["title"] == "Walking in the rain" and "buy my pills" not in cache[0]["body"]
    text = (data_dir / "state" / "recent_thoughts.txt").read_text()
    assert "Walking in the rain" in text
    hits = c.get("/v1/search", params={"q": "a stroll in bad weather", "type": "blog"}).json()
    assert hits["results"][0]["metadata"]["url"].endswith("/rain.html")


def test_refresh_is_202_and_409_while_running(blog_client: TestClient) -> None:
    BlogHandler.slow.set()
    r = blog_client.post("/v1/blog/refresh")
    assert r.status_code == 202
    assert blog_client.post("/v1/blog/refresh").status_code == 409
    assert blog_client.post("/v1/jobs/scrape_blog/run").status_code == 409
    job = _wait_job(blog_client, "scrape_blog", r.json()["run_id"])
    assert job["last_run"]["status"] == "ok"  # type: ignore[index]


def test_backup_route_answers_once_verified(client: TestClient, data_dir: Path) -> None:
    client.put("/v1/mood", json={"mood": "safe"})
    r = client.post("/v1/backups")
    assert r.status_code == 201, r.text
    item = r.json()
    assert item["verified"] is True and item["size_bytes"] > 0
    assert (data_dir / "backups" / item["name"]).is_file()
    listed = client.get("/v1/backups").json()["items"]
    assert listed[0]["name"] == item["name"] and listed[0]["verified"] is True
    assert client.get("/v1/status").json()["backups"]["count"] == 1


def test_export_streams_ndjson_with_state_and_vectors(client: TestClient) -> None:
    client.post("/v1/events", json={"events": [{"type": "note", "text": "exported"}]})
    client.put("/v1/mood", json={"mood": "exporting"})
    with client.stream("GET", "/v1/export") as r:
        assert r.status_code == 200
        lines = [json.loads(line) for line in r.iter_lines() if line]
    assert lines[0]["kind"] == "header" and lines[0]["embedder"]
    states = {line["name"]: line for line in lines if line["kind"] == "state"}
    assert "exporting" in states["current_mood.txt"]["content"]
    events = [line for line in lines if line["kind"] == "event"]
    assert any(e["text"] == "exported" and len(e["embedding"]) == 384 for e in events)


def test_a_stray_file_in_backups_breaks_nothing(client: TestClient, data_dir: Path) -> None:
    backups = data_dir / "backups"
    backups.mkdir(exist_ok=True)
    (backups / "hearth-20261399T000000Z.tar.gz").write_bytes(b"not ours")
    assert client.get("/v1/backups").json() == {"items": []}
    assert client.get("/v1/status").status_code == 200
    assert client.get("/metrics").status_code == 200
