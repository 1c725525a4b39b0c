"""Time words: API.md's phrases against a fixed now (Wednesday 2026-11-18 15:30, Berlin)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from app.services.timewords import interpret, names_a_date

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 18, 15, 30, tzinfo=TZ)


def at(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=TZ)


CASES = [
    # phrase, since, until (local time), text left for the search by meaning
    ("what did I do yesterday", "2026-11-17", "2026-11-18", "what did I do"),
    ("notes from today", "2026-11-18", "2026-11-19", "notes"),
    (
        "what was I worried about last week?",
        "2026-11-09",
        "2026-11-16",
        "what was I worried about?",
    ),
    ("runs in the past week", "2026-11-11 15:30", None, "runs"),
    ("runs last 7 days", "2026-11-11 15:30", None, "runs"),
    ("sleep in the past 30 days", "2026-10-19 15:30", None, "sleep"),
    ("books past month", "2026-10-18 15:30", None, "books"),
    ("trips this year", "2026-01-01", "2027-01-01", "trips"),
    ("what did I cook in March 2026", "2026-03-01", "2026-04-01", "what did I cook"),
    ("gigs in 2025", "2025-01-01", "2026-01-01", "gigs"),
    ("headaches since Monday", "2026-11-16", None, "headaches"),
    ("plans before June", None, "2026-06-01", "plans"),
    ("coffee with Anna on Friday", "2026-11-13", "2026-11-14", "coffee with Anna"),
    ("dinner on 14 March 2026", "2026-03-14", "2026-03-15", "dinner"),
    ("2026-03-14 dinner", "2026-03-14", "2026-03-15", "dinner"),
    ("walks 3 days ago", "2026-11-15", "2026-11-16", "walks"),
    ("last month", "2026-10-01", "2026-11-01", ""),
    ("this week", "2026-11-16", "2026-11-23", ""),
    ("hike last weekend", "2026-11-14", "2026-11-16", "hike"),
    ("trip to Rome in April", "2026-04-01", "2026-05-01", "trip to Rome"),
    ("since June 2025 running", "2025-06-01", None, "running"),
]


@pytest.mark.parametrize(("query", "since", "until", "text"), CASES)
def test_phrases_become_ranges_in_the_zone(
    query: str, since: str | None, until: str | None, text: str
) -> None:
    found = interpret(query, NOW)
    assert found is not None
    assert (found.since, found.until, found.text) == (at(since), at(until), text)


@pytest.mark.parametrize(
    "query",
    [
        "may I ask about work",
        "march of the penguins",
        "second coffee",
        "2 a.m. thoughts",
        "ticket HRT-2041",
        "the 2025 tax return",
        "Sunday brunch ideas",
        "dentist appointment",
    ],
)
def test_queries_without_time_words_are_untouched(query: str) -> None:
    assert interpret(query, NOW) is None


def test_contradicting_or_impossible_phrases_leave_the_query_literal() -> None:
    assert interpret("yesterday in 2025", NOW) is None
    assert interpret("dinner on 31 February", NOW) is None


def test_calendar_week_is_monday_based_across_a_dst_change() -> None:
    found = interpret("last week", datetime(2026, 10, 28, 9, 0, tzinfo=TZ))
    assert found is not None
    assert (found.since, found.until) == (at("2026-10-19"), at("2026-10-26"))
    assert found.since is not None and found.until is not None
    assert found.until.timestamp() - found.since.timestamp() == 7 * 86400 + 3600


def test_only_named_dates_need_the_parser() -> None:
    assert names_a_date("in March 2026") and names_a_date("since Monday")
    assert not names_a_date("yesterday") and not names_a_date("may I ask")
