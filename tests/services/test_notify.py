"""Notifications through Apprise's json:// to a real local HTTP server, and a real server."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app.jobs.scheduler import JobRunner, JobSpec
from app.services.notify import AppriseSender, Notifier
from tests.conftest import ADMIN_TOKEN
from tests.services.blog import conftest as blog_fixtures
from tests.utils.server import ServerProcess
from tests.utils.site import Site, _Handler

pytestmark = pytest.mark.anyio
site = blog_fixtures.site  # a scripted local HTTP server and a port nobody listens on
closed_port_url = blog_fixtures.closed_port_url
HOUR = 3600.0
T0 = 1_793_520_000.0  # 2026-11-01T08:00:00Z


class Inbox:
    """Messages a json:// URL posted to the local site, as (title, body)."""

    def __init__(self, site: Site, path: str = "/hook") -> None:
        self.messages: list[tuple[str, str]] = []
        self.url = site.url(path).replace("http://", "json://")

        def receive(handler: _Handler) -> None:
            length = int(handler.headers.get("Content-Length") or 0)
            body = json.loads(handler.rfile.read(length))
            self.messages.append((body["title"], body["message"]))
            handler.send_response(200)
            handler.send_header("Content-Length", "0")
            handler.end_headers()

        site.routes["POST " + path] = receive

    @property
    def titles(self) -> list[str]:
        return [title for title, _ in self.messages]


class World:
    """What the notifier looks at: a clock, the newest backup, the disk, the last mood."""

    def __init__(self) -> None:
        self.now = T0
        self.backup: float | None = None
        self.disk = (50, 100)
        self.mood_at = 0.0

    async def newest_backup(self) -> float | None:
        return self.backup

    async def disk_usage(self) -> tuple[int, int]:
        return self.disk


@pytest.fixture
def inbox(site: Site) -> Inbox:
    return Inbox(site)


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
async def make_notifier(tmp_path: Path, world: World) -> AsyncIterator[Any]:
    made: list[Notifier] = []

    def build(urls: list[str], **options: Any) -> Notifier:
        values: dict[str, Any] = {"tz": "UTC", "backup_stale_hours": 48.0, "mood_reminder": None}
        values.update(options)
        notifier = Notifier(
            sender=AppriseSender(urls, timeout=4),
            state_path=tmp_path / "notify.json",
            gate=None,
            newest_backup=world.newest_backup,
            disk_usage=world.disk_usage,
            last_mood_at=lambda: world.mood_at,
            clock=lambda: world.now,
            **values,
        )
        notifier.load()
        made.append(notifier)
        return notifier

    yield build
    for notifier in made:
        await notifier.drain()


async def test_a_failing_job_is_told_once_and_its_recovery_once_across_restarts(
    inbox: Inbox, make_notifier: Any
) -> None:
    notifier = make_notifier([inbox.url])
    failed = {"status": "error", "error": "ScrapeError: all 1 feeds failed"}
    await notifier.job_finished("scrape_blog", failed)
    await notifier.job_finished("scrape_blog", failed)
    assert inbox.messages == [("Hearth: job scrape_blog failed", "scrape_blog: " + failed["error"])]

    restarted = make_notifier([inbox.url])  # same state file: the failure was already told
    await restarted.job_finished("scrape_blog", failed)
    await restarted.job_finished("scrape_blog", {"status": "ok"})
    await restarted.job_finished("scrape_blog", {"status": "ok"})
    assert inbox.titles == ["Hearth: job scrape_blog failed", "Hearth: job scrape_blog works again"]
    await restarted.job_finished("scrape_blog", failed)
    assert len(inbox.messages) == 3  # a new failure after the recovery is news again


async def test_stale_backup_counts_from_first_start_and_low_disk_each_once(
    inbox: Inbox, make_notifier: Any, world: World
) -> None:
    notifier = make_notifier([inbox.url])
    await notifier.check()
    assert inbox.messages == []
    world.now += 49 * HOUR  # no backup yet: 49 h after the install's first start
    world.disk = (4, 100)
    await notifier.check()
    await make_notifier([inbox.url]).check()  # a restart does not resend
    assert sorted(inbox.titles) == ["Hearth: backups are stale", "Hearth: disk almost full"]
    assert ("Hearth: backups are stale", "no backup yet") in inbox.messages

    world.backup, world.disk = world.now - HOUR, (50, 100)
    await notifier.check()
    world.now += 48 * HOUR
    await notifier.check()
    assert inbox.titles.count("Hearth: backups are stale") == 2


async def test_mood_reminder_at_its_time_in_the_zone_on_a_day_without_mood(
    inbox: Inbox, make_notifier: Any, world: World
) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    notifier = make_notifier([inbox.url], tz="Europe/Berlin", mood_reminder="20:30")

    def at(day: int, hour: int, minute: int) -> float:
        return datetime(2026, 11, day, hour, minute, tzinfo=berlin).timestamp()

    world.backup = world.now = at(3, 20, 29)
    await notifier.check()
    assert inbox.messages == []
    world.now = at(3, 20, 30)
    await notifier.check()
    world.now = at(3, 20, 31)
    await notifier.check()
    assert inbox.titles == ["Hearth: how are you today?"]

    world.mood_at = at(4, 9, 0)  # the next day has a mood: no reminder
    world.backup = world.now = at(4, 20, 30)
    await notifier.check()
    assert len(inbox.messages) == 1


async def test_failed_url_is_masked_in_the_answer_the_warnings_and_the_logs(
    inbox: Inbox,
    make_notifier: Any,
    closed_port_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    dead = closed_port_url.replace("http://", "json://hearth:s3cr3t-pass@") + "/hook"
    notifier = make_notifier([inbox.url, dead, "nosuchscheme://token-abcdef@host"])
    with caplog.at_level(logging.DEBUG):
        result = await notifier.test()
        await notifier.job_finished("backup", {"status": "error", "error": "disk full"})
    port = closed_port_url.rsplit(":", 1)[1]
    assert result.sent == 1
    assert result.failed == [f"json://hearth:****@127.0.0.1:{port}/hook", "nosuchscheme://****"]
    assert len(inbox.messages) == 2  # the job failure still went to the working URL
    warnings = notifier.warnings()
    assert any(f"127.0.0.1:{port}" in w for w in warnings) and len(warnings) == 2
    everything = " ".join([*warnings, *result.failed, caplog.text])
    assert "s3cr3t-pass" not in everything and "token-abcdef" not in everything


async def test_job_runner_hook_reports_failures_and_never_changes_the_record(
    tmp_path: Path, inbox: Inbox, make_notifier: Any
) -> None:
    notifier = make_notifier([inbox.url])
    calls: list[str] = []

    async def broken_hook(name: str, record: dict[str, Any]) -> None:
        calls.append(name)
        await notifier.job_finished(name, record)
        raise RuntimeError("hook broke")

    async def fail() -> dict[str, Any]:
        raise ValueError("boom")

    runner = JobRunner(
        [JobSpec("flaky", "0 3 * * *", fail)],
        state_path=tmp_path / "jobs.json",
        tz="UTC",
        on_finish=broken_hook,
    )
    record = await runner.run_once("flaky")
    await runner.shutdown()
    assert record["status"] == "error" and record["error"] == "ValueError: boom"
    assert calls == ["flaky"] and inbox.messages == [
        ("Hearth: job flaky failed", "flaky: ValueError: boom")
    ]


@pytest.fixture
def served_inbox(site: Site) -> Iterator[tuple[Site, Inbox]]:
    yield site, Inbox(site)


@pytest.mark.slow
def test_through_a_real_server(
    tmp_path: Path, served_inbox: tuple[Site, Inbox], closed_port_url: str
) -> None:
    site, inbox = served_inbox
    site.add("/feed.xml", "down for maintenance", status=500)
    dead = closed_port_url.replace("http://", "json://me:hunter22@") + "/x"
    server = ServerProcess(
        tmp_path / "data",
        token=ADMIN_TOKEN,
        HEARTH_NOTIFY_URLS=f"{inbox.url},{dead}",
        HEARTH_BLOG_URLS=site.url("/feed.xml"),
    )
    try:
        server.start()
        with server.client() as client:
            deadline = time.monotonic() + 30  # the first scrape runs at start and fails
            while "Hearth: job scrape_blog failed" not in inbox.titles:
                assert time.monotonic() < deadline, inbox.messages
                time.sleep(0.2)
            answer = client.post("/v1/notifications/test")
            assert answer.status_code == 200
            port = closed_port_url.rsplit(":", 1)[1]
            assert answer.json() == {"sent": 1, "failed": [f"json://me:****@127.0.0.1:{port}/x"]}
            status = client.get("/v1/status").json()
            assert any(f"127.0.0.1:{port}" in w for w in status["warnings"])
            assert "hunter22" not in json.dumps(status) + answer.text
            assert inbox.titles.count("Hearth: job scrape_blog failed") == 1
    finally:
        server.stop()
    assert "hunter22" not in server.log.read_text()
