"""Time words in a search query ("last week", "in March 2026", "since Monday") as a range.

dateparser does the calendar work for dates people name (month and weekday names,
"14 March 2026", "3 days ago": which year "June" means, at what granularity), but its
`search_dates` is not used to find them: on our phrase table it reads "may I ask" as
May, "march of the penguins" as March and "2 a.m." as February, misses "in the past week"
and "past month", swallows neighbours ("about last week") and answers points, not ranges.
So a narrow grammar finds the phrases, each preposition says how the period bounds the
search, and a small table computes the rolling and calendar ranges ("last week" is the
previous Monday-based week). Pure: `now` (aware, in HEARTH_TZ) is passed in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from dateparser.date import DateDataParser
from dateutil.relativedelta import relativedelta

Range = tuple[datetime | None, datetime | None]

_COUNTS = "a an one two three four five six seven eight nine ten eleven twelve".split()
_NUM = r"\d{1,3}|" + "|".join(_COUNTS)
_MONTH = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november"
    r"|december|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\.?"
)
_FULL_MONTH = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november"
    r"|december)"
)
_WEEKDAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d\d"
_PREPS = r"in|on|during|since|after|before|until|till"
# Safe alone ("March 2026 trip"), and only after a preposition ("in May", never "may I").
_DATED = (
    rf"\d{{4}}-\d{{2}}-\d{{2}}|{_MONTH} {_DAY},? {_YEAR}|{_DAY} (?:of )?{_MONTH},? {_YEAR}"
    rf"|{_MONTH},? {_YEAR}|last {_WEEKDAY}|(?:{_NUM}) (?:day|week|month|year)s? ago"
)
_BARE = rf"{_MONTH} {_DAY}|(?:the )?{_DAY} (?:of )?{_MONTH}|{_YEAR}|{_FULL_MONTH}|{_WEEKDAY}"
_ABSOLUTE = re.compile(
    rf"\b(?:(?P<p1>{_PREPS}) (?:the )?)?(?P<e1>{_DATED})\b"
    rf"|\b(?P<p2>{_PREPS}) (?:the )?(?P<e2>{_BARE})\b",
    re.IGNORECASE,
)
_LEAD = r"\b(?:(?:in|during|over|within|for|from|on) )?(?:the )?"


@dataclass(frozen=True)
class TimeWords:
    """The range a query names, and the query with those words taken out."""

    since: datetime | None
    until: datetime | None
    text: str


def _day(now: datetime, offset: int = 0) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=offset)


def _start(moment: datetime, unit: str) -> datetime:
    day = _day(moment)
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    if unit == "year":
        return day.replace(month=1, day=1)
    return day


def _step(unit: str, n: int = 1) -> relativedelta:
    return relativedelta(**{f"{unit}s": n})


def _count(word: str) -> int:
    return int(word) if word.isdigit() else max(1, _COUNTS.index(word.lower()) - 1)


def _calendar(now: datetime, unit: str, back: int) -> Range:
    start = _start(now, unit) - _step(unit, back)
    return start, start + _step(unit)


def _weekend(now: datetime, which: str) -> Range:
    saturday = _start(now, "week") + timedelta(days=5)
    if which == "last" or saturday > now:
        saturday -= timedelta(days=7)
    return saturday, saturday + timedelta(days=2)


_EVENING, _MORNING = timedelta(hours=18), timedelta(hours=6)
Rule = Callable[[datetime, re.Match[str]], Range]
_RULES: list[tuple[str, Rule]] = [
    (r"(?:the )?day before yesterday", lambda now, _m: (_day(now, -2), _day(now, -1))),
    (r"yesterday", lambda now, _m: (_day(now, -1), _day(now))),
    (r"last night", lambda now, _m: (_day(now, -1) + _EVENING, _day(now) + _MORNING)),
    (
        r"today|tonight|this (?:morning|afternoon|evening)",
        lambda now, _m: (_day(now), _day(now, 1)),
    ),
    (
        rf"(?:past|last) (?P<n>{_NUM}) (?P<unit>day|week|month|year)s?",
        lambda now, m: (now - _step(m["unit"].lower(), _count(m["n"])), None),
    ),
    (r"past (?P<unit>week|month|year)", lambda now, m: (now - _step(m["unit"].lower()), None)),
    (
        r"(?:last|previous) (?P<unit>week|month|year)",
        lambda now, m: _calendar(now, m["unit"].lower(), 1),
    ),
    (r"this (?P<unit>week|month|year)", lambda now, m: _calendar(now, m["unit"].lower(), 0)),
    (r"(?P<which>last|this) weekend", lambda now, m: _weekend(now, m["which"].lower())),
]
_RELATIVE = [(re.compile(_LEAD + rf"(?:{p})\b", re.IGNORECASE), rule) for p, rule in _RULES]


def _absolute(now: datetime, match: re.Match[str]) -> Range | None:
    prep = (match["p1"] or match["p2"] or "in").lower()
    expr = match["e1"] or match["e2"]
    prefer = "current_period" if prep in {"before", "until", "till"} else "past"
    parser = DateDataParser(
        languages=["en"],
        settings={"RELATIVE_BASE": now.replace(tzinfo=None), "PREFER_DATES_FROM": prefer},
    )
    data = parser.get_date_data(expr)
    if data.date_obj is None or data.period not in {"day", "week", "month", "year"}:
        return None
    unit = data.period
    start = _start(data.date_obj.replace(tzinfo=now.tzinfo), unit)
    end = start + (timedelta(days=1) if unit == "day" else _step(unit))
    if prep in {"since"}:
        return start, None
    if prep == "after":
        return end, None
    if prep == "before":
        return None, start
    if prep in {"until", "till"}:
        return None, end
    return start, end


def names_a_date(query: str) -> bool:
    """Whether `interpret` would need dateparser (a few ms) for this query."""
    return _ABSOLUTE.search(query) is not None


def interpret(query: str, now: datetime) -> TimeWords | None:
    """The range named in `query`, or None: no time words, or ones that contradict."""
    spans: list[tuple[int, int]] = []
    ranges: list[Range] = []
    text = query
    for pattern, rule in _RELATIVE:
        for match in pattern.finditer(text):
            ranges.append(rule(now, match))
            spans.append(match.span())
        text = _blank(text, spans)
    for match in _ABSOLUTE.finditer(text):
        try:
            found = _absolute(now, match)
        except (ValueError, OverflowError):  # a date no calendar has: search literally
            found = None
        if found is not None:
            ranges.append(found)
            spans.append(match.span())
    if not ranges:
        return None
    since = max((s for s, _ in ranges if s is not None), default=None)
    until = min((u for _, u in ranges if u is not None), default=None)
    if since is not None and until is not None and since >= until:
        return None
    return TimeWords(since, until, _tidy(_blank(query, spans)))


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    """Spaces over the spans keep the other offsets valid for the next pattern."""
    chars = list(text)
    for lo, hi in spans:
        chars[lo:hi] = " " * (hi - lo)
    return "".join(chars)


def _tidy(text: str) -> str:
    text = re.sub(r"\s+([?!.,;:])", r"\1", " ".join(text.split()))
    text = re.sub(r"\b(?:from|and|to|or|between)$", "", text.strip(" ,;:-")).strip(" ,;:-")
    return text if re.search(r"\w", text) else ""
