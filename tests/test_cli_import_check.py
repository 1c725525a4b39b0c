"""`hearth import FILE` checks the whole file first: any bad line -> exit 2 naming every
bad line, no traceback, nothing changed (state files included); a good file imports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.storage.embeddings import MODEL_NAME
from tests.utils.server import run_cli

pytestmark = pytest.mark.slow

DIM = 384


def header() -> dict[str, object]:
    return {"kind": "header", "format": 1, "embedder": MODEL_NAME, "counts": {"total": 3}}


def event(event_id: object, text: object = "hello", **extra: object) -> dict[str, object]:
    return {
        "kind": "event",
        "id": event_id,
        "type": "note",
        "text": text,
        "timestamp": 1_700_000_000.0,
        "metadata": {},
        "embedding": [0.05] * DIM,
        **extra,
    }


def write(path: Path, lines: list[object]) -> Path:
    path.write_text(
        "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n"
    )
    return path


def state_files(data: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((data / "state").glob("*")) if p.is_file()}


def test_a_bad_file_changes_nothing_and_names_every_bad_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    content = json.dumps({"mood": "imported", "context": "", "updated_at": 5})
    mood = {"kind": "state", "name": "current_mood.txt", "content": content}
    bad = write(
        tmp_path / "bad.ndjson",
        [
            header(),  # 1
            mood,  # 2: valid, must not be applied
            event("ok-1"),  # 3
            "{not json",  # 4
            event(None),  # 5: no id
            event("ok-2", text=""),  # 6: empty text
            {**event("typed"), "type": "Not A Type"},  # 7
            {**event("ts"), "timestamp": "yesterday"},  # 8: wrong type
            event("short", embedding=[0.1] * 7),  # 9: wrong-size vector
            event("ok-1", text="something else"),  # 10: same id, other content
            event("ok-1"),  # 11: same id, same content: fine
            {"kind": "state", "name": "current_mood.txt", "content": "{broken"},  # 12
        ],
    )
    (data / "state").mkdir(parents=True)
    current = {"schema": 1, "mood": "before", "context": "", "updated_at": 1}
    (data / "state" / "current_mood.txt").write_text(json.dumps(current))

    result = run_cli("import", str(bad), data_dir=data, timeout=600)

    assert result.returncode == 2, (result.returncode, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    for number in (4, 5, 6, 7, 8, 9, 10, 12):
        assert f"line {number}:" in result.stderr, (number, result.stderr)
    for number in (2, 3, 11):
        assert f"line {number}:" not in result.stderr
    # Opening the install may rewrite files in its own format; the import changed nothing.
    assert json.loads((data / "state" / "current_mood.txt").read_text())["mood"] == "before"
    assert not [name for name, content in state_files(data).items() if b"imported" in content]

    good = write(tmp_path / "good.ndjson", [header(), mood, event("ok-1"), event("ok-2")])
    done = run_cli("import", str(good), data_dir=data, timeout=600)
    assert done.returncode == 0, done.stderr
    result_json = json.loads(done.stdout)  # only JSON on stdout
    assert (result_json["created"], result_json["duplicates"]) == (2, 0)  # nothing before
    assert json.loads((data / "state" / "current_mood.txt").read_text())["mood"] == "imported"


def test_a_missing_file_is_exit_2_without_traceback(tmp_path: Path) -> None:
    result = run_cli(
        "import", str(tmp_path / "nope.ndjson"), data_dir=tmp_path / "data", timeout=600
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "nope.ndjson" in result.stderr
