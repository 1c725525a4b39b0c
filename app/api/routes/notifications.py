"""Notifications: send a test message to every HEARTH_NOTIFY_URLS entry (scope `full`)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from app.api.deps import RuntimeDep

router = APIRouter(prefix="/v1/notifications", tags=["notifications"])


class NotificationTest(BaseModel):
    sent: int
    failed: list[str]
    """The URLs that could not be reached, with their secrets masked."""


@router.post("/test", response_model=NotificationTest)
async def test_notifications(runtime: RuntimeDep) -> NotificationTest:
    result = await runtime.notifier.test()
    return NotificationTest(sent=result.sent, failed=result.failed)
