"""Phone sync over the real app and a real temp data dir."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.config import Settings


def test_fresh_install_answers_neutral_mood(client: TestClient) -> None:
    assert client.get("/v1/mood").json() == {"mood": "neutral", "context": "", "updated_at": 0}


def _mood_file_when(path: Path, ready: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """current_mood.txt follows an acknowledged (journaled) mood within moments."""
    deadline = time.monotonic() + 10
    while True:
        on_disk: dict[str, Any] = json.loads(path.read_text())
        if ready(on_disk) or time.monotonic() > deadline:
            return on_disk
        time.sleep(0.01)


def test_put_mood_applies_and_persists_as_json(client: TestClient, settings: Settings) -> None:
    r = client.put("/v1/mood", json={"mood": "calm", "context": "tea", "updated_at": 100})
    assert r.status_code == 200
    assert r.json() == {"mood": "calm", "context": "tea", "updated_at": 100, "applied": True}
    path = settings.state_dir / "current_mood.txt"
    on_disk = _mood_file_when(path, lambda m: m["updated_at"] == 100)
    assert on_disk["mood"] == "calm" and on_disk["updated_at"] == 100 and on_disk["schema"] == 1
    assert (settings.state_dir / "current_mood.txt").stat().st_mode & 0o777 == 0o600
    assert settings.data_dir.stat().st_mode & 0o777 == 0o700


def test_last_write_wins_by_updated_at(client: TestClient) -> None:
    client.put("/v1/mood", json={"mood": "happy", "updated_at": 200})
    r = client.put("/v1/mood", json={"mood": "sad", "updated_at": 150})
    assert r.json() == {"mood": "happy", "context": "", "updated_at": 200, "applied": False}
    assert client.get("/v1/mood").json()["mood"] == "happy"
    r = client.put("/v1/mood", json={"mood": "tired", "updated_at": 250})
    assert r.json()["applied"] is True


def test_mood_default_time_is_server_time(client: TestClient) -> None:
    before = time.time()
    body = client.put("/v1/mood", json={"mood": "ok"}).json()
    assert before <= body["updated_at"] <= time.time()


def test_mood_history_newest_first(client: TestClient) -> None:
    for i, mood in enumerate(["a", "b", "c"]):
        client.put("/v1/mood", json={"mood": mood, "context": f"n{i}", "updated_at": 1000 + i})
    client.put("/v1/mood", json={"mood": "late", "updated_at": 10})  # stale: not applied
    items = _history(client)
    assert [i["mood"] for i in items[:3]] == ["c", "b", "a"]
    assert items[0] == {"mood": "c", "context": "n2", "updated_at": 1002}
    assert all(i["mood"] != "late" for i in items)
    limited = client.get("/v1/mood/history", params={"since": 1001, "limit": 1}).json()["items"]
    assert [i["mood"] for i in limited] == ["c"]


def _history(client: TestClient) -> list[dict[str, object]]:
    deadline = time.monotonic() + 30
    while True:
        items = client.get("/v1/mood/history").json()["items"]
        if len(items) >= 3 or time.monotonic() > deadline:
            return items
        time.sleep(0.05)


def test_thought_is_idempotent_by_client_id(client: TestClient, settings: Settings) -> None:
    r = client.post("/v1/thoughts", json={"text": "the river was loud", "id": "t-1"})
    assert r.status_code == 201 and r.json() == {"id": "t-1"}
    again = client.post("/v1/thoughts", json={"text": "the river was loud", "id": "t-1"})
    assert again.status_code == 200 and again.json() == {"id": "t-1"}
    body = client.get("/v1/thoughts").json()
    assert [i["id"] for i in body["items"]] == ["t-1"]
    assert "the river was loud" in body["text"]
    text_file = (settings.state_dir / "recent_thoughts.txt").read_text()
    assert "the river was loud" in text_file


def test_thought_without_id_gets_one_and_newest_first(client: TestClient) -> None:
    first = client.post("/v1/thoughts", json={"text": "one", "created_at": 10}).json()["id"]
    second = client.post("/v1/thoughts", json={"text": "two", "created_at": 20}).json()["id"]
    assert first != second
    items = client.get("/v1/thoughts").json()["items"]
    assert [i["text"] for i in items] == ["two", "one"]
    assert items[0] == {"id": second, "text": "two", "created_at": 20}


def test_state_etag_and_304(client: TestClient) -> None:
    r = client.get("/v1/state")
    etag = r.headers["etag"]
    assert r.json()["mood"]["mood"] == "neutral"
    assert client.get("/v1/state", headers={"If-None-Match": etag}).status_code == 304
    client.put("/v1/mood", json={"mood": "bright"})
    r2 = client.get("/v1/state", headers={"If-None-Match": etag})
    assert r2.status_code == 200 and r2.headers["etag"] != etag
    assert r2.json()["mood"]["mood"] == "bright"
    client.post("/v1/thoughts", json={"text": "new thought"})
    r3 = client.get("/v1/state", headers={"If-None-Match": r2.headers["etag"]})
    assert r3.status_code == 200 and "new thought" in r3.json()["thoughts"]


def test_the_state_poll_checks_the_token_like_every_route(client: TestClient) -> None:
    """GET /v1/state is answered in front of the router: same auth, same headers."""
    for headers in (
        {"Authorization": ""},
        {"Authorization": "Bearer wrong-token-0123456789"},
        {"Authorization": "Basic dTpwYXNz"},
    ):
        refused = client.get("/v1/state", headers=headers)
        assert refused.status_code == 401, headers
        assert refused.headers["www-authenticate"] == "Bearer"
        assert refused.json() == {"detail": "missing or invalid bearer token"}
        assert refused.headers["x-request-id"]
    token = client.headers["authorization"].removeprefix("Bearer ")
    by_query = client.get(f"/v1/state?token={token}", headers={"Authorization": ""})
    assert by_query.status_code == 401  # ?token= is only for the apps' routes
    ok = client.get("/v1/state", headers={"X-Request-ID": "poll-1"})
    assert ok.status_code == 200 and ok.headers["x-request-id"] == "poll-1"
    assert ok.headers["content-type"] == "application/json"
    assert client.head("/v1/state").status_code == 405  # as the route declares: GET only


def test_state_survives_restart(settings: Settings) -> None:
    from app.main import create_app
    from tests.conftest import AUTH

    with TestClient(create_app(settings), headers=AUTH) as c:
        c.put("/v1/mood", json={"mood": "steady", "updated_at": 5})
        c.post("/v1/thoughts", json={"text": "keep me", "id": "k"})
    with TestClient(create_app(settings), headers=AUTH) as c:
        assert c.get("/v1/mood").json()["mood"] == "steady"
        assert c.get("/v1/thoughts").json()["items"][0]["id"] == "k"
        assert c.get("/v1/events/k").json()["text"] == "keep me"


def test_a_tie_on_updated_at_is_in_the_file_before_the_answer(
    client: TestClient, settings: Settings
) -> None:
    """Recovery orders mood events by time only, so a tie must not rely on it."""
    client.put("/v1/mood", json={"mood": "first", "updated_at": 300})
    r = client.put("/v1/mood", json={"mood": "second", "updated_at": 300})
    assert r.json()["applied"] is True
    on_disk = json.loads((settings.state_dir / "current_mood.txt").read_text())
    assert on_disk["mood"] == "second"


def test_a_mood_file_behind_the_event_log_is_repaired_at_start(settings: Settings) -> None:
    """kill -9 after the journal write and before the file write: the next start fixes it."""
    from app.main import create_app
    from tests.conftest import AUTH

    path = settings.state_dir / "current_mood.txt"
    with TestClient(create_app(settings), headers=AUTH) as c:
        c.put("/v1/mood", json={"mood": "older", "updated_at": 10})
        older = _mood_file_when(path, lambda m: m["updated_at"] == 10)
        c.put("/v1/mood", json={"mood": "newest", "context": "acked", "updated_at": 20})
    path.write_text(json.dumps(older))  # the file as the crash left it
    with TestClient(create_app(settings), headers=AUTH) as c:
        assert c.get("/v1/mood").json() == {"mood": "newest", "context": "acked", "updated_at": 20}
    assert json.loads(path.read_text())["mood"] == "newest"


def test_concurrent_retries_of_one_thought_store_it_once(client: TestClient) -> None:
    """A phone retrying while its first attempt is still being written."""
    import concurrent.futures

    def post() -> int:
        body = {"text": "retried thought", "id": "retry-1"}
        return client.post("/v1/thoughts", json=body).status_code

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(lambda _i: post(), range(8)))
    assert codes == [200] * 7 + [201]
    items = client.get("/v1/thoughts").json()["items"]
    assert [i["id"] for i in items] == ["retry-1"]
    assert client.get("/v1/events/retry-1").status_code == 200


def test_deleting_a_thought_removes_it_from_the_digest(client: TestClient) -> None:
    client.post("/v1/thoughts", json={"text": "too private to keep", "id": "secret"})
    assert client.delete("/v1/events/secret").status_code == 204
    body = client.get("/v1/thoughts").json()
    assert body["items"] == [] and "too private" not in body["text"]
    assert "too private" not in client.get("/v1/state").json()["thoughts"]


FAST = {"Content-Type": "application/json"}  # answered in front of the router
ROUTED = {"Content-Type": "application/json; charset=utf-8"}  # through the router


@pytest.mark.parametrize(
    "body",
    [
        b'{"mood": "calm", "context": "tea", "updated_at": 1700000000.5}',
        b'{"mood": ""}',
        b'{"mood": "x", "surprise": 1}',
        b'{"mood": "x", "updated_at": "yesterday"}',
        b"[]",
        b"not json",
        b"",
        b'{"mood": "\\ud800"}',
    ],
)
def test_put_mood_in_front_of_the_router_answers_as_the_route_does(
    client: TestClient, body: bytes
) -> None:
    fast = client.put("/v1/mood", content=body, headers=FAST)
    routed = client.put("/v1/mood", content=body, headers=ROUTED)
    assert fast.status_code == routed.status_code
    assert fast.json() == routed.json()
    assert fast.headers["content-type"] == routed.headers["content-type"]


def test_put_mood_in_front_of_the_router_checks_the_token(client: TestClient) -> None:
    body = b'{"mood": "sneaky"}'
    for headers in (FAST, ROUTED):
        refused = client.put("/v1/mood", content=body, headers={**headers, "Authorization": "x"})
        assert refused.status_code == 401
    assert client.get("/v1/mood").json()["mood"] != "sneaky"
