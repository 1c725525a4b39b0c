"""The event log over HTTP: batch ingest, paging, get/delete, search."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient


def _events(n: int, **extra: object) -> list[dict[str, object]]:
    return [
        {"type": "note", "text": f"note number {i}", "timestamp": 1000 + i, **extra}
        for i in range(n)
    ]


def test_batch_ingest_is_idempotent_by_id(client: TestClient) -> None:
    batch = [{"id": f"e{i}", **e} for i, e in enumerate(_events(5))]
    first = client.post("/v1/events", json={"events": batch}).json()
    assert first == {"ids": [f"e{i}" for i in range(5)], "created": 5, "duplicates": 0}
    again = client.post("/v1/events", json={"events": batch}).json()
    assert again["created"] == 0 and again["duplicates"] == 5
    assert client.get("/v1/status").json()["events"]["by_type"]["note"] == 5


def test_one_bad_item_rejects_the_whole_batch_naming_every_index(client: TestClient) -> None:
    batch = _events(4)
    batch[1]["type"] = "Bad Type"
    batch[3]["text"] = ""
    r = client.post("/v1/events", json={"events": batch})
    assert r.status_code == 422
    indexes = {err["loc"][2] for err in r.json()["detail"]}
    assert indexes == {1, 3}
    assert client.get("/v1/events").json()["items"] == []


def test_batch_limits_and_metadata_rules(client: TestClient) -> None:
    assert client.post("/v1/events", json={"events": []}).status_code == 422
    too_many = {"events": _events(1001)}
    assert client.post("/v1/events", json=too_many).status_code == 422
    meta = {f"k{i}": i for i in range(33)}
    assert client.post("/v1/events", json={"events": _events(1, metadata=meta)}).status_code == 422
    nested = {"events": _events(1, metadata={"a": {"b": 1}})}
    assert client.post("/v1/events", json=nested).status_code == 422
    ok = {"events": _events(1, metadata={"place": "home", "n": 2, "ok": True, "x": 1.5})}
    r = client.post("/v1/events", json=ok)
    assert r.status_code == 200
    event = client.get(f"/v1/events/{r.json()['ids'][0]}").json()
    assert event["metadata"] == {"place": "home", "n": 2, "ok": True, "x": 1.5}


def test_cursor_walks_every_event_once_newest_first(client: TestClient) -> None:
    client.post("/v1/events", json={"events": _events(23)})
    seen: list[float] = []
    cursor = None
    while True:
        params: dict[str, object] = {"limit": 5, "type": "note"}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/v1/events", params=params).json()
        seen += [e["timestamp"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen, reverse=True) and len(seen) == len(set(seen)) == 23
    assert client.get("/v1/events", params={"cursor": "garbage!"}).status_code == 422


def test_time_filters_accept_iso_8601(client: TestClient) -> None:
    client.post(
        "/v1/events",
        json={
            "events": [
                {"type": "x", "text": "early", "timestamp": 1795161600 - 60},
                {"type": "x", "text": "late", "timestamp": 1795161600 + 60},
            ]
        },
    )
    items = client.get("/v1/events", params={"since": "2026-11-20T08:00:00Z"}).json()["items"]
    assert [e["text"] for e in items] == ["late"]


def test_get_and_delete_by_id(client: TestClient) -> None:
    [eid] = client.post("/v1/events", json={"events": _events(1)}).json()["ids"]
    assert client.get(f"/v1/events/{eid}").json()["text"] == "note number 0"
    assert client.delete(f"/v1/events/{eid}").status_code == 204
    assert client.get(f"/v1/events/{eid}").status_code == 404
    assert client.delete(f"/v1/events/{eid}").status_code == 404


def test_search_by_meaning_with_filters(client: TestClient) -> None:
    now = time.time()
    events = [
        {
            "type": "journal",
            "text": "Argued with my manager about the release deadline",
            "timestamp": now - 86400 * 10,
        },
        {
            "type": "journal",
            "text": "Baked sourdough bread with my sister",
            "timestamp": now - 86400 * 2,
        },
        {"type": "location", "text": "Arrived at the office downtown", "timestamp": now - 86400},
    ]
    client.post("/v1/events", json={"events": events})
    hits = client.get("/v1/search", params={"q": "stressed about work", "n": 2}).json()
    top = hits["results"][0]
    assert "manager" in top["text"] and 0 <= top["score"] <= 1
    scores = [h["score"] for h in hits["results"]]
    assert scores == sorted(scores, reverse=True)
    typed = client.post("/v1/search", json={"q": "stressed about work", "type": "location"}).json()[
        "results"
    ]
    assert {h["type"] for h in typed} == {"location"}
    recent = client.get(
        "/v1/search", params={"q": "stressed about work", "since": now - 86400 * 5}
    ).json()["results"]
    assert all("manager" not in h["text"] for h in recent)
