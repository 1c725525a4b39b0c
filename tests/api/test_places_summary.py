"""The daily summary of places over HTTP: fixes posted as Overland and OwnTracks send them,
the job run by POST /v1/jobs/{name}/run, the summary found by /v1/events and search."""

from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN
from tests.utils.apps import OT_TRANSITION, overland_feature
from tests.utils.server import ServerProcess

pytestmark = pytest.mark.slow
TZ = ZoneInfo("Europe/Berlin")
HOME, OFFICE = (52.52000, 13.40500), (52.53350, 13.40500)  # 1.5 km apart
JOB = "places_summary"


def track(day: date) -> list[dict]:
    """Home until 07:00, a 20 min walk, the office 07:30-16:00, home again from 16:30."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=TZ).timestamp()
    points: list[tuple[float, tuple[float, float]]] = []
    for a, b, where in ((0, 7, HOME), (7.5, 16, OFFICE), (16.5, 23.9, HOME)):
        points += [(start + s, where) for s in range(int(a * 3600), int(b * 3600), 300)]
    for leave, frm, to in ((7, HOME, OFFICE), (16, OFFICE, HOME)):
        for i in range(1, 120):  # every 10 s
            f = i / 120
            where = (frm[0] + (to[0] - frm[0]) * f, frm[1] + (to[1] - frm[1]) * f)
            points.append((start + leave * 3600 + i * 10, where))
    return [
        overland_feature(
            coordinates=[lon, lat],
            timestamp=datetime.fromtimestamp(ts, TZ).isoformat(),
            horizontal_accuracy=10,
            device_id="iphone",
        )
        for ts, (lat, lon) in sorted(points)
    ]


def transition(day: date, hour: int, name: str, where: tuple[float, float]) -> str:
    msg = json.loads(OT_TRANSITION)
    tst = datetime.combine(day, datetime.min.time(), tzinfo=TZ) + timedelta(hours=hour)
    msg.update(desc=name, lat=where[0], lon=where[1], tst=int(tst.timestamp()))
    return json.dumps(msg)


def run_job(client: httpx.Client) -> dict:
    got = client.post(f"/v1/jobs/{JOB}/run")
    assert got.status_code == 202, got.text
    run_id = got.json()["run_id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = next(j for j in client.get("/v1/jobs").json()["jobs"] if j["name"] == JOB)
        last = job["last_run"]
        if last and last["run_id"] == run_id and last["status"] != "running":
            assert last["status"] == "ok", last
            return last["stats"]  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError("the places summary did not finish")


def test_a_past_day_of_fixes_becomes_one_searchable_place_event(tmp_path) -> None:  # noqa: ANN001
    proc = ServerProcess(tmp_path / "data", token=ADMIN_TOKEN, HEARTH_TZ="Europe/Berlin")
    day = datetime.now(TZ).date() - timedelta(days=3)  # yesterday has no fixes
    day_id = f"places-day-{day.isoformat()}"
    try:
        with proc.start().client() as client:
            [job] = [j for j in client.get("/v1/jobs").json()["jobs"] if j["name"] == JOB]
            nxt = datetime.fromtimestamp(job["next_run_at"], TZ)
            assert (nxt.hour, nxt.minute) == (0, 20)
            features = track(day)
            for first in range(0, len(features), 1000):
                got = client.post(
                    "/v1/ingest/overland", json={"locations": features[first : first + 1000]}
                )
                assert got.json()["saved"] == len(features[first : first + 1000])
            for hour, name, where in ((6, "Home", HOME), (8, "Office", OFFICE)):
                got = client.post(
                    "/v1/ingest/owntracks", content=transition(day, hour, name, where)
                )
                assert (got.status_code, got.content) == (200, b"[]")

            stats = run_job(client)
            assert stats["days"] == [day.isoformat()] and stats["fixes"] == len(features)
            again = run_job(client)  # a rerun replaces the same event: never a second one
            assert again["days"] == [] or again["days"] == [day.isoformat()]

            places = client.get("/v1/events", params={"type": "place", "limit": 500}).json()
            summaries = [e for e in places["items"] if e["id"].startswith("places-day-")]
            assert [e["id"] for e in summaries] == [day_id]
            [event] = summaries
            head = f"Places on {day:%A} {day.day} {day:%B %Y}: Home "
            assert event["text"].startswith(head), event["text"]
            assert ", Office 8 h " in event["text"] and "(walked 3.0 km)" in event["text"]
            assert event["metadata"]["date"] == day.isoformat()
            assert client.get(f"/v1/events/{day_id}").json()["text"] == event["text"]

            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:  # embedded a moment after the job's write
                found = client.get(
                    "/v1/search", params={"q": f"places on {day:%A}: home, office, walked"}
                ).json()["results"]
                if found and found[0]["id"] == day_id:
                    break
                time.sleep(0.3)
            assert found[0]["id"] == day_id, found
    finally:
        proc.stop()
