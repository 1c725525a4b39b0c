"""A Chroma server outage (HEARTH_CHROMA_URL): the state routes keep working, writes that
feed the event log are accepted and durable and reach Chroma exactly once when it is
back (also across a kill -9 of Hearth), the routes that need Chroma answer 503 with
Retry-After, /health says "degraded", and every request is answered within 10 s.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import chromadb
import httpx
import pytest
from chromadb.config import Settings as ChromaSettings

from tests.conftest import ADMIN_TOKEN
from tests.utils.chroma_server import chroma_server
from tests.utils.server import ServerProcess, free_port

pytestmark = pytest.mark.slow

ANSWER_S = 10.0


def timed(client: httpx.Client, method: str, url: str, **kw: object) -> httpx.Response:
    started = time.monotonic()
    response = client.request(method, url, **kw)  # type: ignore[arg-type]
    took = time.monotonic() - started
    assert took < ANSWER_S, f"{method} {url} took {took:.1f} s"
    return response


def wait_for(check: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.3)


def notes(prefix: str, n: int) -> dict[str, object]:
    return {
        "events": [
            {"id": f"{prefix}-{i}", "type": "note", "text": f"{prefix} {i}"} for i in range(n)
        ]
    }


def chroma_ids(port: int) -> list[str]:
    client = chromadb.HttpClient(
        host="127.0.0.1", port=port, settings=ChromaSettings(anonymized_telemetry=False)
    )
    return client.get_collection("hearth-events").get(include=[])["ids"]


@contextmanager
def outage_checks(c: httpx.Client) -> Iterator[None]:
    """Wait until Hearth has noticed the outage, then let the test write."""
    wait_for(lambda: timed(c, "GET", "/health").json() == {"status": "degraded"}, 20)
    yield


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, (response.request.url, response.text)
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["detail"]


def test_chroma_outage_queues_writes_and_delivers_them_once(tmp_path: Path) -> None:
    port = free_port()
    chroma_dir = tmp_path / "chroma"
    server = ServerProcess(
        tmp_path / "data",
        token=ADMIN_TOKEN,
        HEARTH_CHROMA_URL=f"http://127.0.0.1:{port}",
        HEARTH_STORE_TIMEOUT_S="3",
    )
    try:
        with chroma_server(chroma_dir, port=port):
            server.start()
            with server.client() as c:
                assert c.post("/v1/events", json=notes("up", 3)).status_code == 200
                assert (
                    c.put("/v1/mood", json={"mood": "calm", "updated_at": 1000}).status_code == 200
                )
                wait_for(lambda: len(chroma_ids(port)) == 4)

        # Chroma is away.
        with server.client() as c, outage_checks(c):
            r = timed(c, "POST", "/v1/events", json=notes("down", 5))
            assert r.status_code == 200 and r.json()["created"] == 5, r.text
            again = timed(c, "POST", "/v1/events", json=notes("down", 5))
            assert again.json() == {"ids": [f"down-{i}" for i in range(5)], "created": 0,
                                    "duplicates": 5}  # fmt: skip
            mood = timed(c, "PUT", "/v1/mood", json={"mood": "anxious", "updated_at": 2000})
            assert mood.status_code == 200 and mood.json()["applied"] is True
            thought = timed(c, "POST", "/v1/thoughts", json={"text": "offline", "id": "t-1"})
            assert thought.status_code == 201
            # Answered from Hearth's own index and outbox where that is correct.
            assert timed(c, "GET", "/v1/events/down-0").json()["text"] == "down 0"
            assert timed(c, "GET", "/v1/events/nope").status_code == 404
            assert timed(c, "GET", "/v1/state").json()["mood"]["mood"] == "anxious"
            assert timed(c, "GET", "/v1/mood").json()["mood"] == "anxious"
            assert timed(c, "GET", "/v1/thoughts").json()["items"][0]["id"] == "t-1"
            status = timed(c, "GET", "/v1/status")
            assert status.status_code == 200
            assert any("event store" in w for w in status.json()["warnings"])
            # The rest needs Chroma: 503 + Retry-After, quickly.
            assert_unavailable(timed(c, "GET", "/v1/events/up-0"))
            assert_unavailable(timed(c, "GET", "/v1/events"))
            assert_unavailable(timed(c, "GET", "/v1/mood/history"))
            assert_unavailable(timed(c, "GET", "/v1/search", params={"q": "up"}))
            assert_unavailable(timed(c, "POST", "/v1/search", json={"q": "up", "type": "note"}))
            assert_unavailable(timed(c, "GET", "/v1/export"))
            assert_unavailable(timed(c, "DELETE", "/v1/events/up-1"))
            assert_unavailable(timed(c, "POST", "/v1/backups"))
            assert timed(c, "GET", "/health").json() == {"status": "degraded"}

        # Chroma is back: everything queued arrives, once; nothing was deleted.
        with chroma_server(chroma_dir, port=port), server.client() as c:
            wait_for(lambda: timed(c, "GET", "/health").json() == {"status": "ok"})
            expected = {"up-0", "up-1", "up-2", *(f"down-{i}" for i in range(5)), "t-1"}
            wait_for(lambda: expected <= set(chroma_ids(port)))
            ids = chroma_ids(port)
            assert len(ids) == len(set(ids)) == 3 + 5 + 1 + 2  # + the two mood events
            listed = timed(c, "GET", "/v1/events", params={"limit": 500}).json()["items"]
            assert sorted(e["id"] for e in listed) == sorted(ids)
            history = timed(c, "GET", "/v1/mood/history").json()["items"]
            assert [m["mood"] for m in history] == ["anxious", "calm"]
            assert timed(c, "DELETE", "/v1/events/up-1").status_code == 204

        # A second outage, and Hearth killed with events only in its outbox.
        with server.client() as c, outage_checks(c):
            r = timed(c, "POST", "/v1/events", json=notes("crash", 4))
            assert r.status_code == 200 and r.json()["created"] == 4
        server.kill9()
        with chroma_server(chroma_dir, port=port):
            server.start()
            with server.client() as c:
                wanted = {f"crash-{i}" for i in range(4)}
                wait_for(lambda: wanted <= set(chroma_ids(port)))
                ids = chroma_ids(port)
                assert len(ids) == len(set(ids)) == 11 - 1 + 4
                assert timed(c, "GET", "/v1/events/crash-3").json()["text"] == "crash 3"
    finally:
        server.stop()


def chroma_pid(chroma_dir: Path) -> int:
    wanted = str(chroma_dir / "db")
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                args = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"run" in args and wanted.encode() in args:
                return int(entry.name)
    raise AssertionError("chroma server process not found")


def test_a_hanging_chroma_call_is_503_in_time_and_not_piled_up(tmp_path: Path) -> None:
    chroma_dir = tmp_path / "chroma"
    server = ServerProcess(tmp_path / "data", token=ADMIN_TOKEN, HEARTH_STORE_TIMEOUT_S="2")
    with chroma_server(chroma_dir) as url:
        server.env["HEARTH_CHROMA_URL"] = url
        pid = chroma_pid(chroma_dir)
        try:
            server.start()
            with server.client() as c:
                assert c.post("/v1/events", json=notes("up", 2)).status_code == 200
                os.kill(pid, signal.SIGSTOP)  # accepts connections, never answers
                try:
                    started = time.monotonic()
                    r = timed(c, "GET", "/v1/events/up-0")
                    assert_unavailable(r)
                    assert time.monotonic() - started < 4
                    # Busy: the next call is refused at once, not queued behind it.
                    started = time.monotonic()
                    assert_unavailable(timed(c, "GET", "/v1/search", params={"q": "up"}))
                    assert time.monotonic() - started < 1.5
                    for _ in range(4):  # and none waits longer than the limit
                        started = time.monotonic()
                        assert_unavailable(timed(c, "GET", "/v1/events/up-1"))
                        assert time.monotonic() - started < 4
                    assert timed(c, "GET", "/health").json() == {"status": "degraded"}
                    assert timed(c, "PUT", "/v1/mood", json={"mood": "ok"}).status_code == 200
                finally:
                    os.kill(pid, signal.SIGCONT)
                wait_for(lambda: timed(c, "GET", "/health").json() == {"status": "ok"}, 30)
                assert timed(c, "GET", "/v1/events/up-0").status_code == 200
        finally:
            server.stop()
