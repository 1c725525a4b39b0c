"""Crontab lines against their next run times, worked out by hand from cron's rules."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from app import cron
from app.cli import _settings
from tests.conftest import make_settings

# Friday 2026-11-20 12:00 UTC, as in tests/jobs/test_scheduler.py.
NOW = "2026-11-20T12:00:00+00:00"
# Europe/Berlin: clocks go 02:00 -> 03:00 on 2026-03-29 and 03:00 -> 02:00 on 2026-10-25.
BERLIN = "Europe/Berlin"

TABLE: list[tuple[str, str, str, list[str]]] = [
    # (line, zone, now, the next runs)
    ("0 4 * * 7", "UTC", NOW, ["2026-11-22T04:00Z", "2026-11-29T04:00Z"]),
    ("0 4 * * 0", "UTC", NOW, ["2026-11-22T04:00Z", "2026-11-29T04:00Z"]),
    ("10 3 * * 0-6", "UTC", NOW, ["2026-11-21T03:10Z", "2026-11-22T03:10Z"]),
    ("0 9 * * mon-fri", "UTC", NOW, ["2026-11-23T09:00Z", "2026-11-24T09:00Z"]),
    ("*/15 * * * *", "UTC", NOW, ["2026-11-20T12:15Z", "2026-11-20T12:30Z", "2026-11-20T12:45Z"]),
    # Both day fields restricted: the 1st, the 15th, or a Friday.
    ("0 0 1,15 * 5", "UTC", NOW, ["2026-11-27T00:00Z", "2026-12-01T00:00Z", "2026-12-04T00:00Z"]),
    ("@daily", "UTC", NOW, ["2026-11-21T00:00Z", "2026-11-22T00:00Z"]),
    ("@midnight", "UTC", NOW, ["2026-11-21T00:00Z"]),
    ("@hourly", "UTC", NOW, ["2026-11-20T13:00Z", "2026-11-20T14:00Z"]),
    ("@weekly", "UTC", NOW, ["2026-11-22T00:00Z", "2026-11-29T00:00Z"]),
    ("@monthly", "UTC", NOW, ["2026-12-01T00:00Z", "2027-01-01T00:00Z"]),
    ("@yearly", "UTC", NOW, ["2027-01-01T00:00Z", "2028-01-01T00:00Z"]),
    ("@annually", "UTC", NOW, ["2027-01-01T00:00Z"]),
    ("0 12 * jan-mar *", "UTC", NOW, ["2027-01-01T12:00Z", "2027-01-02T12:00Z"]),
    ("0 12 1 JAN,jul *", "UTC", NOW, ["2027-01-01T12:00Z", "2027-07-01T12:00Z"]),
    ("0 0 * * MON", "UTC", NOW, ["2026-11-23T00:00Z"]),
    # Weekday ranges across the Sunday remap: 5-7 and sat-sun end on Sunday.
    ("30 18 * * 5-7", "UTC", NOW, ["2026-11-20T18:30Z", "2026-11-21T18:30Z", "2026-11-22T18:30Z"]),
    (
        "0 8 * * sat-sun",
        "UTC",
        NOW,
        ["2026-11-21T08:00Z", "2026-11-22T08:00Z", "2026-11-28T08:00Z"],
    ),
    ("0 6 * * */2", "UTC", NOW, ["2026-11-21T06:00Z", "2026-11-22T06:00Z", "2026-11-24T06:00Z"]),
    ("0 0 * * 1-7/2", "UTC", NOW, ["2026-11-22T00:00Z", "2026-11-23T00:00Z", "2026-11-25T00:00Z"]),
    ("5,35 */6 * * *", "UTC", NOW, ["2026-11-20T12:05Z", "2026-11-20T12:35Z", "2026-11-20T18:05Z"]),
    ("0 9-17/4 * * *", "UTC", NOW, ["2026-11-20T13:00Z", "2026-11-20T17:00Z", "2026-11-21T09:00Z"]),
    ("1-3 0 * * *", "UTC", NOW, ["2026-11-21T00:01Z", "2026-11-21T00:02Z", "2026-11-21T00:03Z"]),
    ("0 0 29 2 *", "UTC", NOW, ["2028-02-29T00:00Z", "2032-02-29T00:00Z"]),
    ("0 0 31 * *", "UTC", NOW, ["2026-12-31T00:00Z", "2027-01-31T00:00Z", "2027-03-31T00:00Z"]),
    ("0 0 */10 * *", "UTC", NOW, ["2026-11-21T00:00Z", "2026-12-01T00:00Z", "2026-12-11T00:00Z"]),
    ("59 23 31 12 *", "UTC", NOW, ["2026-12-31T23:59Z"]),
    # Friday or the 13th (a Sunday in December).
    ("15 10 13 * fri", "UTC", NOW, ["2026-11-27T10:15Z", "2026-12-04T10:15Z", "2026-12-11T10:15Z"]),
    ("0 0 1-7 * 1", "UTC", NOW, ["2026-11-23T00:00Z", "2026-11-30T00:00Z", "2026-12-01T00:00Z"]),
    # A day field starting with `*` counts as unrestricted, so here both must match:
    # odd days that are Mondays.
    ("0 0 */2 * 1", "UTC", NOW, ["2026-11-23T00:00Z", "2026-12-07T00:00Z", "2026-12-21T00:00Z"]),
    ("0 9 * * mon-fri", BERLIN, NOW, ["2026-11-23T09:00+01:00", "2026-11-24T09:00+01:00"]),
    # Spring forward: 02:30 does not exist; a fixed time runs once when the clocks jump.
    (
        "30 2 * * *",
        BERLIN,
        "2026-03-28T12:00+01:00",
        ["2026-03-29T03:00+02:00", "2026-03-30T02:30+02:00"],
    ),
    # ... while an hourly line just has no run in the missing hour.
    (
        "17 * * * *",
        BERLIN,
        "2026-03-29T01:20+01:00",
        ["2026-03-29T03:17+02:00", "2026-03-29T04:17+02:00"],
    ),
    # Fall back: 02:30 happens twice; a fixed time runs at the first one only.
    (
        "30 2 * * *",
        BERLIN,
        "2026-10-24T12:00+02:00",
        ["2026-10-25T02:30+02:00", "2026-10-26T02:30+01:00"],
    ),
    # ... while a `*/30` line keeps its pace through both copies of the hour.
    (
        "*/30 * * * *",
        BERLIN,
        "2026-10-25T02:10+02:00",
        [
            "2026-10-25T02:30+02:00",
            "2026-10-25T02:00+01:00",
            "2026-10-25T02:30+01:00",
            "2026-10-25T03:00+01:00",
        ],
    ),
]


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize(("line", "zone", "now", "expected"), TABLE, ids=[r[0] for r in TABLE])
def test_next_runs(line: str, zone: str, now: str, expected: list[str]) -> None:
    schedule, tz = cron.parse(line), ZoneInfo(zone)
    runs, after = [], _at(now)
    for _ in expected:
        after = schedule.next_after(after, tz)
        runs.append(after)
    # In UTC: an aware time in a repeated hour never equals one in another zone (PEP 495).
    assert [r.astimezone(UTC) for r in runs] == [_at(e).astimezone(UTC) for e in expected]
    assert all(run.tzinfo == tz for run in runs)


def test_trigger_fires_now_when_now_is_a_run_time_then_moves_on() -> None:
    trigger = cron.trigger("*/15 * * * *", "UTC")
    now = _at(NOW)
    assert trigger.get_next_fire_time(None, now) == now
    assert trigger.get_next_fire_time(now, now) == _at("2026-11-20T12:15Z")
    # Long after the previous run (a suspended laptop): the next run is after now.
    later = _at("2026-11-20T15:07Z")
    assert trigger.get_next_fire_time(now, later) == _at("2026-11-20T15:15Z")


def test_sunday_is_both_zero_and_seven() -> None:
    sunday = frozenset({0})
    assert cron.parse("0 4 * * 7").weekdays == sunday == cron.parse("0 4 * * sun").weekdays
    assert cron.parse("* * * * 5-7").weekdays == {5, 6, 0}
    assert cron.parse("* * * * 0-6").weekdays == set(range(7))
    assert cron.parse("* * * * sun-sat").weekdays == set(range(7))
    assert cron.parse("* * * * sat-sun").weekdays == {6, 0}


INVALID = [
    ("0 3 * * * *", "has 6"),
    ("60 * * * *", "minute field: 60 is outside 0-59"),
    ("* 24 * * *", "hour field: 24 is outside 0-23"),
    ("* * 0 * *", "day-of-month field: 0 is outside 1-31"),
    ("* * * 13 *", "month field: 13 is outside 1-12"),
    ("* * * * 8", "day-of-week field: 8 is outside 0-7"),
    ("foo", "has 1"),
    ("", "has 0"),
    ("   ", "has 0"),
    ("*/0 * * * *", "step '0' is not a positive number"),
    ("5/15 * * * *", "a step needs '*' or a range"),
    ("* * * * fri-mon", "runs backwards"),
    ("* * * * funday", "not a number or a name (sun...sat)"),
    ("* * * foo *", "not a number or a name (jan...dec)"),
    ("0 0 30 2 *", "never runs"),
    ("@reboot", "unknown schedule '@reboot'"),
    ("1,,2 * * * *", "'' is not a number"),
]


@pytest.mark.parametrize(("line", "message"), INVALID, ids=[r[0] or "empty" for r in INVALID])
def test_invalid_lines_are_refused_with_the_reason(line: str, message: str) -> None:
    with pytest.raises(ValueError, match="5 fields|field|schedule|never") as info:
        cron.parse(line)
    assert message in str(info.value)


def test_settings_refuse_a_bad_schedule_naming_the_field(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as info:
        make_settings(tmp_path, backup_schedule="60 * * * *")
    assert info.value.errors()[0]["loc"] == ("backup_schedule",)
    assert "minute field: 60 is outside 0-59" in str(info.value)
    for line in ("0 4 * * 7", "10 3 * * 0-6", "@weekly"):
        assert make_settings(tmp_path, backup_schedule=line).backup_schedule == line


def test_the_places_summary_runs_after_local_midnight_unless_told(tmp_path: Path) -> None:
    assert make_settings(tmp_path).places_schedule == "20 0 * * *"
    assert make_settings(tmp_path, places_schedule="5 1 * * *").places_schedule == "5 1 * * *"
    with pytest.raises(ValidationError) as info:
        make_settings(tmp_path, places_schedule="0 25 * * *")
    assert info.value.errors()[0]["loc"] == ("places_schedule",)
    assert "hour field" in str(info.value)


def test_the_start_stops_with_a_message_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv("HEARTH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HEARTH_CLEANUP_SCHEDULE", "* * * * 8")
    with pytest.raises(SystemExit) as info:
        _settings()
    message = str(info.value.code)
    assert "HEARTH_CLEANUP_SCHEDULE" in message
    assert "day-of-week field: 8 is outside 0-7" in message
