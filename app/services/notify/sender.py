"""Sending through Apprise, off the event loop, with a deadline and secrets kept out of sight.

Apprise's `notify` is blocking (HTTP, SMTP), so it runs in a worker thread; the call
has Apprise's own `timeout` and an outer deadline, after which the thread is abandoned
rather than waited for. Apprise URLs carry passwords and tokens: every URL that leaves
this module (an API answer, a status warning, a log line) is Apprise's privacy form
without its query, and a log filter masks the secret parts in what Apprise and urllib3
log themselves.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.to_thread

log = logging.getLogger(__name__)

SEND_TIMEOUT_S = 8.0  # POST /v1/notifications/test must answer within 10 s
_LOGGERS = ("apprise", "urllib3.connectionpool", "urllib3.util.retry", "urllib3.connection")
_PARTS = re.compile(r"[^/:@?&=,#;+%\s]+")


@dataclass(frozen=True)
class SendResult:
    sent: int = 0
    failed: list[str] = field(default_factory=list)


def _strip_query(url: str) -> str:
    return url.split("?", 1)[0].rstrip("/")


def _scheme_only(url: str) -> str:
    scheme, sep, _rest = url.partition("://")
    return f"{scheme}://****" if sep else "****"


def _secrets(raw: str, shown: str) -> set[str]:
    """The pieces of `raw` that Apprise's privacy form leaves out: passwords, tokens..."""
    _scheme, _, rest = raw.partition("://")
    return {part for part in _PARTS.findall(rest) if part not in shown and len(part) > 1}


class _MaskSecrets(logging.Filter):
    def __init__(self, secrets: set[str]) -> None:
        super().__init__()
        self.secrets = sorted(secrets, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        masked = message
        for secret in self.secrets:
            masked = masked.replace(secret, "****")
        if masked != message:
            record.msg, record.args = masked, None
        return True


def _load_apprise() -> Any:
    """Imported on first use: Apprise loads ~190 plugins (0.4 s) on its first parse, and
    one of them imports the deprecated `imghdr`, a warning that is not ours to act on."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import apprise

        apprise.Apprise.instantiate("json://localhost")  # parses only: loads the plugins
    return apprise


class AppriseSender:
    """Sends one message to every configured URL; never raises for a failed delivery."""

    def __init__(self, urls: list[str], *, timeout: float = SEND_TIMEOUT_S) -> None:
        self._urls = list(urls)
        self._timeout = timeout
        self._filter: _MaskSecrets | None = None
        self.masked: list[str] = [_scheme_only(u) for u in self._urls]
        if self._urls:
            self._filter = _MaskSecrets({s for u in self._urls for s in _secrets(u, "")})
            for name in _LOGGERS:
                logging.getLogger(name).addFilter(self._filter)

    @property
    def configured(self) -> bool:
        return bool(self._urls)

    def close(self) -> None:
        if self._filter is not None:
            for name in _LOGGERS:
                logging.getLogger(name).removeFilter(self._filter)

    async def send(self, title: str, body: str) -> SendResult:
        if not self._urls:
            return SendResult()
        try:
            with anyio.fail_after(self._timeout + 1.5):
                return await anyio.to_thread.run_sync(
                    self._send_blocking, title, body, abandon_on_cancel=True
                )
        except TimeoutError:
            log.warning("notification %r: no answer within %.0f s", title, self._timeout)
            return SendResult(0, list(self.masked))

    def _send_blocking(self, title: str, body: str) -> SendResult:
        apprise = _load_apprise()
        batch = apprise.Apprise()
        shown: list[str | None] = []  # Apprise's privacy form per URL, None if unparseable
        for index, url in enumerate(self._urls):
            plugin = apprise.Apprise.instantiate(url)
            if plugin is None:
                log.warning("notification URL %s is not a valid Apprise URL", self.masked[index])
                shown.append(None)
                continue
            private = str(plugin.url(privacy=True))
            self.masked[index] = _strip_query(private)
            self._learn(url, private)
            batch.add(plugin)
            shown.append(private)
        delivered: Counter[str] = Counter()
        if any(shown):
            result = batch.notify(body=body, title=title, timeout=self._timeout)
            delivered.update(r.url for r in result.results if bool(r))
        sent, failed = 0, []
        for index, shown_url in enumerate(shown):
            if shown_url is not None and delivered[shown_url] > 0:
                delivered[shown_url] -= 1
                sent += 1
            else:
                failed.append(self.masked[index])
                log.warning("notification %r to %s was not delivered", title, self.masked[index])
        return SendResult(sent, failed)

    def _learn(self, url: str, private: str) -> None:
        """Narrow the log mask to what Apprise itself treats as secret in this URL."""
        if self._filter is not None:
            secrets = set(self._filter.secrets) - _secrets(url, "") | _secrets(url, private)
            self._filter.secrets = sorted(secrets, key=len, reverse=True)
