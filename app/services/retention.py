"""Retention: drop events older than their rule allows.

One default rule (`retention_days`, 0 = keep forever) and per-type overrides
(`retention_by_type`, 0 = keep that type forever). The default rule excludes every
overridden type, so `{"mood": 0}` really keeps moods however old they are. The
deleting itself is the store's chunked `delete_where`, which keeps the event loop
responsive.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from app.config import Settings
from app.storage.locations import LOCATION

log = logging.getLogger(__name__)
DAY_S = 86400.0


class DeletesEvents(Protocol):
    async def delete_where(
        self,
        *,
        before: float,
        type: str | None = None,
        exclude_types: set[str] = ...,
        dry_run: bool = False,
    ) -> int: ...


class DeletesFixes(Protocol):
    async def delete_before(self, before: float, *, dry_run: bool = False) -> int: ...


class _WithFixes:
    """The event log plus the location fixes, which are listed as type `location`.

    A rule that covers that type (its own override, or the default rule when there is
    none) also deletes fixes older than its cutoff.
    """

    def __init__(self, events: DeletesEvents, fixes: DeletesFixes) -> None:
        self._events = events
        self._fixes = fixes

    async def delete_where(
        self,
        *,
        before: float,
        type: str | None = None,
        exclude_types: set[str] = frozenset(),  # type: ignore[assignment]
        dry_run: bool = False,
    ) -> int:
        count = await self._events.delete_where(
            before=before, type=type, exclude_types=exclude_types, dry_run=dry_run
        )
        if type == LOCATION or (type is None and LOCATION not in exclude_types):
            count += await self._fixes.delete_before(before, dry_run=dry_run)
        return count


def _rule(name: str, days: int, type: str | None, cutoff: float | None, count: int) -> dict:
    return {"rule": name, "type": type, "days": days, "cutoff": cutoff, "deleted": count}


async def cleanup(
    store: DeletesEvents,
    settings: Settings,
    *,
    now: float,
    dry_run: bool = False,
    locations: DeletesFixes | None = None,
) -> dict[str, Any]:
    """Apply every rule; returns counts per rule (what would go, when `dry_run`)."""
    if locations is not None:
        store = _WithFixes(store, locations)
    overrides = dict(settings.retention_by_type)
    rules: list[dict[str, Any]] = []
    if settings.retention_days > 0:
        cutoff = now - settings.retention_days * DAY_S
        count = await store.delete_where(
            before=cutoff, exclude_types=set(overrides), dry_run=dry_run
        )
        rules.append(_rule("default", settings.retention_days, None, cutoff, count))
    else:
        rules.append(_rule("default", 0, None, None, 0))
    for type, days in sorted(overrides.items()):
        if days <= 0:
            rules.append(_rule(f"type:{type}", 0, type, None, 0))
            continue
        cutoff = now - days * DAY_S
        count = await store.delete_where(before=cutoff, type=type, dry_run=dry_run)
        rules.append(_rule(f"type:{type}", days, type, cutoff, count))
    total = sum(rule["deleted"] for rule in rules)
    log.info("retention %s %d events", "would delete" if dry_run else "deleted", total)
    return {"dry_run": dry_run, "deleted": total, "rules": rules}
