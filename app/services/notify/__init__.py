"""Notifications through Apprise (HEARTH_NOTIFY_URLS): see notifier.py for when and why."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable

import anyio.to_thread

from app.config import Settings
from app.services.backup.catalog import list_backups
from app.services.notify.notifier import Notifier
from app.services.notify.sender import AppriseSender, SendResult
from app.storage.gate import WriteGate

__all__ = ["AppriseSender", "Notifier", "SendResult", "build_notifier"]


def build_notifier(
    settings: Settings,
    *,
    gate: WriteGate | None,
    last_mood_at: Callable[[], float],
    clock: Callable[[], float] = time.time,
) -> Notifier:
    """The notifier over this install's backups directory, data disk and settings."""

    def newest_verified() -> float | None:
        items = [i for i in list_backups(settings.backups_dir) if i["verified"]]
        return max((float(i["created_at"]) for i in items), default=None)

    def disk() -> tuple[int, int]:
        usage = shutil.disk_usage(settings.data_dir)
        return usage.free, usage.total

    async def newest_backup() -> float | None:
        return await anyio.to_thread.run_sync(newest_verified)

    async def disk_usage() -> tuple[int, int]:
        return await anyio.to_thread.run_sync(disk)

    return Notifier(
        sender=AppriseSender(settings.notify_urls),
        state_path=settings.state_dir / "notify.json",
        gate=gate,
        tz=settings.tz,
        backup_stale_hours=settings.backup_stale_hours,
        mood_reminder=settings.mood_reminder,
        newest_backup=newest_backup,
        disk_usage=disk_usage,
        last_mood_at=last_mood_at,
        clock=clock,
    )
