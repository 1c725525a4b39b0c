"""How an event is laid out in Chroma: the text as the document, fields in metadata.

User metadata keys get the prefix `m.` so a user key called `type` or `timestamp`
cannot overwrite the fields Hearth filters on. Values Chroma cannot store (None, NaN,
huge ints, nested objects) are kept as their string form rather than refused: the API
validates input, this layer only has to never crash on odd values.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping
from typing import Any

from app.storage.events.types import Event, NewEvent, Scalar
from app.values import is_number

USER_PREFIX = "m."
_INT_RANGE = range(-(2**63), 2**63)


def clean_scalar(value: object) -> Scalar:
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value if value in _INT_RANGE else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return json.dumps(value, default=str) if value is not None else "null"


def clean_metadata(metadata: Mapping[str, object]) -> dict[str, Scalar]:
    return {str(key): clean_scalar(value) for key, value in metadata.items()}


def new_event(new: NewEvent, event_id: str, received_at: float) -> Event:
    return Event(
        id=event_id,
        type=new.type,
        text=new.text,
        timestamp=float(new.timestamp),
        received_at=received_at,
        metadata=clean_metadata(new.metadata),
    )


def same_content(old: Event | None, new: NewEvent) -> bool:
    """Whether writing `new` over `old` would change nothing a reader can see."""
    if old is None:
        return False
    return (old.type, old.text, old.timestamp, old.metadata) == (
        new.type,
        new.text,
        float(new.timestamp),
        clean_metadata(new.metadata),
    )


def to_chroma(event: Event) -> dict[str, Scalar]:
    meta: dict[str, Scalar] = {
        "type": event.type,
        "timestamp": float(event.timestamp),
        "received_at": float(event.received_at),
    }
    for key, value in event.metadata.items():
        meta[USER_PREFIX + key] = value
    return meta


def from_chroma(event_id: str, document: str | None, meta: Mapping[str, Any] | None) -> Event:
    meta = meta or {}
    user = {
        key[len(USER_PREFIX) :]: value for key, value in meta.items() if key.startswith(USER_PREFIX)
    }
    return Event(
        id=event_id,
        type=str(meta.get("type", "")),
        text=document or "",
        timestamp=float(meta.get("timestamp", 0.0)),
        received_at=float(meta.get("received_at", 0.0)),
        metadata=user,
    )


def score(distance: float) -> float:
    """Cosine distance (0..2) to a similarity in [0, 1]: 1 same direction, 0.5 unrelated."""
    return min(1.0, max(0.0, 1.0 - float(distance) / 2.0))


def encode_cursor(key: tuple[float, str]) -> str:
    raw = json.dumps([key[0], key[1]], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, str]:
    """Raises ValueError for anything that is not a cursor we issued."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        ts, event_id = json.loads(raw)
    except (ValueError, TypeError) as exc:
        raise ValueError("invalid cursor") from exc
    if not is_number(ts) or not isinstance(event_id, str):
        raise ValueError("invalid cursor")
    return float(ts), event_id
