"""Per-day mood totals give the same answer as summing every mood of the range."""

from __future__ import annotations

import random
from datetime import date, timedelta

from app.services.mood_days import MoodDays, MoodEntry, Tally, day_row

LABELS = {"rad": 5, "good": 4, "meh": 3, "awful": 1, "zonked": None}
ACTIVITIES = ["work", "friends", "sport"]


def entries(days: int, seed: int) -> list[MoodEntry]:
    rng = random.Random(seed)
    out = []
    start = date(2024, 1, 1)
    for d in range(days):
        if rng.random() < 0.2:
            continue  # a day without moods breaks the streak
        for k in range(rng.randint(1, 4)):
            label = rng.choice(list(LABELS))
            acts = tuple(rng.sample(ACTIVITIES, rng.randint(0, 2)))
            day = (start + timedelta(days=d)).isoformat()
            out.append(MoodEntry(d * 86400.0 + k * 3600, day, label, LABELS[label], acts))
    return out


def naive(chosen: list[MoodEntry]) -> tuple[list[dict[str, object]], Tally]:
    by_day: dict[str, Tally] = {}
    whole = Tally()
    for entry in chosen:
        by_day.setdefault(entry.date, Tally()).add(entry)
        whole.add(entry)
    return [day_row(d, t) for d, t in by_day.items()], whole


def test_every_range_matches_a_sum_over_its_moods() -> None:
    log = entries(60, seed=5)
    days = MoodDays(log)
    rng = random.Random(9)
    cuts = [(0, len(log)), (0, 0), (3, 4), (len(log) - 1, len(log))]
    cuts += [
        tuple(sorted((rng.randint(0, len(log)), rng.randint(0, len(log))))) for _ in range(300)
    ]
    for lo, hi in cuts:
        rows, sums = days.summary(lo, hi)
        want_rows, want = naive(log[lo:hi])
        assert rows == want_rows, (lo, hi)
        assert (sums.total, sums.scored) == (want.total, want.scored), (lo, hi)
        assert {k: v for k, v in sums.acts.items() if v[2]} == want.acts, (lo, hi)


def test_streak_is_the_run_of_days_ending_today_or_yesterday() -> None:
    day = date(2024, 3, 10)
    log = [
        MoodEntry(float(i), (day - timedelta(days=n)).isoformat(), "good", 4, ())
        for i, n in enumerate([5, 2, 1, 1, 0])
    ]
    days = MoodDays(log)
    assert days.streak(day) == 3
    assert days.streak(day + timedelta(days=1)) == 3  # today not logged yet
    assert days.streak(day + timedelta(days=2)) == 0
    assert days.streak(day - timedelta(days=3)) == 0  # only day-5 before, two days back
    assert days.streak(day - timedelta(days=4)) == 1
    assert MoodDays([]).streak(day) == 0
