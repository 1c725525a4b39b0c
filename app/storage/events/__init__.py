"""The event log: `EventStore` over Chroma, with an in-memory index and an outbox.

Code outside this package uses only the names below.
"""

from app.storage.events.child import ChromaChild
from app.storage.events.link import StoreLink
from app.storage.events.store import EventStore
from app.storage.events.types import AddResult, Event, NewEvent, Scalar

__all__ = ["AddResult", "ChromaChild", "Event", "EventStore", "NewEvent", "Scalar", "StoreLink"]
