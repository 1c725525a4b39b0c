"""Shared fixtures: real temp data dirs, the real app, real server processes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.storage.embeddings import Embedder, get_embedder
from tests.utils.blog_server import BlogHandler
from tests.utils.chroma_server import chroma_server as start_chroma
from tests.utils.server import ServerProcess

ADMIN_TOKEN = "test-admin-token-0123456789"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": data_dir,
        "api_token": ADMIN_TOKEN,
        "access_log": False,
        "blog_urls": [],
        # In-process apps keep the store inline (a Chroma child per test would add ~1 s
        # each); real server processes (`ServerProcess`) run the default, the child.
        "chroma_mode": "inline",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return make_settings(data_dir)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), headers=AUTH) as test_client:
        yield test_client


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A real `hearth serve` process on a free port, killed at the end."""
    proc = ServerProcess(tmp_path / "data", token=ADMIN_TOKEN)
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def blog_url() -> Iterator[str]:
    """The feed URL of a real local blog server."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BlogHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    BlogHandler.slow.clear()
    yield f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
    server.shutdown()
    server.server_close()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real model, loaded once for the whole session."""
    return get_embedder()


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server process for the whole session; its URL."""
    with start_chroma(tmp_path_factory.mktemp("chroma-server")) as url:
        yield url
