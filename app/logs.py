"""Logging off the event loop, with the request id on every line.

Every record goes through a `QueueHandler` to one `QueueListener` thread, which formats
and writes it: the loop only appends to a queue. Records are formatted lazily, in that
thread (the stock `QueueHandler.prepare` would format on the loop). The thread polls the
queue every `FLUSH_S` and writes what it found in one call, so a put never has to wake
it (waking a thread per record costs the loop more than the record itself).

The access log, one line per request, is the hot path: `access()` puts one tuple on the
same queue and the thread turns it into a line, so a request pays for no `LogRecord`, no
caller lookup and no formatting. Without `setup_logging` (tests, embedding the app)
`access()` falls back to a plain `logger.info`.
"""

from __future__ import annotations

import atexit
import contextvars
import logging
import queue
import re
import time
from logging.handlers import QueueHandler, QueueListener
from typing import Any, TextIO
from urllib.parse import unquote_plus

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
access_log = logging.getLogger("hearth.access")
LINE_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
ACCESS_FORMAT = '%s "%s %s" %d %.1fms'
REDACTED = "REDACTED"
_TOKEN_IN_URL = re.compile(r"(?i)([?&]token=)[^&\s\"']*")
FLUSH_S = 0.05
_PLAIN = (str, int, float, bool, type(None), bytes)
_queue: queue.SimpleQueue[Any] | None = None
_listener: _Listener | None = None


def redact_query(query: str) -> str:
    """Hide the value of every parameter whose name holds "token" (`?token=` auth)."""
    parts = query.split("&")
    for n, part in enumerate(parts):
        name, eq, _ = part.partition("=")
        if eq and "token" in unquote_plus(name).lower():
            parts[n] = f"{name}={REDACTED}"
    return "&".join(parts)


def redact_line(line: str) -> str:
    """Blank any `token=` value in a formatted line (a URL some other logger wrote)."""
    if "token=" in line.lower():
        return _TOKEN_IN_URL.sub(rf"\1{REDACTED}", line)
    return line


def with_query(path: str, query: bytes) -> str:
    if not query:
        return path
    return f"{path}?{redact_query(query.decode('latin-1'))}"


def access(
    rid: str, client: str, method: str, path: str, query: bytes, status: int, ms: float
) -> None:
    """Log one request; cheap enough for every request on the event loop.

    The query string is redacted and joined in the log thread, never on the loop.
    """
    if not access_log.isEnabledFor(logging.INFO):
        return
    if _queue is None:
        access_log.info(ACCESS_FORMAT, client, method, with_query(path, query), status, ms)
        return
    _queue.put((time.time(), rid, client, method, path, query, status, ms))


class _LazyQueueHandler(QueueHandler):
    """Stamps the request id (a contextvar: it must be read here) and defers formatting."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        record.request_id = request_id.get()
        args = record.args
        if args and not (isinstance(args, tuple) and all(type(a) in _PLAIN for a in args)):
            # A mutable argument could change before the thread formats it: format now.
            record.msg, record.args = record.getMessage(), None
        return record


class _BatchHandler(logging.StreamHandler[TextIO]):
    """Collects formatted lines; `flush` writes them in one call (log thread only)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter(LINE_FORMAT))
        self._lines: list[str] = []
        self._second = -1
        self._stamp = ""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._lines.append(redact_line(self.format(record)) + self.terminator)
        except Exception:
            self.handleError(record)

    def access_line(self, item: tuple[Any, ...]) -> None:
        """The line `LINE_FORMAT` would give, built without a `LogRecord`."""
        created, rid, client, method, path, query, status, ms = item
        second = int(created)
        if second != self._second:  # one strftime a second, not one a line
            self._second = second
            self._stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
        millis = int((created - second) * 1000)
        target = with_query(path, query)
        self._lines.append(
            f"{self._stamp},{millis:03d} INFO {access_log.name} [{rid}] "
            f'{client} "{method} {target}" {status} {ms:.1f}ms{self.terminator}'
        )

    def flush(self) -> None:
        if self._lines:
            data, self._lines = "".join(self._lines), []
            try:
                self.stream.write(data)
            except (OSError, ValueError):
                return  # stderr closed: nothing to write logs to
        super().flush()


class _Listener(QueueListener):
    def __init__(self, q: queue.SimpleQueue[Any], handler: _BatchHandler) -> None:
        super().__init__(q, handler, respect_handler_level=True)
        self.source = q
        self.batch = handler

    def dequeue(self, block: bool) -> Any:
        while True:
            try:
                return self.source.get_nowait()
            except queue.Empty:
                if not block:
                    raise
                self.batch.flush()
                time.sleep(FLUSH_S)

    def handle(self, record: Any) -> None:
        if isinstance(record, tuple):
            self.batch.access_line(record)
        else:
            super().handle(record)

    def stop(self) -> None:
        super().stop()
        self.batch.flush()


class _RequestIdFilter(logging.Filter):
    """Adds the request id and blanks `token=` values (after the log thread has stopped)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True  # a malformed record is logging's own error to report
        if "token=" in message.lower():
            record.msg, record.args = redact_line(message), ()
        return True


def setup_logging(level: str) -> None:
    global _queue, _listener
    stop_logging()
    _queue = queue.SimpleQueue()
    root = logging.getLogger()
    root.handlers[:] = [_LazyQueueHandler(_queue)]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # our middleware logs each request
    for noisy in ("httpx", "chromadb", "sentence_transformers", "apscheduler.executors"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    _listener = _Listener(_queue, _BatchHandler())
    _listener.start()
    atexit.unregister(stop_logging)
    atexit.register(stop_logging)


def stop_logging() -> None:
    """Write every queued line, stop the thread, and log directly from then on (at exit)."""
    global _queue, _listener
    if _listener is None:
        return
    _queue = None  # access() falls back to the logger, which now writes directly
    direct = logging.StreamHandler()
    direct.setFormatter(logging.Formatter(LINE_FORMAT))
    direct.addFilter(_RequestIdFilter())
    logging.getLogger().handlers[:] = [direct]
    _listener.stop()
    _listener = None
