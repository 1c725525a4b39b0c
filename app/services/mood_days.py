"""Per-day mood totals with running sums, so any range is summed from its days.

Summing 11k moods per request cost ~15 ms of the insights answer (and 140 ms on a busy
machine); the totals change only when a mood does. Built once per change of the mood log
from its entries (oldest first), they answer a range as: the finished day rows of the
days it covers whole, the differences of running sums for the average and activities,
and a scan of the entries of at most two days cut by `since`/`until`. The streak is a
table lookup: the run of consecutive days that ends at each logged day.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np


@dataclass(frozen=True)
class MoodEntry:
    ts: float
    date: str  # local date in HEARTH_TZ
    label: str
    score: int | None
    activities: tuple[str, ...]


@dataclass
class Tally:
    """Sums of one stretch of entries: the day row's and the answer's figures."""

    total: int = 0
    scored: int = 0
    entries: int = 0
    moods: dict[str, int] = field(default_factory=dict)
    acts: dict[str, list[int]] = field(default_factory=dict)  # name -> [sum, scored, entries]

    def add(self, entry: MoodEntry) -> None:
        self.entries += 1
        self.moods[entry.label] = self.moods.get(entry.label, 0) + 1
        score = entry.score
        if score is not None:
            self.total += score
            self.scored += 1
        for name in entry.activities:
            act = self.acts.get(name)
            if act is None:
                act = self.acts[name] = [0, 0, 0]
            act[2] += 1
            if score is not None:
                act[0] += score
                act[1] += 1


def ratio(total: float, count: int) -> float | None:
    return round(total / count, 3) if count else None


def day_row(day: str, tally: Tally) -> dict[str, Any]:
    return {
        "date": day,
        "score": ratio(tally.total, tally.scored),
        "entries": tally.entries,
        "moods": tally.moods,
    }


class MoodDays:
    def __init__(self, entries: Sequence[MoodEntry]) -> None:
        self.entries = entries
        self.starts: list[int] = []  # index of each day's first entry
        self.rows: list[dict[str, Any]] = []  # one finished answer row per day
        self.ordinals: list[int] = []
        self._runs: list[int] = []  # consecutive days ending at each day
        tallies: list[Tally] = []
        for i, entry in enumerate(entries):
            if not self.rows or self.rows[-1]["date"] != entry.date:
                if tallies:
                    self.rows[-1] = day_row(self.rows[-1]["date"], tallies[-1])
                self.starts.append(i)
                self.rows.append({"date": entry.date})
                tallies.append(Tally())
            tallies[-1].add(entry)
        if tallies:
            self.rows[-1] = day_row(self.rows[-1]["date"], tallies[-1])
        for row in self.rows:
            day = date.fromisoformat(row["date"]).toordinal()
            follows = bool(self.ordinals) and self.ordinals[-1] == day - 1
            self._runs.append(self._runs[-1] + 1 if follows else 1)
            self.ordinals.append(day)
        self._sums = np.zeros((len(tallies) + 1, 2), dtype=np.int64)  # running total, scored
        self._sums[1:] = np.cumsum([(t.total, t.scored) for t in tallies], axis=0).reshape(-1, 2)
        names = sorted({name for t in tallies for name in t.acts})
        self._names = names
        column = {name: i for i, name in enumerate(names)}
        acts = np.zeros((len(tallies) + 1, len(names), 3), dtype=np.int64)
        for d, tally in enumerate(tallies, start=1):
            for name, figures in tally.acts.items():
                acts[d, column[name]] = figures
        self._acts = np.cumsum(acts, axis=0)

    def streak(self, today: date) -> int:
        """Consecutive logged days ending today, or yesterday while today has none yet."""
        day = today.toordinal()
        i = bisect.bisect_right(self.ordinals, day) - 1
        if i >= 0 and self.ordinals[i] >= day - 1:
            return self._runs[i]
        return 0

    def summary(self, lo: int, hi: int) -> tuple[list[dict[str, Any]], Tally]:
        """Day rows and sums of entries[lo:hi]; the Tally's `moods` is left empty."""
        out = Tally()
        if lo >= hi:
            return [], out
        first = bisect.bisect_right(self.starts, lo) - 1
        last = bisect.bisect_right(self.starts, hi - 1) - 1
        head: list[dict[str, Any]] = []
        tail: list[dict[str, Any]] = []
        if lo != self.starts[first]:  # the range starts within a day
            head = [self._scan(lo, min(hi, self._end(first)), out)]
            first += 1
        if first <= last and hi != self._end(last):  # ... or ends within one
            tail = [self._scan(self.starts[last], hi, out)]
            last -= 1
        whole = self.rows[first : last + 1] if first <= last else []
        if whole:
            total, scored = self._sums[last + 1] - self._sums[first]
            out.total += int(total)
            out.scored += int(scored)
            span = self._acts[last + 1] - self._acts[first]
            for name, (act_sum, act_scored, act_n) in zip(self._names, span.tolist(), strict=True):
                if act_n:
                    act = out.acts.setdefault(name, [0, 0, 0])
                    act[0] += act_sum
                    act[1] += act_scored
                    act[2] += act_n
        return head + whole + tail, out

    def _end(self, day: int) -> int:
        return self.starts[day + 1] if day + 1 < len(self.starts) else len(self.entries)

    def _scan(self, lo: int, hi: int, out: Tally) -> dict[str, Any]:
        """One day's entries lo..hi, added to `out` as well."""
        tally = Tally()
        for entry in self.entries[lo:hi]:
            tally.add(entry)
        out.total += tally.total
        out.scored += tally.scored
        for name, (act_sum, act_scored, act_n) in tally.acts.items():
            act = out.acts.setdefault(name, [0, 0, 0])
            act[0] += act_sum
            act[1] += act_scored
            act[2] += act_n
        return day_row(self.entries[lo].date, tally)
