"""The real server at its defaults runs Chroma in a child process: tied to the server's
life, started again when it dies, and no acknowledged write lost either way."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

import pytest

from tests.utils.server import ServerProcess, process_gone

pytestmark = pytest.mark.slow


def _wait(predicate: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_killing_the_server_takes_its_chroma_child_along(server: ServerProcess) -> None:
    server.start()
    with server.client() as c:
        store = c.get("/v1/status").json()["store"]
        assert store["mode"] == "child"
        assert c.post("/v1/thoughts", json={"text": "the garden needs water"}).status_code == 201
    child = store["pid"]
    assert not process_gone(child)
    server.kill9()
    _wait(lambda: process_gone(child), timeout=10)
    server.start()
    with server.client() as c:
        # Listed at once: if the kill came before Chroma had it, it is back from the journal.
        items = c.get("/v1/events", params={"type": "thought"}).json()["items"]
        assert [item["text"] for item in items] == ["the garden needs water"]

        # Searchable once the journal has drained into the new child (a moment at most).
        def found() -> bool:
            answer = c.get("/v1/search", params={"q": "watering plants"})
            assert answer.status_code == 200, answer.text
            results = answer.json()["results"]
            return bool(results) and results[0]["text"] == "the garden needs water"

        _wait(found)
        assert c.get("/v1/status").json()["store"]["pid"] != child


def test_a_dead_child_is_started_again_and_no_write_is_lost(server: ServerProcess) -> None:
    server.start()
    acked: list[str] = []
    with server.client() as c:
        first = c.get("/v1/status").json()["store"]["pid"]
        for i in range(5):
            answer = c.post("/v1/thoughts", json={"text": f"before {i}"})
            assert answer.status_code == 201
            acked.append(f"before {i}")
        os.kill(first, signal.SIGKILL)
        # Writes during the outage and after it are acknowledged as always.
        for i in range(20):
            answer = c.post("/v1/thoughts", json={"text": f"during {i}"})
            assert answer.status_code == 201, answer.text
            acked.append(f"during {i}")
            time.sleep(0.05)
        _wait(lambda: c.get("/v1/status").json()["store"]["restarts"] == 1)
        _wait(lambda: c.get("/health").json()["status"] == "ok")
        store = c.get("/v1/status").json()["store"]
        assert store["pid"] not in (None, first)
        c.post("/v1/thoughts", json={"text": "after"}).raise_for_status()
        acked.append("after")

        def all_listed() -> bool:
            items = c.get("/v1/events", params={"type": "thought", "limit": 100}).json()["items"]
            return {item["text"] for item in items} >= set(acked)

        _wait(all_listed)
    server.stop()
    assert process_gone(store["pid"])
    # And every one of them is in Chroma's files, found again after a restart.
    server.start()
    with server.client() as c:
        items = c.get("/v1/events", params={"type": "thought", "limit": 100}).json()["items"]
        assert {item["text"] for item in items} == set(acked)
        assert c.get("/v1/search", params={"q": "during 7"}).status_code == 200
