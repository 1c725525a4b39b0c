"""Daylio's CSV export, each header version Daylio has written, against a real server."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN
from tests.utils.server import ServerProcess, run_cli

pytestmark = pytest.mark.slow

URL = "/v1/import/daylio"
FILES = Path(__file__).resolve().parents[1] / "fixtures" / "daylio"
CSV = {"Content-Type": "text/csv"}
HEADER = "full_date,date,weekday,time,mood,activities,note_title,note\n"


@pytest.fixture(scope="module")
def daylio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = ServerProcess(
        tmp_path_factory.mktemp("daylio") / "data",
        token=ADMIN_TOKEN,
        HEARTH_TZ="Europe/Berlin",
        HEARTH_MAX_BODY_BYTES="65536",
    )
    try:
        yield server.start()
    finally:
        server.stop()


def utc(*parts: int) -> float:
    return datetime(*parts, tzinfo=UTC).timestamp()


def upload(c: httpx.Client, name: str) -> httpx.Response:
    return c.post(URL, content=(FILES / name).read_bytes(), headers=CSV)


def moods_between(c: httpx.Client, since: float, until: float) -> list[dict[str, Any]]:
    params = {"type": "mood", "since": since, "until": until, "limit": 500}
    return c.get("/v1/events", params=params).json()["items"]


def mood_count(c: httpx.Client) -> int:
    return int(c.get("/v1/status").json()["events"]["by_type"].get("mood", 0))


def test_current_export_with_bom_crlf_12h_and_24h_times_and_a_multiline_note(
    daylio: ServerProcess,
) -> None:
    with daylio.client() as c:
        r = upload(c, "current.csv")
        assert r.status_code == 200, r.text
        assert r.json() == {"imported": 3, "duplicates": 0, "rows": 3}
        got = moods_between(c, utc(2024, 3, 30), utc(2024, 4, 1))
        # Berlin: CET (+1) on the 30th, CEST (+2) after the clocks went forward on the 31st
        assert [(e["timestamp"], e["metadata"]["mood"]) for e in got] == [
            (utc(2024, 3, 31, 8, 0), "rad"),
            (utc(2024, 3, 30, 19, 10), "vaguely ok"),  # "8:10 pm", a custom label
            (utc(2024, 3, 30, 9, 0), "meh"),  # "10:00 AM"
        ]
        rad, vaguely, meh = (e["metadata"] for e in got)
        assert rad["context"] == "Spring\nClocks went forward\nslept badly"
        assert rad["activities"] == "work | walk" and rad["source"] == "daylio"
        assert vaguely["context"] == "A note\non two lines" and vaguely["activities"] == "reading"
        assert meh["context"] == "" and "activities" not in meh
        history = c.get("/v1/mood/history", params={"since": utc(2024, 3, 31)}).json()["items"]
        assert {"mood": "rad", "context": rad["context"], "updated_at": utc(2024, 3, 31, 8)} in (
            history
        )

        again = upload(c, "current.csv")
        assert again.json() == {"imported": 0, "duplicates": 3, "rows": 3}
        assert len(moods_between(c, utc(2024, 3, 30), utc(2024, 4, 1))) == 3


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "scales.csv",
            [(utc(2024, 4, 12, 12, 3), "helpless"), (utc(2024, 4, 12, 10), "rested")],
        ),
        ("old.csv", [(utc(2018, 6, 22, 18, 39), "bad"), (utc(2018, 6, 19, 18), "good")]),
        (
            "full_date_no_title.csv",
            [
                (utc(2021, 10, 16, 16, 43), "sin animo"),  # Spanish date column: full_date
                (utc(2020, 5, 30, 16, 50), "rad"),
                (utc(2020, 5, 25, 12, 58), "meh"),
            ],
        ),
    ],
)
def test_older_and_newer_header_versions(
    daylio: ServerProcess, name: str, expected: list[tuple[float, str]]
) -> None:
    with daylio.client() as c:
        r = upload(c, name)
        assert r.status_code == 200, r.text
        assert r.json()["imported"] == len(expected)
        got = moods_between(c, min(e[0] for e in expected), max(e[0] for e in expected) + 1)
        assert [(e["timestamp"], e["metadata"]["mood"]) for e in got] == expected
    if name == "scales.csv":
        rested = got[1]["metadata"]
        assert rested["scales"] == "Sleep Quality: 8/10 points | Sleep Time: 8:00"
        assert rested["context"] == "Testing the note." and rested["activities"] == "spending time"
    if name == "old.csv":
        assert got[1]["metadata"]["activities"] == "work | Bike"


def test_a_bad_line_7_is_named_and_nothing_is_stored(daylio: ServerProcess) -> None:
    with daylio.client() as c:
        before = (mood_count(c), c.get("/v1/mood").json())
        r = upload(c, "bad_line_7.csv")
        assert r.status_code == 422, r.text
        detail = str(r.json()["detail"])
        assert "line 7" in detail and "25:99" in detail and "line 8" not in detail
        assert (mood_count(c), c.get("/v1/mood").json()) == before
        assert moods_between(c, utc(2022, 12, 31), utc(2023, 1, 6)) == []


def test_empty_header_only_multipart_and_too_large_bodies(daylio: ServerProcess) -> None:
    with daylio.client() as c:
        empty = c.post(URL, content=b"", headers=CSV)
        assert empty.status_code == 422 and "empty" in str(empty.json()["detail"])
        assert c.post(URL, content=HEADER.encode(), headers=CSV).json() == {
            "imported": 0,
            "duplicates": 0,
            "rows": 0,
        }
        not_daylio = c.post(URL, content=b"name,value\na,1\n", headers=CSV)
        assert not_daylio.status_code == 422 and "line 1" in str(not_daylio.json()["detail"])
        form = c.post(URL, files={"file": ("daylio_export.csv", HEADER.encode())})
        assert form.status_code == 422 and "--data-binary" in str(form.json()["detail"])
        big = HEADER + "2019-01-01,x,x,10:00,good,,,\n" * 3000
        assert c.post(URL, content=big.encode(), headers=CSV).status_code == 413


def test_only_a_newer_row_changes_the_current_mood(daylio: ServerProcess) -> None:
    now = time.time()
    yesterday = datetime.fromtimestamp(now - 86400, UTC).date()
    with daylio.client() as c:
        assert c.put("/v1/mood", json={"mood": "phone", "updated_at": now - 3 * 86400}).json()[
            "applied"
        ]
        older = f"{HEADER}2024-05-01,x,x,12:00,sleepy,,,\n"
        assert c.post(URL, content=older.encode(), headers=CSV).json()["imported"] == 1
        assert c.get("/v1/mood").json()["mood"] == "phone"
        newer = f"{HEADER}{yesterday},x,x,12:00,Bright,,Title,Body\n"
        assert c.post(URL, content=newer.encode(), headers=CSV).json()["imported"] == 1
        current = c.get("/v1/mood").json()
        assert (current["mood"], current["context"]) == ("bright", "Title\nBody")


def test_cli_import_checks_the_file_first_and_is_idempotent(tmp_path: Path) -> None:
    data = tmp_path / "data"
    bad = run_cli("import", "--format", "daylio", str(FILES / "bad_line_7.csv"), data_dir=data)
    assert bad.returncode == 2, bad.stderr
    assert "line 7" in bad.stderr and "Traceback" not in bad.stderr and bad.stdout == ""
    assert not (data / "chroma").exists()  # refused before the data dir was opened
    missing = run_cli("import", "--format", "daylio", str(tmp_path / "nope.csv"), data_dir=data)
    assert missing.returncode == 2 and "cannot read" in missing.stderr

    env = {"HEARTH_TZ": "Europe/Berlin"}
    path = str(FILES / "current.csv")
    first = run_cli("import", "--format", "daylio", path, data_dir=data, **env)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {"imported": 3, "duplicates": 0, "rows": 3}
    second = run_cli("import", "--format", "daylio", path, data_dir=data, **env)
    assert json.loads(second.stdout) == {"imported": 0, "duplicates": 3, "rows": 3}
    stats = json.loads(run_cli("stats", data_dir=data).stdout)
    assert stats["events"]["by_type"] == {"mood": 3}
    assert stats["mood"]["mood"] == "rad" and stats["mood"]["updated_at"] == utc(2024, 3, 31, 8)
