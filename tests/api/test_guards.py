"""Auth, bad input and size limits: clear 4xx, never a 500, never a partial write."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.storage.tokens import TokenStore, hash_token

PROTECTED = [
    ("GET", "/v1/status"),
    ("GET", "/v1/state"),
    ("GET", "/v1/mood"),
    ("PUT", "/v1/mood"),
    ("GET", "/v1/thoughts"),
    ("GET", "/v1/events"),
    ("GET", "/v1/search?q=x"),
    ("GET", "/v1/jobs"),
    ("GET", "/v1/backups"),
    ("GET", "/metrics"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_every_private_route_needs_a_token(client: TestClient, method: str, path: str) -> None:
    for headers in ({"Authorization": ""}, {"Authorization": "Bearer wrong"}):
        r = client.request(method, path, headers=headers)
        assert r.status_code == 401, path
        assert r.headers["www-authenticate"] == "Bearer"


def test_health_is_public_and_says_nothing_else(client: TestClient) -> None:
    r = client.get("/health", headers={"Authorization": ""})
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    assert r.headers["x-request-id"]


def test_request_id_is_echoed_when_sane(client: TestClient) -> None:
    assert (
        client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"]
        == "abc-123"
    )
    assert (
        client.get("/health", headers={"X-Request-ID": "bad id\n"}).headers["x-request-id"]
        != "bad id\n"
    )


def test_device_token_create_use_revoke(client: TestClient, settings: Settings) -> None:
    store = TokenStore(settings.state_dir)
    token = store.create("phone")
    stored = (settings.state_dir / "tokens.json").read_text()
    assert token not in stored and hash_token(token) in stored  # only a hash is kept
    headers = {"Authorization": f"Bearer {token}"}
    _wait_for_reload(client, headers, 200)
    store.revoke("phone")
    _wait_for_reload(client, headers, 401)


def _wait_for_reload(client: TestClient, headers: dict[str, str], want: int) -> None:
    import time

    deadline = time.monotonic() + 5
    while client.get("/v1/mood", headers=headers).status_code != want:
        assert time.monotonic() < deadline, f"token change not picked up (want {want})"
        time.sleep(0.1)


def test_token_list_records_last_use(client: TestClient, settings: Settings) -> None:
    store = TokenStore(settings.state_dir)
    token = store.create("laptop")
    _wait_for_reload(client, {"Authorization": f"Bearer {token}"}, 200)
    client.app.state.runtime.tokens.flush_last_used()
    [entry] = store.list()
    assert entry["name"] == "laptop" and entry["last_used_at"] is not None


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"mood": ""},
        {"mood": "x" * 65},
        {"mood": "ok", "context": "c" * 2001},
        {"mood": "ok", "updated_at": "yesterday"},
        {"mood": "ok", "updated_at": 1e15},
        {"mood": 5},
        {"mood": "ok", "extra": 1},
    ],
)
def test_bad_mood_is_422_and_changes_nothing(client: TestClient, body: object) -> None:
    before = client.get("/v1/mood").json()
    r = client.put("/v1/mood", json=body)
    assert r.status_code == 422, r.text
    assert client.get("/v1/mood").json() == before


def test_malformed_json_is_422(client: TestClient) -> None:
    r = client.put("/v1/mood", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422


@pytest.mark.parametrize(
    "body",
    [{"text": ""}, {"text": "x" * 10001}, {"text": "ok", "id": "has space"}, {"text": None}],
)
def test_bad_thought_is_422(client: TestClient, body: object) -> None:
    assert client.post("/v1/thoughts", json=body).status_code == 422
    assert client.get("/v1/thoughts").json()["items"] == []


def test_query_out_of_range_is_422(client: TestClient) -> None:
    assert client.get("/v1/events", params={"limit": 501}).status_code == 422
    assert client.get("/v1/search", params={"q": "x", "n": 0}).status_code == 422
    assert client.get("/v1/mood/history", params={"since": "not a time"}).status_code == 422


def test_body_over_cap_is_413_by_header_and_while_reading(data_dir) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import AUTH, make_settings

    settings = make_settings(data_dir, max_body_bytes=4096)
    with TestClient(create_app(settings), headers=AUTH) as c:
        big = {"text": "x" * 5000}
        assert c.post("/v1/thoughts", json=big).status_code == 413

        def chunks():  # type: ignore[no-untyped-def]
            yield b'{"text": "'
            for _ in range(10):
                yield b"y" * 1000
            yield b'"}'

        r = c.post("/v1/thoughts", content=chunks(), headers={"Content-Type": "application/json"})
        assert r.status_code == 413
        assert c.get("/v1/thoughts").json()["items"] == []


def test_exposed_host_without_token_refuses_to_start(data_dir) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import make_settings

    settings = make_settings(data_dir, host="0.0.0.0", api_token=None)
    with pytest.raises(Exception, match="HEARTH_API_TOKEN"), TestClient(create_app(settings)):
        pass


def test_openapi_describes_every_route(client: TestClient) -> None:
    paths = client.get("/openapi.json", headers={"Authorization": ""}).json()["paths"]
    for path in ("/health", "/v1/state", "/v1/mood", "/v1/events", "/v1/search", "/v1/backups"):
        assert path in paths
    assert "StateOut" in str(paths["/v1/state"])
    assert client.get("/docs").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "content"),
    [
        ("PUT", "/v1/mood", b'{"mood": "a", "updated_at": NaN}'),
        ("PUT", "/v1/mood", b'{"mood": "a", "updated_at": 1e400}'),
        ("PUT", "/v1/mood", b'{"mood": "a\\ud800"}'),
        ("POST", "/v1/thoughts", b'{"text": "\\udfff"}'),
        ("POST", "/v1/search", b'{"q": "x", "since": Infinity}'),
    ],
)
def test_hostile_values_get_422_not_500(
    client: TestClient, method: str, path: str, content: bytes
) -> None:
    r = client.request(method, path, content=content, headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["detail"]


@pytest.mark.parametrize("query", ["since=nan", "since=1e400", "until=-inf"])
def test_non_finite_query_times_are_422(client: TestClient, query: str) -> None:
    assert client.get(f"/v1/events?{query}").status_code == 422
    assert client.get(f"/v1/search?q=x&{query}").status_code == 422


def test_unknown_private_paths_need_the_token_first(client: TestClient) -> None:
    for method, path in [("GET", "/v1/nope"), ("PATCH", "/v1/events"), ("GET", "/metrics/x")]:
        r = client.request(method, path, headers={"Authorization": ""})
        assert r.status_code == 401, path
        assert client.request(method, path).status_code in (404, 405)


def test_far_future_mood_is_refused_so_it_cannot_freeze_the_mood(client: TestClient) -> None:
    r = client.put("/v1/mood", json={"mood": "future", "updated_at": 99999999999})
    assert r.status_code == 422 and "clock" in r.json()["detail"][0]["msg"]
    assert client.put("/v1/mood", json={"mood": "now"}).json()["applied"] is True


def test_weak_and_star_etags_match(client: TestClient) -> None:
    etag = client.get("/v1/state").headers["etag"]
    for header in (f"W/{etag}", "*", f'"other", {etag}'):
        assert client.get("/v1/state", headers={"If-None-Match": header}).status_code == 304


def test_corrupt_token_file_keeps_last_good_tokens(client: TestClient, settings: Settings) -> None:
    import time

    store = TokenStore(settings.state_dir)
    token = store.create("phone")
    headers = {"Authorization": f"Bearer {token}"}
    _wait_for_reload(client, headers, 200)
    time.sleep(0.01)
    (settings.state_dir / "tokens.json").write_text("{broken")
    time.sleep(1.1)
    assert client.get("/v1/mood", headers=headers).status_code == 200
    assert client.get("/v1/mood", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert any("tokens.json" in w for w in client.get("/v1/status").json()["warnings"])


@pytest.mark.parametrize(
    "content", [b'{"mood": "\xff\xfe"}', b'{"mood": "ok", "updated_at": ' + b"9" * 5000 + b"}"]
)
def test_unparseable_body_is_422(client: TestClient, content: bytes) -> None:
    r = client.put("/v1/mood", content=content, headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.text
