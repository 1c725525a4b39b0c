"""/metrics is Prometheus text a Prometheus server reads right: parsed with its own parser."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from app.main import create_app
from tests.conftest import AUTH, make_settings


def scrape(client: TestClient) -> dict[str, Metric]:
    r = client.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=")
    families = list(text_string_to_metric_families(r.text))
    by_name = {f.name: f for f in families}
    assert len(by_name) == len(families), "a family is published twice"
    return by_name


def samples(family: Metric, label: str) -> dict[str, float]:
    return {s.labels[label]: s.value for s in family.samples if label in s.labels}


def _wait_job(client: TestClient, name: str, run_id: str) -> dict[str, object]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = next(j for j in client.get("/v1/jobs").json()["jobs"] if j["name"] == name)
        last = job["last_run"]
        if last and last["run_id"] == run_id and last["status"] != "running":
            return dict(job)
        time.sleep(0.05)
    raise AssertionError(f"{name} did not finish")


def test_needs_the_token(client: TestClient) -> None:
    assert client.get("/metrics", headers={"Authorization": ""}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_process_metrics_types_and_counter_names(client: TestClient) -> None:
    fams = scrape(client)
    assert fams["process_resident_memory_bytes"].type == "gauge"
    assert fams["process_resident_memory_bytes"].samples[0].value > 0
    assert fams["python_info"].type == "gauge"
    cpu = fams["process_cpu_seconds"]
    assert cpu.type == "counter"
    assert all(s.name == "process_cpu_seconds_total" for s in cpu.samples)
    assert fams["hearth_uptime_seconds"].type == "gauge"
    assert fams["hearth_uptime_seconds"].samples[0].value >= 0


def test_events_by_type_and_total(client: TestClient) -> None:
    batch = [{"type": "note", "text": f"note {i}"} for i in range(3)]
    batch.append({"type": "walk", "text": "around the lake"})
    assert client.post("/v1/events", json={"events": batch}).status_code == 200
    fams = scrape(client)
    assert fams["hearth_events"].type == "gauge"
    by_type = samples(fams["hearth_events"], "type")
    assert by_type["note"] == 3 and by_type["walk"] == 1
    assert fams["hearth_events_stored"].samples[0].value == sum(by_type.values())


def test_request_histogram_uses_route_templates(client: TestClient) -> None:
    [event_id] = client.post("/v1/events", json={"events": [{"type": "t", "text": "x"}]}).json()[
        "ids"
    ]
    assert client.get(f"/v1/events/{event_id}").status_code == 200
    assert client.get("/v1/events/no-such-event").status_code == 404
    assert client.get("/nowhere/at/all").status_code == 404
    assert client.get("/v1/state").status_code == 200  # answered in front of the router
    fams = scrape(client)
    hist = fams["hearth_http_request_duration_seconds"]
    assert hist.type == "histogram"
    counts = {
        (s.labels["method"], s.labels["route"], s.labels["status"]): s.value
        for s in hist.samples
        if s.name.endswith("_count")
    }
    assert counts[("GET", "/v1/events/{event_id}", "2xx")] == 1
    assert counts[("GET", "/v1/events/{event_id}", "4xx")] == 1
    assert counts[("POST", "/v1/events", "2xx")] == 1
    assert counts[("GET", "unmatched", "4xx")] == 1
    assert counts[("GET", "/v1/state", "2xx")] == 1
    routes = {route for _m, route, _s in counts}
    assert event_id not in " ".join(routes) and "/nowhere/at/all" not in routes
    buckets = [s for s in hist.samples if s.name.endswith("_bucket")]
    assert buckets and all("le" in s.labels for s in buckets)


def test_job_success_and_failure_times(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the backups directory should be")
    settings = make_settings(tmp_path / "data", backup_dir=blocker)
    with TestClient(create_app(settings), headers=AUTH) as client:
        fams = scrape(client)
        assert samples(fams["hearth_job_last_failure_timestamp_seconds"], "job") == {}
        failed = client.post("/v1/jobs/backup/run").json()["run_id"]
        ok = client.post("/v1/jobs/retention_cleanup/run").json()["run_id"]
        backup = _wait_job(client, "backup", failed)
        cleanup = _wait_job(client, "retention_cleanup", ok)
        fams = scrape(client)
    assert backup["last_run"]["status"] == "error"  # type: ignore[index]
    assert cleanup["last_run"]["status"] == "ok"  # type: ignore[index]
    success = fams["hearth_job_last_success_timestamp_seconds"]
    failure = fams["hearth_job_last_failure_timestamp_seconds"]
    assert success.type == failure.type == "gauge"
    assert samples(success, "job")["retention_cleanup"] == cleanup["last_success_at"]
    assert samples(failure, "job")["backup"] == backup["last_failure_at"]
    assert "backup" not in samples(success, "job")
    assert abs(samples(failure, "job")["backup"] - time.time()) < 120


def test_newest_verified_backup_time(client: TestClient) -> None:
    fams = scrape(client)
    assert fams["hearth_backup_newest_verified_timestamp_seconds"].samples == []
    assert fams["hearth_backups"].samples[0].value == 0
    r = client.post("/v1/backups")
    assert r.status_code == 201, r.text
    fams = scrape(client)
    [newest] = fams["hearth_backup_newest_verified_timestamp_seconds"].samples
    assert newest.value == r.json()["created_at"]
    assert fams["hearth_backups"].samples[0].value == 1


def test_two_apps_in_one_process_keep_their_own_metrics(tmp_path: Path) -> None:
    one = make_settings(tmp_path / "one")
    two = make_settings(tmp_path / "two")
    with (
        TestClient(create_app(one), headers=AUTH) as a,
        TestClient(create_app(two), headers=AUTH) as b,
    ):
        for _ in range(3):
            a.get("/v1/status")
        hist_b = scrape(b)["hearth_http_request_duration_seconds"]
        assert not [s for s in hist_b.samples if s.labels.get("route") == "/v1/status"]
