"""Daylio's CSV export -> mood changes, checked whole before anything is stored.

Columns are found by name, so each header version Daylio has written works:
  year,date,weekday,time,mood,activities,note                (old; `date` like "June 22")
  full_date,date,weekday,time,mood,activities,note
  full_date,date,weekday,time,mood,activities,note_title,note
  full_date,date,weekday,time,mood,activities,scales,note_title,note
`date` and `weekday` are written in the phone's language, so `full_date` wins when present.
Times are 12-hour ("8:10 pm", "10:04 AM", newer Android's "8:10\u202fpm") or 24-hour.
Notes are Daylio's rich text: `<br>` breaks a line, a few tags mark bold and lists.
Line numbers are the file's own (header = line 1); a quoted note spanning lines is named
by the line it starts on.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import re
from collections.abc import Iterator
from datetime import date, datetime
from functools import partial
from zoneinfo import ZoneInfo

import anyio.to_thread

from app.errors import ImportRowsError
from app.services.moods import MAX_CLOCK_SKEW_S, MoodChange, MoodRecorder

SOURCE = "daylio"
MAX_MOOD_CHARS = 64
MAX_PROBLEMS_SHOWN = 50
EXAMPLE_HEADER = "full_date,date,weekday,time,mood,activities,note_title,note"
_MONTHS = {
    name: n
    for n, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_BREAK = re.compile(r"<br\s*/?>|</(?:p|div|li)>", re.IGNORECASE)
_ITEM = re.compile(r"<li(?:\s[^>]*)?>", re.IGNORECASE)
_TAG = re.compile(
    r"</?(?:b|i|u|s|em|strong|strike|del|p|div|span|ul|ol|font)(?:\s[^>]*)?/?>", re.IGNORECASE
)
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-f]+|[a-z]+\d*);", re.IGNORECASE)
_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})(?::\d{2})?\s*(?:([ap])\.?\s*m\.?)?$", re.IGNORECASE)


def parse_daylio(data: bytes, *, tz: ZoneInfo, now: float) -> list[MoodChange]:
    """Every row as a mood change, or ImportRowsError naming each bad `line N`."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportRowsError(_summary([f"line {line}: not UTF-8 text"])) from None
    if not text.strip():
        raise ImportRowsError(f"the file is empty: expected a Daylio CSV export ({EXAMPLE_HEADER})")
    records = _records(text)
    first = next(records, None)
    if first is None or isinstance(first[1], str):
        raise ImportRowsError(_summary([f"line {first[0] if first else 1}: bad CSV"]))
    header = [cell.strip().lower() for cell in first[1]]
    missing = _missing_columns(header)
    if missing:
        raise ImportRowsError(
            f"line {first[0]}: not a Daylio export header (missing {', '.join(missing)}; "
            f"expected e.g. {EXAMPLE_HEADER})"
        )
    changes: list[MoodChange] = []
    problems: list[str] = []
    for line, row in records:
        if isinstance(row, str):
            problems.append(f"line {line}: {row}")
            continue
        if len(row) != len(header):
            problems.append(f"line {line}: expected {len(header)} fields, found {len(row)}")
            continue
        try:
            changes.append(_change(dict(zip(header, row, strict=True)), tz, now))
        except ValueError as exc:
            problems.append(f"line {line}: {exc}")
    if problems:
        raise ImportRowsError(_summary(problems))
    return changes


def _records(text: str) -> Iterator[tuple[int, list[str] | str]]:
    """(starting line, cells) per non-blank record, or (line, reason) for bad quoting."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, f"bad CSV quoting ({exc})"
            start = reader.line_num + 1
            continue
        if any(cell.strip() for cell in row):
            yield start, row
        start = reader.line_num + 1


def _missing_columns(header: list[str]) -> list[str]:
    missing = [c for c in ("time", "mood", "activities", "note") if c not in header]
    if "full_date" not in header and not {"year", "date"} <= set(header):
        missing.append("full_date")
    return missing


def _change(row: dict[str, str], tz: ZoneInfo, now: float) -> MoodChange:
    day = _day(row)
    hour, minute = _clock(row["time"])
    local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)
    at = local.timestamp()
    if at > now + MAX_CLOCK_SKEW_S:
        raise ValueError(f"{day.isoformat()} {hour:02d}:{minute:02d} is in the future")
    mood = " ".join(row["mood"].split()).lower()
    if not mood:
        raise ValueError("the mood is empty")
    if len(mood) > MAX_MOOD_CHARS:
        raise ValueError(f"the mood is longer than {MAX_MOOD_CHARS} characters")
    title = plain_text(row.get("note_title", ""))
    note = plain_text(row["note"])
    context = "\n".join(part for part in (title, note) if part)
    activities = tuple(a for a in (p.strip() for p in row["activities"].split("|")) if a)
    scales = row.get("scales", "").strip()
    when = f"{day.isoformat()} {hour:02d}:{minute:02d}"
    digest = hashlib.sha256("\0".join([when, mood, title, note]).encode()).hexdigest()
    return MoodChange(
        id=f"mood-daylio-{digest[:32]}",
        mood=mood,
        context=context,
        at=at,
        source=SOURCE,
        activities=activities,
        details={"scales": scales} if scales else {},
    )


def _day(row: dict[str, str]) -> date:
    full = row.get("full_date", "").strip()
    if full:
        try:
            return date.fromisoformat(full)
        except ValueError:
            raise ValueError(
                f"full_date {_quote(full)} is not a date (expected 2024-02-06)"
            ) from None
    year, text = row.get("year", "").strip(), row.get("date", "").strip()
    words = re.findall(r"[^\W\d_]+", text)
    numbers = re.findall(r"\d+", text)
    month = _MONTHS.get(words[0].lower()) if len(words) == 1 else None
    if not year.isdigit() or month is None or len(numbers) != 1:
        raise ValueError(
            f"date {_quote(text)} {_quote(year)} is not an English date like 'June 22' (an export "
            "from a current Daylio has full_date and works in any language)"
        )
    try:
        return date(int(year), month, int(numbers[0]))
    except ValueError:
        raise ValueError(f"date {_quote(text)} {_quote(year)} does not exist") from None


def _clock(text: str) -> tuple[int, int]:
    match = _TIME.match(text.strip())
    if match is None:
        raise ValueError(f"time {_quote(text)} is not a time (expected 8:10 pm or 20:10)")
    hour, minute, half = int(match[1]), int(match[2]), (match[3] or "").lower()
    if minute > 59 or (hour > 23 if not half else not 1 <= hour <= 12):
        raise ValueError(f"time {_quote(text)} is not a time (expected 8:10 pm or 20:10)")
    if half:
        hour = hour % 12 + (12 if half == "p" else 0)
    return hour, minute


def plain_text(text: str) -> str:
    """Daylio's rich text as plain lines; only its own tags go, so a note may still say
    "<3" or "a<b". Entities need their semicolon: "&not" in "fish &notes" stays."""
    text = _ITEM.sub("- ", _BREAK.sub("\n", text))
    text = _ENTITY.sub(lambda m: html.unescape(m[0]), _TAG.sub("", text))
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _quote(cell: str) -> str:
    """A cell for an error message: quoted, and short even if a shifted note landed in it."""
    return repr(cell if len(cell) <= 40 else cell[:40] + "...")


def _summary(problems: list[str]) -> str:
    shown = problems[:MAX_PROBLEMS_SHOWN]
    more = len(problems) - len(shown)
    tail = f"; and {more} more bad lines" if more else ""
    return "nothing imported: " + "; ".join(shown) + tail


async def import_daylio(data: bytes, *, tz: ZoneInfo, moods: MoodRecorder) -> dict[str, int]:
    """Check the whole file (in a thread: a big export takes a while), then store it."""
    parse = partial(parse_daylio, data, tz=tz, now=moods.clock())
    changes = await anyio.to_thread.run_sync(parse)
    recorded = await moods.record(changes, replace=False)
    return {"imported": recorded.created, "duplicates": recorded.duplicates, "rows": len(changes)}
