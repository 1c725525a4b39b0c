"""The `hearth` command as a user runs it: real subprocesses on a temp data dir."""

from __future__ import annotations

from pathlib import Path

from tests.utils.server import run_cli


def test_token_create_list_revoke(tmp_path: Path) -> None:
    data = tmp_path / "data"
    created = run_cli("token", "create", "phone", data_dir=data)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("hth_") and len(token) > 40
    assert token not in (data / "state" / "tokens.json").read_text()

    again = run_cli("token", "create", "phone", data_dir=data)
    assert again.returncode == 1 and "exists" in again.stderr

    listed = run_cli("token", "list", data_dir=data)
    assert "phone" in listed.stdout and "never" in listed.stdout

    assert run_cli("token", "revoke", "phone", data_dir=data).returncode == 0
    assert "phone" not in run_cli("token", "list", data_dir=data).stdout
    missing = run_cli("token", "revoke", "phone", data_dir=data)
    assert missing.returncode == 1 and "no token named" in missing.stderr


def test_bad_configuration_names_the_variable(tmp_path: Path) -> None:
    result = run_cli("token", "list", data_dir=tmp_path / "d", HEARTH_PORT="http")
    assert result.returncode != 0
    assert "HEARTH_PORT" in result.stderr


def test_bad_token_name_is_refused(tmp_path: Path) -> None:
    result = run_cli("token", "create", "no spaces", data_dir=tmp_path / "d")
    assert result.returncode != 0 and "token names" in result.stderr
