"""Crafted requests against a real server: never a 500, the token before the body, 405 for
known paths, 422 details in the documented shape, times that cannot pin the newest-first
views, control characters kept out of the digest file, forged client IPs kept out of logs.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.conftest import ADMIN_TOKEN, AUTH
from tests.utils.server import ServerProcess

pytestmark = pytest.mark.slow

FUTURE = time.time() + 3 * 86400


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root: Path = tmp_path_factory.mktemp("crafted")
    server = ServerProcess(root / "data", token=ADMIN_TOKEN, HEARTH_LOG_LEVEL="INFO")
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def c(live: ServerProcess) -> Iterator[httpx.Client]:
    with live.client() as client:
        yield client


def assert_422(response: httpx.Response, field: str | None = None) -> None:
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, list) and detail
    for item in detail:
        assert isinstance(item["loc"], list) and isinstance(item["msg"], str)
        assert isinstance(item["type"], str)
    if field is not None:
        assert any(field in map(str, item["loc"]) for item in detail), detail


def test_a_cursor_with_a_huge_integer_is_422(c: httpx.Client) -> None:
    raw = ("[" + "9" * 400 + ', "x"]').encode()
    cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert_422(c.get("/v1/events", params={"cursor": cursor}), "cursor")


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_the_token_is_checked_before_the_body(live: ServerProcess, method: str) -> None:
    path = "/v1/events" if method == "POST" else "/v1/mood"
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        r = httpx.request(
            method,
            live.url + path,
            content=b'{"events": [broken' + b"x" * 10000,
            headers={**headers, "Content-Type": "application/json"},
        )
        assert r.status_code == 401, r.text
        assert r.headers["www-authenticate"] == "Bearer"
        assert "broken" not in r.text


def test_undeclared_methods_on_known_paths_are_405(c: httpx.Client) -> None:
    for method, path, allowed in [
        ("PATCH", "/v1/mood", {"GET", "PUT"}),
        ("DELETE", "/v1/state", {"GET"}),
        ("POST", "/v1/status", {"GET"}),
        ("PUT", "/v1/events/some-id", {"GET", "DELETE"}),
    ]:
        r = c.request(method, path)
        assert r.status_code == 405, (method, path, r.status_code)
        assert set(r.headers["allow"].replace(" ", "").split(",")) == allowed
    assert c.get("/v1/no-such-thing").status_code == 404


def test_422_details_have_the_documented_shape(c: httpx.Client) -> None:
    assert_422(
        c.post("/v1/events", content=b"{not json", headers={"Content-Type": "application/json"})
    )
    assert_422(c.put("/v1/mood", json={"mood": "x", "updated_at": FUTURE}))
    assert_422(c.post("/v1/events", json={"events": []}), "events")


def test_far_future_and_boolean_times_are_refused(c: httpx.Client) -> None:
    assert_422(
        c.post("/v1/thoughts", json={"text": "from 5138", "created_at": FUTURE}), "created_at"
    )
    batch = {
        "events": [
            {"type": "note", "text": "ok"},
            {"type": "note", "text": "late", "timestamp": FUTURE},
        ]
    }
    r = c.post("/v1/events", json=batch)
    assert_422(r, "timestamp")
    assert any(1 in item["loc"] for item in r.json()["detail"])  # names the index
    assert_422(c.put("/v1/mood", json={"mood": "x", "updated_at": False}), "updated_at")
    assert_422(c.post("/v1/thoughts", json={"text": "x", "created_at": False}), "created_at")
    assert_422(
        c.post("/v1/events", json={"events": [{"type": "n", "text": "x", "timestamp": True}]})
    )
    assert c.get("/v1/state").json()["updated_at"] < time.time() + 60


def test_control_characters_stay_out_of_the_digest(live: ServerProcess, c: httpx.Client) -> None:
    text = "look \x1b[2J\x1b]0;owned\x07 here\x00 now"
    assert c.post("/v1/thoughts", json={"text": text, "id": "esc-1"}).status_code == 201
    digest = (live.data_dir / "state" / "recent_thoughts.txt").read_text()
    assert "look [2J ]0;owned here now" in digest
    assert not any(ch in digest for ch in "\x1b\x07\x00")
    assert "\x1b" not in c.get("/v1/state").json()["thoughts"]
    assert c.get("/v1/thoughts").json()["items"][0]["text"] == text  # the thought itself is kept


def test_a_forged_client_ip_is_not_logged(live: ServerProcess, c: httpx.Client) -> None:
    forged = '1.2.3.4" "GET /v1/admin'
    c.get("/v1/mood", headers={"CF-Connecting-IP": forged, "X-Request-ID": "forged-ip"})
    c.get("/v1/mood", headers={"CF-Connecting-IP": "203.0.113.7", "X-Request-ID": "real-ip"})
    deadline = time.monotonic() + 10
    while "[real-ip]" not in live.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    lines = live.log.read_text().splitlines()
    forged_line = next(line for line in lines if "[forged-ip]" in line and "GET /v1/mood" in line)
    assert "1.2.3.4" not in forged_line and "127.0.0.1" in forged_line
    assert any("[real-ip]" in line and "203.0.113.7" in line for line in lines)


def test_an_unforeseen_error_is_a_json_500_with_the_request_id(settings: Settings) -> None:
    app: FastAPI = create_app(settings)

    @app.get("/v1/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    app.router.routes.insert(0, app.router.routes.pop())  # before the /v1 fallback
    with TestClient(app, headers=AUTH, raise_server_exceptions=False) as client:
        r = client.get("/v1/boom", headers={"X-Request-ID": "req-500"})
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/json"
    assert r.json()["detail"] == "internal error"
    assert r.headers["x-request-id"] == "req-500"
