"""What a fetch returns, and the Retry-After header read as an absolute time."""

from __future__ import annotations

from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

import anyio.to_thread

from app.services.blog.charset import decode_body

MAX_RETRY_AFTER_S = 24 * 3600.0


@dataclass(frozen=True)
class FetchResult:
    url: str
    status: int
    content: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def text(self) -> str:
        return decode_body(self.content, self.headers.get("content-type"))

    async def decoded(self) -> str:
        """`text` off the event loop: charset detection on megabytes takes a while."""
        content_type = self.headers.get("content-type")
        return await anyio.to_thread.run_sync(decode_body, self.content, content_type)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Retry-After as an absolute time: delta seconds or an HTTP date, capped at 24 h."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        delay = float(value)
    else:
        try:
            delay = parsedate_to_datetime(value).timestamp() - now
        except (TypeError, ValueError, IndexError):
            return None
    return now + min(max(delay, 0.0), MAX_RETRY_AFTER_S)
