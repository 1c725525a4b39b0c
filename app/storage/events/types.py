"""Plain values passed between the event log and the rest of the app."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Scalar = str | int | float | bool


@dataclass(frozen=True)
class NewEvent:
    """An event to write; `id` makes the write idempotent, None means "generate one"."""

    type: str
    text: str
    timestamp: float
    metadata: dict[str, Scalar] = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    text: str
    timestamp: float
    received_at: float
    metadata: dict[str, Scalar] = field(default_factory=dict)

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "text": self.text,
            "timestamp": self.timestamp,
            "received_at": self.received_at,
            "metadata": dict(self.metadata),
        }


@dataclass(frozen=True)
class AddResult:
    ids: list[str]
    created: int
    duplicates: int
