"""Health Auto Export's REST body, as its documentation shows it, against a real server."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN
from tests.utils.server import ServerProcess

pytestmark = pytest.mark.slow

URL = "/v1/ingest/health-auto-export"
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "health_auto_export.json"
LA = ZoneInfo("America/Los_Angeles")


@pytest.fixture(scope="module")
def hae(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = ServerProcess(
        tmp_path_factory.mktemp("hae") / "data", token=ADMIN_TOKEN, HEARTH_TZ="Europe/Berlin"
    )
    try:
        yield server.start()
    finally:
        server.stop()


def hae_date(ts: float) -> str:
    return datetime.fromtimestamp(ts, LA).strftime("%Y-%m-%d %H:%M:%S %z")


def epoch(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z").timestamp()


def state_of_mind(entry_id: str, at: float, labels: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "id": entry_id,
        "start": hae_date(at),
        "end": hae_date(at + 60),
        "kind": "momentaryEmotion",
        "labels": labels,
        "associations": extra.pop("associations", []),
        "valence": extra.pop("valence", 0.5),
        "valenceClassification": 1,
        **extra,
    }


def post(c: httpx.Client, body: dict[str, Any] | bytes) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return c.post(URL, content=content, headers={"Content-Type": "application/json"})


def history(c: httpx.Client, since: float) -> list[dict[str, Any]]:
    return c.get("/v1/mood/history", params={"since": since, "limit": 500}).json()["items"]


def test_documented_body_stores_moods_and_health_and_a_resend_stores_nothing(
    hae: ServerProcess,
) -> None:
    body = FIXTURE.read_bytes()
    with hae.client() as c:
        r = post(c, body)
        assert r.status_code == 200, r.text
        answer = r.json()
        assert answer["moods"] == {"received": 2, "created": 2, "updated": 0, "duplicates": 0}
        assert answer["health"] == {"received": 6, "created": 6, "updated": 0, "duplicates": 0}
        assert (answer["skipped"], answer["ignored"]) == (0, {"workouts": 1})

        calm = c.get("/v1/events/mood-hae-550e8400-e29b-41d4-a716-446655440000").json()
        assert calm["timestamp"] == epoch("2024-02-05 14:00:00 -0800")
        assert calm["metadata"]["mood"] == "calm"  # first label, lower-case
        assert calm["metadata"]["context"] == "Work, Productive"
        assert calm["metadata"]["valence"] == 0.7
        assert calm["metadata"]["source"] == "health-auto-export"
        moods = history(c, since=epoch("2024-02-05 00:00:00 -0800"))
        assert {"mood": "calm", "context": "Work, Productive", "updated_at": calm["timestamp"]} in (
            moods
        )
        no_label = c.get("/v1/events/mood-hae-8F14E45F-CEEA-467A-9A36-DEDD4BEA2543").json()
        assert no_label["metadata"]["mood"] == "slightly unpleasant"  # its classification

        day = epoch("2024-02-05 00:00:00 -0800")
        steps = c.get(f"/v1/events/health:step_count:{day:.0f}").json()
        assert steps["type"] == "health"
        assert steps["text"] == "step_count 8123 count on 2024-02-05"
        assert steps["metadata"] == {
            "name": "step_count",
            "qty": 8123,
            "units": "count",
            "source": "Apple Watch|iPhone",
        }
        hr_at = epoch("2024-02-05 08:00:00 -0800")
        heart = c.get(f"/v1/events/health:heart_rate:{hr_at:.0f}").json()
        assert {k: heart["metadata"][k] for k in ("min", "avg", "max")} == {
            "min": 58,
            "avg": 72.4,
            "max": 121,
        }
        twelve_hour = epoch("2024-02-06 07:57:00 -0800")  # sent as "7:57:00\u202fam -0800"
        assert c.get(f"/v1/events/health:active_energy:{twelve_hour:.0f}").status_code == 200

        again = post(c, body).json()
        assert again["moods"] == {"received": 2, "created": 0, "updated": 0, "duplicates": 2}
        assert again["health"] == {"received": 6, "created": 0, "updated": 0, "duplicates": 6}
        listed = c.get("/v1/events", params={"type": "health", "limit": 500}).json()["items"]
        assert len([e for e in listed if e["timestamp"] < epoch("2024-02-07 00:00:00 -0800")]) == 6


def test_a_changed_entry_under_its_id_replaces_the_old_copy(hae: ServerProcess) -> None:
    now = float(int(time.time()))
    day = now - 3 * 86400
    steps = {"name": "step_count", "units": "count", "data": [{"date": hae_date(day), "qty": 400}]}
    entry = state_of_mind("edited-entry", now - 2 * 86400, ["Tired"])
    with hae.client() as c:
        first = post(c, {"data": {"stateOfMind": [entry], "metrics": [steps]}}).json()
        assert (first["moods"]["created"], first["health"]["created"]) == (1, 1)
        steps["data"][0]["qty"] = 6400  # the day went on: the app resends a bigger count
        entry["labels"] = ["Content"]  # and the entry was edited in Health
        second = post(c, {"data": {"stateOfMind": [entry], "metrics": [steps]}}).json()
        assert second["moods"] == {"received": 1, "created": 0, "updated": 1, "duplicates": 0}
        assert second["health"] == {"received": 1, "created": 0, "updated": 1, "duplicates": 0}
        got = c.get(f"/v1/events/health:step_count:{day:.0f}").json()
        assert got["metadata"]["qty"] == 6400 and "6400" in got["text"]
        mine = [
            m for m in history(c, since=now - 2 * 86400 - 1) if m["updated_at"] == now - 2 * 86400
        ]
        assert [m["mood"] for m in mine] == ["content"]


def test_insights_follow_an_entry_relabelled_under_its_id_and_time(hae: ServerProcess) -> None:
    at = float(int(time.time())) - 4 * 86400
    window = {"since": at - 1, "until": at + 1}
    with hae.client() as c:
        assert post(c, {"data": {"stateOfMind": [state_of_mind("relabel", at, ["Happy"])]}})
        first = c.get("/v1/insights/mood", params=window).json()
        assert [d["moods"] for d in first["days"]] == [{"happy": 1}] and first["average"] == 4
        again = post(c, {"data": {"stateOfMind": [state_of_mind("relabel", at, ["Sad"])]}})
        assert again.json()["moods"]["updated"] == 1
        second = c.get("/v1/insights/mood", params=window).json()
        assert [d["moods"] for d in second["days"]] == [{"sad": 1}] and second["average"] == 2


def test_an_older_state_of_mind_joins_history_only_a_newer_one_becomes_current(
    hae: ServerProcess,
) -> None:
    now = float(int(time.time()))
    with hae.client() as c:
        newer = post(c, {"data": {"stateOfMind": [state_of_mind("n1", now - 600, ["Happy"])]}})
        assert newer.json()["mood_applied"] is True
        assert c.get("/v1/mood").json() == {"mood": "happy", "context": "", "updated_at": now - 600}

        old = state_of_mind("o1", now - 30 * 86400, ["Sad"], associations=["Health"])
        older = post(c, {"data": {"stateOfMind": [old]}}).json()
        assert older["moods"]["created"] == 1 and older["mood_applied"] is False
        assert c.get("/v1/mood").json()["mood"] == "happy"
        assert {"mood": "sad", "context": "Health", "updated_at": now - 30 * 86400} in history(
            c, since=now - 31 * 86400
        )
        put = c.put("/v1/mood", json={"mood": "phone", "updated_at": now - 1200}).json()
        assert put["applied"] is False  # the same rule as PUT: the HAE mood is newer

        newest = post(c, {"data": {"stateOfMind": [state_of_mind("n2", now - 60, ["Calm"])]}})
        assert newest.json()["mood_applied"] is True
        assert c.get("/v1/mood").json()["mood"] == "calm"


def test_a_body_of_another_shape_is_422_and_unreadable_entries_are_skipped(
    hae: ServerProcess,
) -> None:
    now = float(int(time.time()))
    with hae.client() as c:
        for bad in (b"[]", b'{"data": []}', b'{"data": {"metrics": {}}}', b"{not json", b""):
            r = post(c, bad)
            assert r.status_code == 422, (bad, r.text)
        good = state_of_mind("kept", now - 5 * 86400, ["Proud"])
        body = {
            "data": {
                "stateOfMind": [{"id": "no-start", "labels": ["Sad"]}, "text", good],
                "metrics": [
                    {
                        "name": "step_count",
                        "units": "count",
                        "data": [
                            {"date": "yesterday", "qty": 1},
                            {"date": hae_date(now), "qty": 5},
                        ],
                    },
                    {"units": "count", "data": []},
                ],
                "symptoms": [{}, {}],
            }
        }
        r = post(c, body)
        assert r.status_code == 200, r.text
        answer = r.json()
        assert answer["skipped"] == 4 and answer["ignored"] == {"symptoms": 2}
        assert answer["moods"]["created"] == 1 and answer["health"]["created"] == 1
        assert any(p.startswith("stateOfMind[0]: start") for p in answer["problems"])
        assert any("metrics[0].data[0]" in p for p in answer["problems"])


def test_kill_9_right_after_200_keeps_the_moods(hae: ServerProcess) -> None:
    """Last in this module: it restarts the shared server."""
    now = float(int(time.time()))
    day = datetime.fromtimestamp(now - 7200, ZoneInfo("Europe/Berlin")).date()
    header = "full_date,date,weekday,time,mood,activities,note_title,note"
    csv = f"{header}\n{day},x,x,00:01,rad,work,,kill\n"
    with hae.client() as c:
        som = state_of_mind("crash-1", now - 30, ["Hopeful"])
        assert post(c, {"data": {"stateOfMind": [som]}}).status_code == 200
        r = c.post("/v1/import/daylio", content=csv.encode(), headers={"Content-Type": "text/csv"})
        assert r.status_code == 200 and r.json()["imported"] == 1
    hae.kill9()
    hae.start()
    with hae.client() as c:
        assert c.get("/v1/mood").json()["mood"] == "hopeful"
        assert c.get("/v1/events/mood-hae-crash-1").status_code == 200
        moods = [m["mood"] for m in history(c, since=now - 3 * 86400)]
        assert "hopeful" in moods and "rad" in moods
