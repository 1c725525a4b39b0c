"""Health Auto Export's REST body -> mood changes (stateOfMind) and `health` events (metrics).

The app (iOS) posts `{"data": {"metrics": [...], "stateOfMind": [...], "workouts": [...],
...}}` on a schedule and resends overlapping windows, so every record gets a stable id:
a state of mind its own `id`, a metric sample `health:<name>:<epoch of its date>`. A
changed record under a known id replaces the old copy (today's step count grows).
The app retries any non-2xx, so one unreadable entry must not block the rest: it is
skipped and counted. Only a body that is not this shape at all is refused (422).
Dates are "2024-02-06 14:30:00 -0800", on 12-hour phones "2024-09-21 7:57:00\u202fam +1000".
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import anyio.to_thread

from app.errors import InvalidInputError
from app.services.moods import MAX_CLOCK_SKEW_S, MoodChange, MoodRecorder
from app.storage.events import NewEvent, Scalar
from app.values import is_number

SOURCE = "health-auto-export"
MAX_PROBLEMS = 20
MAX_FIELDS = 30  # + name and units: an event holds at most 32 metadata values
_RENAMED = {"Min": "min", "Avg": "avg", "Max": "max"}
_DATE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?"
    r"\s*(?:([ap])\.?\s*m\.?)?\s*(Z|[+-]\d{2}:?\d{2})?)?$",
    re.IGNORECASE,
)
_LONE_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
# HealthKit's seven valence classes, each 2/7 of the -1..1 scale wide.
_VALENCE_NAMES = (
    "very unpleasant,unpleasant,slightly unpleasant,neutral,"
    "slightly pleasant,pleasant,very pleasant"
).split(",")


@dataclass
class HealthExport:
    moods: list[MoodChange] = field(default_factory=list)
    samples: dict[str, NewEvent] = field(default_factory=dict)
    skipped: int = 0
    problems: list[str] = field(default_factory=list)
    ignored: dict[str, int] = field(default_factory=dict)

    def skip(self, where: str, why: str) -> None:
        self.skipped += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(f"{where}: {why}")


def parse_health_export(body: bytes, *, tz: ZoneInfo, now: float) -> HealthExport:
    try:
        raw = json.loads(body)
    except (ValueError, RecursionError):
        raise InvalidInputError("request body is not valid JSON") from None
    if _LONE_SURROGATE.search(body):
        raw = _scrub(raw)  # "\ud800" alone is valid JSON but no UTF-8 can hold it
    data = raw.get("data") if isinstance(raw, dict) else None
    if not isinstance(data, dict):
        raise InvalidInputError(
            'expected Health Auto Export\'s JSON: {"data": {"metrics": [...], '
            '"stateOfMind": [...]}}'
        )
    for key in ("metrics", "stateOfMind"):
        if data.get(key) is not None and not isinstance(data[key], list):
            raise InvalidInputError(f"data.{key} must be a list")
    out = HealthExport()
    for n, entry in enumerate(data.get("stateOfMind") or []):
        _state_of_mind(out, f"stateOfMind[{n}]", entry, tz, now)
    for n, metric in enumerate(data.get("metrics") or []):
        _metric(out, f"metrics[{n}]", metric, tz, now)
    for key, value in data.items():
        if key not in ("metrics", "stateOfMind") and value:
            out.ignored[key] = len(value) if isinstance(value, list) else 1
    return out


def parse_time(value: object, tz: ZoneInfo) -> datetime | None:
    """HAE's dates in any of the forms seen; a date without a zone is in HEARTH_TZ."""
    match = _DATE.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        return None
    year, month, day, hour, minute, second, half, zone = match.groups()
    h = int(hour or 0)
    if half:
        if not 1 <= h <= 12:
            return None
        h = h % 12 + (12 if half.lower() == "p" else 0)
    try:
        local = datetime(int(year), int(month), int(day), h, int(minute or 0), int(second or 0))
        if zone is None:
            return local.replace(tzinfo=tz)
        offset = "+00:00" if zone.upper() == "Z" else f"{zone[:3]}:{zone[-2:]}"
        return datetime.fromisoformat(local.isoformat() + offset)
    except ValueError:
        return None


def _state_of_mind(out: HealthExport, where: str, entry: Any, tz: ZoneInfo, now: float) -> None:
    if not isinstance(entry, dict):
        return out.skip(where, "not an object")
    start = parse_time(entry.get("start"), tz)
    if start is None:
        return out.skip(where, f"start {_quote(entry.get('start'))} is not a date")
    if start.timestamp() > now + MAX_CLOCK_SKEW_S:
        return out.skip(where, "start is in the future")
    labels = [str(x).strip().lower() for x in entry.get("labels") or [] if isinstance(x, str)]
    labels = [x for x in labels if x]
    valence = _finite(entry.get("valence"))
    valence = valence if valence is not None and -1 <= valence <= 1 else None
    mood = labels[0] if labels else _valence_name(entry.get("valenceClassification"), valence)
    if not mood:
        return out.skip(where, "no label and no valence")
    associations = [str(x).strip() for x in entry.get("associations") or [] if isinstance(x, str)]
    details: dict[str, Scalar] = {"labels": ", ".join(labels)} if labels else {}
    if valence is not None:
        details["valence"] = valence
    classification = entry.get("valenceClassification")
    if isinstance(classification, str | int | float) and not isinstance(classification, bool):
        details["valence_classification"] = classification
    if isinstance(entry.get("kind"), str):
        details["kind"] = entry["kind"]
    source_id = entry.get("id")
    if not isinstance(source_id, str) or not re.fullmatch(r"[A-Za-z0-9_.:@-]{1,100}", source_id):
        seed = json.dumps([entry.get("start"), labels, valence, source_id], default=str)
        source_id = hashlib.sha256(seed.encode()).hexdigest()[:32]
    out.moods.append(
        MoodChange(
            id=f"mood-hae-{source_id}",
            mood=mood[:64],
            context=", ".join(a for a in associations if a),
            at=start.timestamp(),
            source=SOURCE,
            details=details,
        )
    )
    return None


def _valence_name(classification: object, valence: float | None) -> str:
    if isinstance(classification, str) and classification.strip():
        return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", classification.strip()).lower()
    if valence is None:
        return ""
    return _VALENCE_NAMES[min(6, int((valence + 1) / 2 * 7))]


def _metric(out: HealthExport, where: str, metric: Any, tz: ZoneInfo, now: float) -> None:
    if not isinstance(metric, dict) or not isinstance(metric.get("name"), str):
        return out.skip(where, "not a metric with a name")
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", metric["name"].strip())[:64]
    units = str(metric["units"]) if isinstance(metric.get("units"), str) else ""
    samples = metric.get("data")
    if not name or not isinstance(samples, list):
        return out.skip(where, "not a metric with a name and a data list")
    for n, sample in enumerate(samples):
        event = _sample(name, units, sample, tz, now)
        if isinstance(event, str):
            out.skip(f"{where}.data[{n}]", event)
        else:
            out.samples[event.id or ""] = event  # the same name and date twice: the last wins
    return None


def _sample(name: str, units: str, sample: Any, tz: ZoneInfo, now: float) -> NewEvent | str:
    if not isinstance(sample, dict):
        return "not an object"
    when = parse_time(sample.get("date"), tz)
    if when is None:
        return f"date {_quote(sample.get('date'))} is not a date"
    if when.timestamp() > now + MAX_CLOCK_SKEW_S:
        return "date is in the future"
    values: dict[str, Scalar] = {}
    for key, value in sample.items():
        if key == "date" or not isinstance(key, str) or len(values) >= MAX_FIELDS:
            continue
        if _number(value):
            values[(_RENAMED.get(key) or key)[:64]] = value
        elif isinstance(value, str) and value:
            values[key[:64]] = value[:200]
    numbers = {k: v for k, v in values.items() if _number(v)}
    if not numbers:
        return "no quantity"
    day = when.strftime("%Y-%m-%d" if when.strftime("%H:%M:%S") == "00:00:00" else "%Y-%m-%d %H:%M")
    if "qty" in numbers:
        amount = _fmt(numbers["qty"])
    elif "avg" in numbers:
        extremes = [f"{k} {_fmt(numbers[k])}" for k in ("min", "max") if k in numbers]
        amount = f"avg {_fmt(numbers['avg'])}" + (f" ({', '.join(extremes)})" if extremes else "")
    else:
        amount = ", ".join(f"{k} {_fmt(v)}" for k, v in numbers.items())
    text = " ".join(part for part in (name, amount, units, "on", day) if part)
    metadata: dict[str, Scalar] = {**values, "name": name, "units": units}
    stamp = when.timestamp()
    event_id = f"health:{name}:{stamp:.0f}"
    return NewEvent(type="health", text=text, timestamp=stamp, metadata=metadata, id=event_id)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    return value


def _quote(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:40] + "..."


def _number(value: object) -> bool:
    return is_number(value)


def _finite(value: object) -> float | None:
    return float(value) if is_number(value) else None


def _fmt(value: Scalar) -> str:
    number = float(value)
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return f"{number:.2f}".rstrip("0").rstrip(".")


class HealthEvents(Protocol):
    async def enqueue_upsert(self, events: list[NewEvent]) -> tuple[int, int]: ...


async def ingest_health_export(
    body: bytes, *, tz: ZoneInfo, moods: MoodRecorder, events: HealthEvents
) -> dict[str, Any]:
    """Parse in a thread (a day of minute samples is megabytes), then store moods and
    samples together: their journal appends share one fsync."""
    parse = partial(parse_health_export, body, tz=tz, now=moods.clock())
    found = await anyio.to_thread.run_sync(parse)
    samples = list(found.samples.values())
    recorded, (created, updated) = await asyncio.gather(
        moods.record(found.moods, replace=True), events.enqueue_upsert(samples)
    )
    return {
        "moods": _counts(len(found.moods), recorded.created, recorded.updated),
        "health": _counts(len(samples), created, updated),
        "mood_applied": recorded.applied,
        "skipped": found.skipped,
        "problems": found.problems,
        "ignored": found.ignored,
    }


def _counts(received: int, created: int, updated: int) -> dict[str, int]:
    duplicates = received - created - updated
    return {"received": received, "created": created, "updated": updated, "duplicates": duplicates}
