"""`/mcp` with the SDK's own client against a real `hearth serve` process."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import httpx
import httpx2
import pytest
import uvicorn
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from starlette.requests import Request

from app.api import mcp as hearth_mcp
from app.main import create_app
from tests.conftest import ADMIN_TOKEN, make_settings
from tests.utils.server import ServerProcess, free_port

TOOLS = {
    "search_memory",
    "recent_events",
    "mood_insights",
    "current_state",
    "log_mood",
    "add_thought",
}


@asynccontextmanager
async def session(url: str, token: str) -> AsyncIterator[ClientSession]:
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as http,
        streamable_http_client(url + "/mcp", http_client=http) as (read, write),
        ClientSession(read, write) as client,
    ):
        await client.initialize()
        yield client


async def call(client: ClientSession, tool: str, **args: object) -> tuple[bool, str]:
    result = await client.call_tool(tool, args)
    text = result.content[0].text  # type: ignore[union-attr]
    return bool(result.is_error), text


@pytest.mark.slow
@pytest.mark.anyio
async def test_every_tool_answers_like_its_v1_route(server: ServerProcess) -> None:
    server.start()
    async with session(server.url, ADMIN_TOKEN) as client:
        assert {t.name for t in (await client.list_tools()).tools} == TOOLS

        failed, text = await call(client, "log_mood", mood="calm", context="tea")
        assert not failed and json.loads(text)["applied"] is True
        failed, text = await call(client, "add_thought", text="Booked the dentist for Friday")
        thought_id = json.loads(text)["id"]
        state = json.loads((await call(client, "current_state"))[1])
        assert state["mood"]["mood"] == "calm" and "dentist" in state["thoughts"]

        recent = json.loads((await call(client, "recent_events", type="thought"))[1])
        assert [e["id"] for e in recent["items"]] == [thought_id]
        with server.client() as http:
            assert recent == http.get("/v1/events", params={"type": "thought", "limit": 20}).json()

        found: dict[str, object] = {}
        for _ in range(600):  # phone writes are searchable once embedded (slow on a busy box)
            found = json.loads((await call(client, "search_memory", query="dentist today"))[1])
            if found["results"]:
                break
            await anyio.sleep(0.1)
        assert found["results"][0]["id"] == thought_id  # type: ignore[index]
        assert found["interpreted"]["text"] == "dentist"  # type: ignore[index]

        insights = json.loads((await call(client, "mood_insights", about="dentist"))[1])
        assert insights["days"][0]["moods"] == {"calm": 1} and insights["streak_days"] == 1
        assert insights["about"]["entries"] == 1 and insights["about"]["average"] == 4.0

        failed, text = await call(client, "mood_insights", since="yesterday")
        assert failed and "since" in text
        failed, text = await call(client, "log_mood", mood="")
        assert failed


@pytest.mark.slow
def test_no_or_wrong_token_is_401_at_the_http_level(server: ServerProcess) -> None:
    server.start()
    hello = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}):
        r = httpx.post(server.url + "/mcp", json=hello, headers=headers, timeout=30)
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


@pytest.fixture
def read_token_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The app in a real uvicorn server, where the token "reader" has the scope `read`.

    Tokens carry no scope yet, so the adapter is swapped for one that knows this token.
    """
    real = hearth_mcp.authenticate

    async def with_reader(request: Request) -> hearth_mcp.Principal | None:
        if request.headers.get("authorization") == "Bearer reader":
            return hearth_mcp.Principal("reader", "read")
        return await real(request)

    monkeypatch.setattr(hearth_mcp, "authenticate", with_reader)
    port = free_port()
    app = create_app(make_settings(tmp_path / "data"))
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    served = uvicorn.Server(config)
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    yield url
    served.should_exit = True
    thread.join(timeout=30)


@pytest.mark.slow
@pytest.mark.anyio
async def test_a_read_token_gets_a_tool_error_naming_write(read_token_server: str) -> None:
    async with session(read_token_server, "reader") as client:
        failed, text = await call(client, "log_mood", mood="happy")
        assert failed and "'write'" in text
        failed, text = await call(client, "add_thought", text="hello")
        assert failed and "'write'" in text
        failed, text = await call(client, "current_state")
        assert not failed and json.loads(text)["mood"]["mood"] == "neutral"
