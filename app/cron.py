"""Crontab lines: one parser for settings validation and for the scheduler.

Standard (Vixie) crontab semantics: five fields `minute hour day-of-month month
day-of-week`; `*`, `a-b`, lists, `*/n` and `a-b/n`; month names `jan`-`dec` and weekday
names `sun`-`sat` (any case); weekday 0 and 7 are both Sunday (`sat-sun` means 6-7);
`@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly`. When both
the day-of-month and the weekday field are restricted (neither starts with `*`), a day
matches if EITHER does, as cron does: `0 0 1,15 * 5` runs on the 1st, the 15th and Fridays.

Why our own next-run computation and not APScheduler's CronTrigger: CronTrigger counts
weekdays from Monday, ANDs day-of-month with weekday, and walks daylight-saving changes
its own way; an OrTrigger of two CronTriggers would fix the first two but not the third.
Scanning days (at most a few thousand) and the matching minutes of each is short, and
the rules below then hold exactly. Times are wall-clock times in the configured zone:
- A time that does not exist (skipped by a spring-forward change) runs once, when the
  clocks jump, if the line names a fixed minute and hour (`30 2 * * *`), as Vixie cron
  does; a line with `*` in the minute or hour field (`*/15 * * * *`) just has no runs
  in the skipped hour (it keeps running every 15 real minutes).
- A time that exists twice (fall back) runs once, at its first occurrence, for a fixed
  minute and hour; lines with `*` in the minute or hour field run at both occurrences, so
  `*/15 * * * *` keeps its pace through the repeated hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger

MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
# (name, low, high, names whose index is the value offset by `low`)
_FIELDS = [
    ("minute", 0, 59, None),
    ("hour", 0, 23, None),
    ("day-of-month", 1, 31, None),
    ("month", 1, 12, MONTHS),
    ("day-of-week", 0, 7, DAYS),
]
_MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
SEARCH_DAYS = 366 * 9  # Feb 29 can be eight years away (2096 -> 2104).


@dataclass(frozen=True)
class CronSchedule:
    line: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday ... 6 = Saturday
    day_star: bool
    weekday_star: bool
    fixed_time: bool  # neither minute nor hour starts with `*`

    def day_matches(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        in_month = day.day in self.days
        in_week = (day.isoweekday() % 7) in self.weekdays
        if self.day_star or self.weekday_star:
            return in_month and in_week
        return in_month or in_week

    def next_after(self, after: datetime, tz: ZoneInfo, *, inclusive: bool = False) -> datetime:
        """The first run at or after (`inclusive`) or strictly after `after`, in `tz`."""
        after = after.astimezone(UTC)
        local = after.astimezone(tz).replace(tzinfo=None, fold=0)
        earliest = local - timedelta(hours=3)  # a fold can put an earlier wall time later
        start_day = earliest.date()
        hours, minutes = sorted(self.hours), sorted(self.minutes)
        for offset in range(SEARCH_DAYS):
            day = start_day + timedelta(days=offset)
            if not self.day_matches(day):
                continue
            steady = _steady(day, tz)  # then wall order is time order
            floor = local if steady else earliest
            found = (
                when
                for hour in hours
                if hour >= floor.hour or day > floor.date()
                for minute in minutes
                if (wall := datetime(day.year, day.month, day.day, hour, minute)) >= floor
                for when in self._instants(wall, tz)
                if when > after or (inclusive and when == after)
            )
            if steady:
                first = next(found, None)
                if first is not None:
                    return first.astimezone(tz)
            elif hits := list(found):  # a fold puts wall times out of order: take the earliest
                return min(hits).astimezone(tz)
        raise ValueError(f"{self.line!r} has no run in the next {SEARCH_DAYS // 366} years")

    def _instants(self, wall: datetime, tz: ZoneInfo) -> list[datetime]:
        """The real instants of a wall-clock time, by the rules in the module docstring."""
        first = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
        if not _exists(wall, tz):  # skipped by a spring-forward change
            if not self.fixed_time:
                return []
            jump = wall + timedelta(minutes=1)
            while not _exists(jump, tz):
                jump += timedelta(minutes=1)
            return [jump.replace(tzinfo=tz).astimezone(UTC)]
        second = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
        if first != second and not self.fixed_time:  # repeated by a fall-back change
            return [first, second]
        return [first]


def _steady(day: date, tz: ZoneInfo) -> bool:
    """True when the zone's offset does not change during this day."""
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    return start.utcoffset() == (start + timedelta(days=1)).utcoffset()


def _exists(wall: datetime, tz: ZoneInfo) -> bool:
    return wall.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall


class CronScheduleTrigger(BaseTrigger):
    """An APScheduler trigger that fires when a CronSchedule says, in one time zone."""

    __slots__ = ("schedule", "tz")

    def __init__(self, schedule: CronSchedule, tz: ZoneInfo) -> None:
        self.schedule = schedule
        self.tz = tz

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        if previous_fire_time is not None:
            return self.schedule.next_after(max(previous_fire_time, now), self.tz)
        return self.schedule.next_after(now, self.tz, inclusive=True)

    def __str__(self) -> str:
        return f"cron[{self.schedule.line}]"


def _value(text: str, field: str, low: int, high: int, names: list[str] | None) -> int:
    if names is not None and text.lower() in names:
        return names.index(text.lower()) + (1 if field == "month" else 0)
    if not text.isdigit():
        hint = f" or a name ({names[0]}...{names[-1]})" if names else ""
        raise ValueError(f"{field} field: {text!r} is not a number{hint}")
    value = int(text)
    if not low <= value <= high:
        raise ValueError(f"{field} field: {value} is outside {low}-{high}")
    return value


def _field(text: str, field: str, low: int, high: int, names: list[str] | None) -> set[int]:
    values: set[int] = set()
    for part in text.split(","):
        span, slash, step_text = part.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ValueError(f"{field} field: step {step_text!r} is not a positive number")
            step = int(step_text)
        if span == "*":
            first, last = low, (6 if field == "day-of-week" else high)
        elif "-" in span:
            a, _, b = span.partition("-")
            first = _value(a, field, low, high, names)
            last = _value(b, field, low, high, names)
            if field == "day-of-week" and b.lower() == "sun" and first > 0:
                last = 7  # `sat-sun`, `fri-sun`: Sunday at the end of a range is day 7
            if first > last:
                raise ValueError(f"{field} field: range {span!r} runs backwards")
        elif slash:
            raise ValueError(f"{field} field: a step needs '*' or a range, got {part!r}")
        else:
            first = last = _value(span, field, low, high, names)
        values.update(range(first, last + 1, step))
    if field == "day-of-week":
        values = {v % 7 for v in values}
    return values


def parse(line: str) -> CronSchedule:
    """Parse a crontab line; ValueError says which field is wrong and why."""
    text = " ".join(line.split())
    if text.startswith("@"):
        if text.lower() not in MACROS:
            raise ValueError(f"unknown schedule {text!r}: use one of {', '.join(MACROS)}")
        text = MACROS[text.lower()]
    parts = text.split(" ") if text else []
    if len(parts) != 5:
        raise ValueError(
            f"{line!r}: a crontab line has 5 fields (minute hour day-of-month month "
            f"day-of-week), this one has {len(parts)}"
        )
    try:
        sets = [
            _field(p, name, lo, hi, names)
            for p, (name, lo, hi, names) in zip(parts, _FIELDS, strict=True)
        ]
    except ValueError as exc:
        raise ValueError(f"{line!r}: {exc}") from None
    minutes, hours, days, months, weekdays = (frozenset(s) for s in sets)
    schedule = CronSchedule(
        line=line.strip(),
        minutes=minutes,
        hours=hours,
        days=days,
        months=months,
        weekdays=weekdays,
        day_star=parts[2].startswith("*"),
        weekday_star=parts[4].startswith("*"),
        fixed_time=not (parts[0].startswith("*") or parts[1].startswith("*")),
    )
    if schedule.weekday_star and not any(d <= _MONTH_DAYS[m - 1] for m in months for d in days):
        raise ValueError(f"{line!r}: never runs (no such day in the months given)")
    return schedule


def trigger(line: str, tz: str | ZoneInfo) -> CronScheduleTrigger:
    """The APScheduler trigger for a crontab line in a time zone."""
    return CronScheduleTrigger(parse(line), tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz))
