"""Mood insights, on this day and time words in search, through the real app and Chroma."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.conftest import AUTH, make_settings

TZ = "Pacific/Auckland"  # far from UTC: a day boundary in the wrong zone shows at once
DAY = 86400.0


@pytest.fixture
def app_client(data_dir: Path) -> Iterator[TestClient]:
    settings = make_settings(data_dir, tz=TZ, mood_scores={"grumpy": 2, "good": 5})
    with TestClient(create_app(settings), headers=AUTH) as test_client:
        yield test_client


def local(day: date, hour: int) -> float:
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(TZ)).timestamp()


def mood(ts: float, label: str, activities: str = "") -> dict[str, object]:
    meta: dict[str, object] = {"mood": label, "context": ""}
    if activities:
        meta["activities"] = activities
    return {"type": "mood", "text": label, "timestamp": ts, "metadata": meta}


def post(client: TestClient, *events: dict[str, object]) -> None:
    assert client.post("/v1/events", json={"events": list(events)}).status_code == 200


def test_mood_days_average_streak_and_activities(app_client: TestClient) -> None:
    today = datetime.now(ZoneInfo(TZ)).date()
    d = [today - timedelta(days=i) for i in range(6)]
    post(
        app_client,
        mood(local(d[0], 9), "rad", "work | friends"),  # 5
        mood(local(d[0], 21), "Grumpy", "work"),  # override: 2
        mood(local(d[1], 23), "good"),  # override: 5 (default 4)
        mood(local(d[2], 1), "meh", "friends"),  # 3, 01:00 local is still that day
        mood(local(d[2], 12), "zonked"),  # unknown: an entry without a score
        mood(local(d[5], 12), "awful", "work"),  # a gap: not part of the streak
    )
    body = app_client.get("/v1/insights/mood").json()
    days = {day["date"]: day for day in body["days"]}
    assert list(days) == sorted(days) and len(days) == 4 == body["logged_days"]
    assert days[d[0].isoformat()] == {
        "date": d[0].isoformat(),
        "score": 3.5,
        "entries": 2,
        "moods": {"rad": 1, "grumpy": 1},
    }
    assert days[d[2].isoformat()]["score"] == 3.0 and days[d[2].isoformat()]["entries"] == 2
    assert body["average"] == pytest.approx((5 + 2 + 5 + 3 + 1) / 5, abs=1e-3)
    assert body["streak_days"] == 3
    assert body["by_activity"] == [
        {"activity": "work", "average": pytest.approx(8 / 3, abs=1e-3), "entries": 3},
        {"activity": "friends", "average": 4.0, "entries": 2},
    ]
    # since/until are instants; the streak ignores the range.
    ranged = app_client.get(
        "/v1/insights/mood", params={"since": local(d[2], 0), "until": local(d[1], 0)}
    ).json()
    assert [x["date"] for x in ranged["days"]] == [d[2].isoformat()]
    assert ranged["average"] == 3.0 and ranged["streak_days"] == 3
    assert app_client.get("/v1/insights/mood", params={"since": 10, "until": 5}).status_code == 422


def test_streak_counts_from_yesterday_until_today_is_logged(app_client: TestClient) -> None:
    empty = app_client.get("/v1/insights/mood").json()
    assert empty == {
        "days": [],
        "average": None,
        "logged_days": 0,
        "streak_days": 0,
        "by_activity": [],
    }
    today = datetime.now(ZoneInfo(TZ)).date()
    post(app_client, *(mood(local(today - timedelta(days=i), 12), "calm") for i in (1, 2)))
    assert app_client.get("/v1/insights/mood").json()["streak_days"] == 2
    assert app_client.put("/v1/mood", json={"mood": "happy"}).status_code == 200
    assert app_client.get("/v1/insights/mood").json()["streak_days"] == 3


def test_about_is_the_mood_within_12_hours_of_matching_events(app_client: TestClient) -> None:
    now = time.time() - 30 * DAY
    post(
        app_client,
        {"type": "work", "text": "Quarterly budget review meeting with finance", "timestamp": now},
        mood(now - 3600, "stressed"),  # 2, within 12 h
        mood(now + 11 * 3600, "anxious"),  # 2, within 12 h
        mood(now + 13 * 3600, "rad"),  # 5, outside
        {"type": "note", "text": "Picnic in the park with my sister", "timestamp": now + 5 * DAY},
        mood(now + 5 * DAY + 600, "happy"),  # 4
    )
    body = app_client.get("/v1/insights/mood", params={"about": "budget meeting"}).json()
    assert body["about"] == {
        "text": "budget meeting",
        "average": 2.0,
        "entries": 2,
        "overall": pytest.approx((2 + 2 + 5 + 4) / 4, abs=1e-3),
    }
    none = app_client.get("/v1/insights/mood", params={"about": "quantum chromodynamics"})
    assert none.json()["about"]["entries"] == 0 and none.json()["about"]["average"] is None


def test_on_this_day_lists_earlier_years_newest_first(app_client: TestClient) -> None:
    def ev(year: int, month: int, day: int, text: str) -> dict[str, object]:
        return {"type": "note", "text": text, "timestamp": local(date(year, month, day), 10)}

    post(
        app_client,
        ev(2021, 3, 14, "pi day 2021"),
        ev(2024, 3, 14, "pi day 2024"),
        ev(2024, 3, 15, "the day after"),
        ev(2026, 3, 14, "this year's"),
    )
    items = app_client.get("/v1/insights/on-this-day", params={"date": "2026-03-14"}).json()
    assert [e["text"] for e in items["items"]] == ["pi day 2024", "pi day 2021"]
    assert app_client.get("/v1/insights/on-this-day", params={"date": "14/03"}).status_code == 422
    assert app_client.get("/v1/insights/on-this-day").status_code == 200


def test_time_words_restrict_search_and_explicit_bounds_win(app_client: TestClient) -> None:
    zone = ZoneInfo(TZ)
    today = datetime.now(zone).date()
    yesterday = today - timedelta(days=1)
    post(
        app_client,
        {"type": "note", "text": "worried about the dentist", "timestamp": local(yesterday, 12)},
        {"type": "note", "text": "worried about the exam", "timestamp": local(today, 0) - 20 * DAY},
    )
    body = app_client.get("/v1/search", params={"q": "what worried me yesterday?"}).json()
    assert [r["text"] for r in body["results"]] == ["worried about the dentist"]
    assert body["interpreted"] == {
        "since": local(yesterday, 0),
        "until": local(today, 0),
        "text": "what worried me?",
    }
    posted = app_client.post("/v1/search", json={"q": "worried yesterday", "since": 0}).json()
    assert posted["interpreted"]["since"] == 0 and posted["interpreted"]["until"] == local(today, 0)
    assert len(posted["results"]) == 2  # the explicit since wins over "yesterday"'s
    literal = app_client.get("/v1/search", params={"q": "worried yesterday", "literal": "true"})
    assert "interpreted" not in literal.json() and len(literal.json()["results"]) == 2
    plain = app_client.get("/v1/search", params={"q": "worried"}).json()
    assert "interpreted" not in plain and len(plain["results"]) == 2
    odd = app_client.get("/v1/search", params={"q": "worried yesterday in 2019"})
    assert odd.status_code == 200 and "interpreted" not in odd.json()
    bad = app_client.get("/v1/search", params={"q": "worried", "since": 10, "until": 5})
    assert bad.status_code == 422


def test_the_mood_history_is_read_at_start_not_by_the_first_request(data_dir: Path) -> None:
    settings = make_settings(data_dir, tz=TZ)
    with TestClient(create_app(settings), headers=AUTH) as first:
        post(first, *(mood(time.time() - i * DAY, "good") for i in range(30)))
    with TestClient(create_app(settings), headers=AUTH) as again:
        moods = again.app.state.memory.insights.moods  # type: ignore[attr-defined]
        deadline = time.monotonic() + 30
        while len(moods.entries) < 30 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(moods.entries) == 30
        assert again.get("/v1/insights/mood").json()["logged_days"] >= 29  # a DST night: 2 in 1
