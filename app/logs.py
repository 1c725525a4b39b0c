"""Logging with the request id on every line (a contextvar set by the request middleware)."""

from __future__ import annotations

import contextvars
import logging
import re

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_TOKEN_IN_URL = re.compile(r"(?i)([?&]token=)[^&\s\"']*")


class _RequestIdFilter(logging.Filter):
    """Adds the request id; blanks any `token=` query value (apps may put the token in a URL)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True  # a malformed record is logging's own error to report
        if "token=" in message.lower():
            record.msg, record.args = _TOKEN_IN_URL.sub(r"\1[redacted]", message), ()
        return True


def setup_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(_RequestIdFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # our middleware logs each request
    for noisy in ("httpx", "chromadb", "sentence_transformers", "apscheduler.executors"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
