"""Prometheus metrics, written by prometheus-client so a Prometheus server reads them right.

Each app gets its own CollectorRegistry (process and platform collectors on it, never the
global registry), so several apps in one process, as in the tests, do not clash. The
request histogram lives on it for the whole app; everything that describes the data
(events, jobs, backups, uptime) is read at scrape time into a `Scrape` and published by a
one-off collector, so no number is ever stale and nothing is kept in step by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["CONTENT_TYPE_LATEST", "Scrape", "new_registry", "render", "request_histogram"]

UNMATCHED = "unmatched"
"""The route label of a request no route matched: raw paths would explode the series."""
STATUS_CLASSES = tuple(f"{n}xx" for n in range(10))


def new_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    return registry


def request_histogram(registry: CollectorRegistry) -> Histogram:
    return Histogram(
        "hearth_http_request_duration_seconds",
        "Time to answer an HTTP request, by method, route template and status class.",
        ["method", "route", "status"],
        registry=registry,
    )


@dataclass(frozen=True)
class Scrape:
    """What the data looks like right now; the route fills it (the backups off the loop)."""

    uptime_s: float
    events_total: int
    events_by_type: dict[str, int]
    jobs: Sequence[dict[str, Any]] = ()
    backups: Sequence[dict[str, Any]] = field(default_factory=list)


class ScrapeCollector(Collector):
    def __init__(self, scrape: Scrape) -> None:
        self.scrape = scrape

    def collect(self) -> Iterable[Metric]:
        s = self.scrape
        yield GaugeMetricFamily(
            "hearth_uptime_seconds", "Seconds since this process started.", value=s.uptime_s
        )
        yield GaugeMetricFamily(
            "hearth_events_stored", "Events in the event log.", value=s.events_total
        )
        by_type = GaugeMetricFamily(
            "hearth_events", "Events in the event log by type.", None, ["type"]
        )
        for name, count in sorted(s.events_by_type.items()):
            by_type.add_metric([name], count)
        yield by_type
        yield from self._jobs()
        verified = [b["created_at"] for b in s.backups if b.get("verified")]
        yield GaugeMetricFamily("hearth_backups", "Backup archives kept.", value=len(s.backups))
        newest = GaugeMetricFamily(
            "hearth_backup_newest_verified_timestamp_seconds",
            "When the newest verified backup was made (absent while there is none).",
        )
        if verified:
            newest.add_metric([], max(verified))
        yield newest

    def _jobs(self) -> Iterator[Metric]:
        for key, what in (("last_success_at", "success"), ("last_failure_at", "failure")):
            family = GaugeMetricFamily(
                f"hearth_job_last_{what}_timestamp_seconds",
                f"When each job's last {what} ended (absent if it never had one).",
                labels=["job"],
            )
            for job in self.scrape.jobs:
                if job.get(key) is not None:
                    family.add_metric([job["name"]], job[key])
            yield family


def render(registry: CollectorRegistry, scrape: Scrape) -> bytes:
    """The exposition: the app's registry, then the data as of this scrape."""
    now = CollectorRegistry(auto_describe=False)
    now.register(ScrapeCollector(scrape))
    return generate_latest(registry) + generate_latest(now)
