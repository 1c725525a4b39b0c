"""state/notify.json: what has been sent, so a restart neither repeats nor forgets it.

`{"schema": 1, "first_start": time, "active": {key: {"since", "notified"}},
  "reminded_on": "YYYY-MM-DD" | null, "failures": {masked URL: time}}`

`active` holds each condition that is true now (a failing job `job:NAME`, `backup_stale`,
`disk_low`); `notified` says whether its message went out, so a condition whose message
could not be sent is tried again at the next check, and one that was sent is not repeated.
`first_start` is the install's first start, the reference for "no backup yet".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.storage.document import DurableDocument
from app.storage.gate import WriteGate

SCHEMA = 1
Json = dict[str, Any]


def _encode(value: Json) -> bytes:
    return json.dumps(value, sort_keys=True, indent=1).encode()


def _decode(data: bytes) -> Json:
    raw = json.loads(data)
    if not isinstance(raw, dict) or raw.get("schema") != SCHEMA:
        raise ValueError(f"notify.json must be an object with schema {SCHEMA}")
    if not isinstance(raw.get("first_start"), int | float):
        raise ValueError("notify.json: first_start must be a time")
    active, failures = raw.get("active", {}), raw.get("failures", {})
    if not isinstance(active, dict) or not all(isinstance(v, dict) for v in active.values()):
        raise ValueError("notify.json: active must map keys to objects")
    if not isinstance(failures, dict):
        raise ValueError("notify.json: failures must map URLs to times")
    reminded = raw.get("reminded_on")
    return {
        "schema": SCHEMA,
        "first_start": float(raw["first_start"]),
        "active": active,
        "reminded_on": reminded if isinstance(reminded, str) else None,
        "failures": {str(k): v for k, v in failures.items() if isinstance(v, int | float)},
    }


def notify_document(
    path: Path, gate: WriteGate | None, clock: Callable[[], float]
) -> DurableDocument[Json]:
    def default() -> Json:
        return {
            "schema": SCHEMA,
            "first_start": clock(),
            "active": {},
            "reminded_on": None,
            "failures": {},
        }

    return DurableDocument(path, encode=_encode, decode=_decode, default=default, gate=gate)
