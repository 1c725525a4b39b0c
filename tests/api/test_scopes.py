"""The scope table of API.md "Token scopes", and a damaged token file never crashing the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.api.auth import Principal, required_scope
from app.storage.tokens import TokenStore
from tests.utils.server import run_cli


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("GET", "/v1/state", "read"),
        ("HEAD", "/v1/mood", "read"),
        ("GET", "/v1/events/abc", "read"),
        ("GET", "/metrics", "read"),
        ("GET", "/v1/export", "full"),
        ("PUT", "/v1/mood", "write"),
        ("POST", "/v1/thoughts", "write"),
        ("POST", "/v1/events", "write"),
        ("POST", "/v1/search", "write"),
        ("POST", "/v1/ingest/owntracks", "write"),
        ("POST", "/v1/import/daylio", "write"),
        ("DELETE", "/v1/events/abc", "full"),
        ("DELETE", "/v1/thoughts/abc", "full"),
        ("POST", "/v1/backups", "full"),
        ("POST", "/v1/jobs/backup/run", "full"),
        ("POST", "/v1/blog/refresh", "full"),
        ("POST", "/v1/notifications/test", "full"),
    ],
)
def test_required_scope(method: str, path: str, scope: str) -> None:
    assert required_scope(method, path) == scope


def test_scopes_nest() -> None:
    assert Principal("p", "write").allows("read") and not Principal("p", "write").allows("full")
    assert Principal("d", "read").allows("read") and not Principal("d", "read").allows("write")
    assert Principal("admin", "full").allows("write")


def test_damaged_file_is_recovered_from_its_backup(tmp_path: Path) -> None:
    state = tmp_path / "data" / "state"
    store = TokenStore(state)
    store.create("phone", "write")
    store.create("laptop")
    (state / "tokens.json").write_text("{ broken")
    listed = run_cli("token", "list", data_dir=tmp_path / "data")
    assert listed.returncode == 0, listed.stderr
    assert "phone" in listed.stdout and "write" in listed.stdout
    assert "corrupt" in listed.stderr
    assert len(list(state.glob("tokens.json.corrupt-*"))) == 1
    assert set(json.loads((state / "tokens.json").read_text())["tokens"]) == {"phone"}


def test_damaged_file_without_backup_gives_a_clear_message(tmp_path: Path) -> None:
    state = tmp_path / "data" / "state"
    state.mkdir(parents=True)
    (state / "tokens.json").write_bytes(b"\xff\xfe not json")
    listed = run_cli("token", "list", data_dir=tmp_path / "data")
    assert listed.returncode == 0, listed.stderr
    assert "Traceback" not in listed.stderr
    assert "tokens.json" in listed.stderr and listed.stdout == ""
    created = run_cli("token", "create", "fresh", data_dir=tmp_path / "data")
    assert created.returncode == 0, created.stderr


def test_revoked_token_is_not_revived_by_recovery(tmp_path: Path) -> None:
    state = tmp_path / "state"
    store = TokenStore(state)
    token = store.create("old")
    store.create("keep")
    store.revoke("old")
    (state / "tokens.json").write_text("garbage")
    fresh = TokenStore(state)
    fresh.refresh(1e9)
    assert fresh.match(token, 1e9) is None
    assert fresh.count == 1 and fresh.warning and "corrupt" in fresh.warning
