"""The two app formats parsed on their own: Daylio's CSV rows and Health Auto Export's dates."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.errors import ImportRowsError, InvalidInputError
from app.services.ingest.daylio import parse_daylio, plain_text
from app.services.ingest.health_export import parse_health_export, parse_time

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 6, 1, tzinfo=UTC).timestamp()
HEADER = "full_date,date,weekday,time,mood,activities,note_title,note\n"


def utc(*parts: int) -> float:
    return datetime(*parts, tzinfo=UTC).timestamp()


def one_row(time: str, day: str = "2024-01-10") -> float:
    [change] = parse_daylio(f"{HEADER}{day},x,x,{time},good,,,\n".encode(), tz=BERLIN, now=NOW)
    return change.at


@pytest.mark.parametrize(
    ("text", "hour", "minute"),
    [
        ("8:10 pm", 20, 10),
        ("8:10 PM", 20, 10),
        ("8:10\u202fpm", 20, 10),  # newer Android puts a narrow no-break space before pm
        ("12:05 am", 0, 5),
        ("12:05 pm", 12, 5),
        ("20:10", 20, 10),
        ("07:05", 7, 5),
        ("9:03", 9, 3),
    ],
)
def test_daylio_times_12_and_24_hour(text: str, hour: int, minute: int) -> None:
    expected = datetime(2024, 1, 10, hour, minute, tzinfo=BERLIN).timestamp()
    assert one_row(text) == expected


def test_daylio_times_across_daylight_saving_changes() -> None:
    assert one_row("02:30", "2024-03-31") == utc(2024, 3, 31, 1, 30)  # in the gap: 03:30 CEST
    assert one_row("02:30", "2024-10-27") == utc(2024, 10, 27, 0, 30)  # twice: the first
    assert one_row("12:00", "2024-07-01") == utc(2024, 7, 1, 10)


@pytest.mark.parametrize("bad", ["25:00", "13:00 pm", "0:30 am", "8:61", "noon", ""])
def test_daylio_bad_times_are_named(bad: str) -> None:
    with pytest.raises(ImportRowsError, match="line 2: time"):
        one_row(bad)


def test_daylio_rich_text_notes() -> None:
    assert plain_text("a<br>b<br/>c") == "a\nb\nc"
    assert plain_text("<b>bold</b> &amp; <i>it</i>") == "bold & it"
    assert plain_text("<ul><li>one</li><li>two</li></ul>") == "- one\n- two"
    assert plain_text("I <3 you, a<b and fish &notes") == "I <3 you, a<b and fish &notes"


def test_daylio_every_bad_line_is_listed_and_a_future_row_is_bad() -> None:
    rows = ["2024-01-01,x,x,10:00,good,,,"] * 3 + [
        "2024-02-30,x,x,10:00,good,,,",
        "2024-01-01,x,x,10:00,,,,",
        "2030-01-01,x,x,10:00,good,,,",
        "2024-01-01,x,x,10:00,good,,",
    ]
    with pytest.raises(ImportRowsError) as caught:
        parse_daylio((HEADER + "\n".join(rows)).encode(), tz=BERLIN, now=NOW)
    message = str(caught.value)
    for line in (5, 6, 7, 8):
        assert f"line {line}:" in message
    assert "line 4" not in message and "in the future" in message


def test_daylio_same_row_same_id_and_custom_labels_kept() -> None:
    text = f'{HEADER}2024-01-01,x,x,10:00, Not So Good [-] ,"a |  b |",T,N\n'
    first = parse_daylio(text.encode(), tz=BERLIN, now=NOW)
    again = parse_daylio(text.replace("10:00", "10:00 am").encode(), tz=BERLIN, now=NOW)
    assert first[0].id == again[0].id  # a 12-hour re-export is the same entry
    assert first[0].mood == "not so good [-]" and first[0].activities == ("a", "b")
    assert first[0].context == "T\nN"


def test_daylio_old_header_needs_english_months() -> None:
    old = "year,date,weekday,time,mood,activities,note\n"
    [june] = parse_daylio(f"{old}2018,22 Jun,Friday,20:39,bad,,\n".encode(), tz=BERLIN, now=NOW)
    assert june.at == utc(2018, 6, 22, 18, 39)
    with pytest.raises(ImportRowsError, match="line 2: date"):
        parse_daylio(f"{old}2018,22 de junio,viernes,20:39,mal,,\n".encode(), tz=BERLIN, now=NOW)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-02-06 14:30:00 -0800", utc(2024, 2, 6, 22, 30)),
        ("2024-02-06 14:30:00.250 -0800", utc(2024, 2, 6, 22, 30)),
        ("2024-09-21 7:57:00\u202fam +1000", utc(2024, 9, 20, 21, 57)),
        ("2024-09-28 4:51:59 pm +1000", utc(2024, 9, 28, 6, 51, 59)),
        ("2024-02-06T14:30:00Z", utc(2024, 2, 6, 14, 30)),
        ("2024-02-06", utc(2024, 2, 5, 23)),  # no zone: HEARTH_TZ
    ],
)
def test_health_export_dates(text: str, expected: float) -> None:
    parsed = parse_time(text, BERLIN)
    assert parsed is not None and parsed.timestamp() == expected


@pytest.mark.parametrize("bad", ["yesterday", "2024-13-01 10:00:00 +0000", "13:00 pm", 5, None])
def test_health_export_bad_dates(bad: object) -> None:
    assert parse_time(bad, BERLIN) is None


def test_health_export_shape_and_null_lists() -> None:
    with pytest.raises(InvalidInputError):
        parse_health_export(b'{"data": {"stateOfMind": 3}}', tz=BERLIN, now=NOW)
    body = {"data": {"metrics": None, "stateOfMind": [], "workouts": [], "ecg": [{}]}}
    found = parse_health_export(json.dumps(body).encode(), tz=BERLIN, now=NOW)
    assert (found.moods, found.samples, found.ignored) == ([], {}, {"ecg": 1})


def test_health_export_hostile_values_are_cleaned_not_500() -> None:
    body = (
        b'{"data": {"stateOfMind": [{"id": "x", "start": "2024-02-06 14:00:00 -0800",'
        b' "labels": ["\\ud800ok"], "valence": NaN}], "metrics": [{"name": "n", "units": "u",'
        b' "data": [{"date": "2024-02-06", "qty": 1e400}]}]}}'
    )
    found = parse_health_export(body, tz=BERLIN, now=NOW)
    [mood] = found.moods
    assert mood.mood == "?ok" and "valence" not in mood.details
    assert json.dumps(mood.details, ensure_ascii=False).encode()  # storable as UTF-8
    assert found.skipped == 1 and found.problems == ["metrics[0].data[0]: no quantity"]
