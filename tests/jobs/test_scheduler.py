"""The job runner: catch-up, no overlap, failures, persistence, shutdown."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.interval import IntervalTrigger

from app import cron
from app.errors import ConflictError, NotFoundError
from app.jobs.scheduler import JobRunner, JobSpec
from tests.conftest import ADMIN_TOKEN
from tests.utils.server import ServerProcess

pytestmark = pytest.mark.anyio

# A fixed "now" for the mocked clock: Friday 2026-11-20 12:00 UTC; the daily job runs at 03:10.
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC).timestamp()
DAILY = "10 3 * * *"
EVERY_SECOND = IntervalTrigger(seconds=1)


class Counter:
    def __init__(self, fail_first: int = 0, delay: float = 0.0) -> None:
        self.calls = 0
        self.fail_first = fail_first
        self.delay = delay
        self.release = asyncio.Event()
        self.block = False

    async def __call__(self) -> dict[str, Any]:
        self.calls += 1
        if self.block:
            await self.release.wait()
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.calls <= self.fail_first:
            raise RuntimeError(f"boom {self.calls}")
        return {"calls": self.calls}


def write_jobs_json(path: Path, jobs: dict[str, Any]) -> None:
    path.write_text(json.dumps({"schema": 1, "jobs": jobs}))


def runs(r: JobRunner, name: str) -> list[dict[str, Any]]:
    """The job's recorded runs, newest first, as they stand in jobs.json."""
    return r._records.runs(name)


def runner(path: Path, *specs: JobSpec, clock: float = NOW) -> JobRunner:
    return JobRunner(list(specs), state_path=path, tz="UTC", clock=lambda: clock)


async def settle(r: JobRunner, name: str) -> dict[str, Any] | None:
    last = r.jobs()[[j["name"] for j in r.jobs()].index(name)]["last_run"]
    if last is None:
        return None
    return await r.wait(last["run_id"])


@pytest.mark.parametrize(
    ("last_success", "expect_runs"),
    [(NOW - 2 * 86400, 1), (NOW - 60, 0)],
    ids=["missed-two-days", "ran-a-minute-ago"],
)
async def test_catch_up_runs_a_missed_job_once(
    tmp_path: Path, last_success: float, expect_runs: int
) -> None:
    path = tmp_path / "jobs.json"
    write_jobs_json(
        path, {"backup": {"first_seen": NOW - 9 * 86400, "last_success": last_success, "runs": []}}
    )
    job = Counter()
    r = runner(path, JobSpec("backup", DAILY, job))
    await r.start()
    record = await settle(r, "backup")
    await r.shutdown()
    assert job.calls == expect_runs
    if expect_runs:
        assert record is not None and record["status"] == "ok"
        assert record["trigger"] == "catch_up"


async def test_fresh_install_does_not_run_everything_at_start(tmp_path: Path) -> None:
    quiet, eager = Counter(), Counter()
    r = runner(
        tmp_path / "jobs.json",
        JobSpec("backup", DAILY, quiet),
        JobSpec("scrape_blog", "17 * * * *", eager, run_if_never=True),
    )
    await r.start()
    await settle(r, "scrape_blog")
    await r.shutdown()
    assert (quiet.calls, eager.calls) == (0, 1)


async def test_never_run_job_catches_up_a_fire_time_since_install(tmp_path: Path) -> None:
    path = tmp_path / "jobs.json"
    write_jobs_json(path, {"backup": {"first_seen": NOW - 86400, "runs": []}})
    job = Counter()
    r = runner(path, JobSpec("backup", DAILY, job))
    await r.start()
    await settle(r, "backup")
    await r.shutdown()
    assert job.calls == 1


async def test_running_job_is_not_started_twice(tmp_path: Path) -> None:
    job = Counter()
    job.block = True
    r = runner(tmp_path / "jobs.json", JobSpec("scrape_blog", "17 * * * *", job))
    await r.start()
    run_id = r.run_now("scrape_blog")
    await asyncio.sleep(0)
    assert r.jobs()[0]["last_run"]["status"] == "running"
    with pytest.raises(ConflictError):
        r.run_now("scrape_blog")
    job.release.set()
    record = await r.wait(run_id)
    assert record["status"] == "ok" and job.calls == 1
    assert r.jobs()[0]["last_run"]["status"] == "ok"
    second = r.run_now("scrape_blog")
    assert (await r.wait(second))["stats"] == {"calls": 2}
    await r.shutdown()


async def test_unknown_job_is_not_found(tmp_path: Path) -> None:
    r = runner(tmp_path / "jobs.json", JobSpec("backup", DAILY, Counter()))
    await r.start()
    with pytest.raises(NotFoundError):
        r.run_now("nope")
    with pytest.raises(NotFoundError):
        await r.wait("no-such-run")
    await r.shutdown()


async def test_failure_is_recorded_and_the_schedule_keeps_going(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A job scheduled every second fails once; the next tick still runs and succeeds."""
    job = Counter(fail_first=1)
    r = JobRunner(
        [JobSpec("flaky", "* * * * *", job, trigger=EVERY_SECOND)],
        state_path=tmp_path / "jobs.json",
        tz="UTC",
    )
    await r.start()
    deadline = time.monotonic() + 10
    while len([h for h in runs(r, "flaky") if h["status"] != "running"]) < 2:
        assert time.monotonic() < deadline, runs(r, "flaky")
        await asyncio.sleep(0.05)
    await r.shutdown()
    older, newer = sorted(
        (h for h in runs(r, "flaky") if h["status"] != "running"), key=lambda h: h["started_at"]
    )[:2]
    assert older["status"] == "error" and older["error"] == "RuntimeError: boom 1"
    assert newer["status"] == "ok"
    assert "boom 1" in caplog.text and "Traceback" in caplog.text


async def test_scheduled_tick_is_skipped_while_the_job_runs(tmp_path: Path) -> None:
    job = Counter(delay=2.5)
    r = JobRunner(
        [JobSpec("slow", "* * * * *", job, trigger=EVERY_SECOND)],
        state_path=tmp_path / "jobs.json",
        tz="UTC",
    )
    await r.start()
    await asyncio.sleep(2.2)
    assert job.calls == 1
    await r.shutdown()


async def test_records_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "jobs.json"
    first = runner(path, JobSpec("backup", DAILY, Counter()))
    await first.start()
    run_id = first.run_now("backup")
    await first.wait(run_id)
    await first.shutdown()

    again = runner(path, JobSpec("backup", DAILY, Counter()), clock=NOW + 60)
    await again.start()
    (job,) = again.jobs()
    await again.shutdown()
    assert job["last_run"]["run_id"] == run_id
    assert job["last_run"]["status"] == "ok"
    assert job["last_run"]["stats"] == {"calls": 1}
    assert job["last_success_at"] == NOW


async def test_history_is_bounded(tmp_path: Path) -> None:
    r = JobRunner(
        [JobSpec("j", DAILY, Counter())], state_path=tmp_path / "jobs.json", tz="UTC", history=3
    )
    await r.start()
    for _ in range(5):
        await r.wait(r.run_now("j"))
    await r.shutdown()
    assert [h["stats"]["calls"] for h in runs(r, "j")] == [5, 4, 3]


CRASHING_CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from app.jobs.scheduler import JobRunner, JobSpec

    async def forever():
        await asyncio.sleep(3600)
        return {}

    async def main():
        r = JobRunner([JobSpec("backup", "10 3 * * *", forever)],
                      state_path=Path(sys.argv[1]), tz="UTC")
        await r.start()
        r.run_now("backup")
        while '"running"' not in Path(sys.argv[1]).read_text():
            await asyncio.sleep(0.01)
        print("running", flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main())
    """
)


async def test_run_cut_short_by_a_crash_is_marked_interrupted(tmp_path: Path) -> None:
    path = tmp_path / "jobs.json"
    child = subprocess.Popen(
        [sys.executable, "-c", CRASHING_CHILD, str(path)],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == b"running"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        if child.stdout is not None:
            child.stdout.close()

    r = runner(path, JobSpec("backup", DAILY, Counter()))
    await r.start()
    (job,) = r.jobs()
    await r.shutdown()
    assert job["last_run"]["status"] == "error"
    assert job["last_run"]["error"] == "interrupted"
    assert '"running"' not in path.read_text()


async def test_shutdown_lets_a_running_job_finish(tmp_path: Path) -> None:
    job = Counter(delay=0.3)
    r = runner(tmp_path / "jobs.json", JobSpec("backup", DAILY, job))
    await r.start()
    run_id = r.run_now("backup")
    await asyncio.sleep(0.05)
    await r.shutdown(timeout=10)
    record = await r.wait(run_id)
    assert record["status"] == "ok"
    saved = json.loads((tmp_path / "jobs.json").read_text())
    assert saved["jobs"]["backup"]["runs"][0]["status"] == "ok"


async def test_shutdown_cancels_a_job_that_overstays(tmp_path: Path) -> None:
    job = Counter(delay=60)
    r = runner(tmp_path / "jobs.json", JobSpec("backup", DAILY, job))
    await r.start()
    run_id = r.run_now("backup")
    await asyncio.sleep(0.05)
    started = time.monotonic()
    await r.shutdown(timeout=0.2)
    assert time.monotonic() - started < 5
    record = await r.wait(run_id)
    assert record["status"] == "error" and record["error"] == "cancelled at shutdown"
    with pytest.raises(ConflictError):
        r.run_now("backup")


def test_crontab_weekdays_count_from_sunday() -> None:
    monday_9am = cron.trigger("0 9 * * 1", "UTC").get_next_fire_time(
        None, datetime(2026, 11, 20, tzinfo=UTC)
    )
    assert monday_9am == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert monday_9am is not None and monday_9am.weekday() == 0


def _next_daily(now: datetime, hour: int, minute: int, weekday: int | None = None) -> datetime:
    """Plain arithmetic, no cron: the next hour:minute (on a given Python weekday)."""
    day = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    while day <= now or (weekday is not None and day.weekday() != weekday):
        day += timedelta(days=1)
    return day


async def test_the_issue_lines_schedule_at_the_times_cron_would(tmp_path: Path) -> None:
    """`0 4 * * 7` was refused and `10 3 * * 0-6` stopped the start; both now schedule."""
    r = JobRunner(
        [
            JobSpec("sunday", "0 4 * * 7", Counter()),
            JobSpec("every_day", "10 3 * * 0-6", Counter()),
        ],
        state_path=tmp_path / "jobs.json",
        tz="UTC",
    )
    await r.start()
    jobs = {j["name"]: j["next_run_at"] for j in r.jobs()}
    await r.shutdown()
    now = datetime.now(UTC)
    assert jobs["sunday"] == _next_daily(now, 4, 0, weekday=6).timestamp()
    assert jobs["every_day"] == _next_daily(now, 3, 10).timestamp()


async def test_catch_up_follows_the_crontab_weekday(tmp_path: Path) -> None:
    """Last success on Sunday 2026-11-15; at Friday noon a Sunday-only job has nothing to
    catch up, a Monday-to-Friday job has."""
    path = tmp_path / "jobs.json"
    last = datetime(2026, 11, 15, 5, 0, tzinfo=UTC).timestamp()
    sunday, weekdays = Counter(), Counter()
    record = {"first_seen": last - 86400, "last_success": last, "runs": []}
    write_jobs_json(path, {"sunday": record, "weekdays": record})
    r = runner(
        path,
        JobSpec("sunday", "0 4 * * 7", sunday),
        JobSpec("weekdays", "0 9 * * mon-fri", weekdays),
    )
    await r.start()
    await settle(r, "weekdays")
    await r.shutdown()
    assert (sunday.calls, weekdays.calls) == (0, 1)


@pytest.mark.slow
def test_a_server_starts_with_the_issue_lines(tmp_path: Path) -> None:
    proc = ServerProcess(
        tmp_path / "data",
        token=ADMIN_TOKEN,
        HEARTH_BACKUP_SCHEDULE="10 3 * * 0-6",
        HEARTH_CLEANUP_SCHEDULE="0 4 * * 7",
        HEARTH_TZ="Europe/Berlin",
    )
    try:
        with proc.start().client() as http:
            jobs = {j["name"]: j for j in http.get("/v1/jobs").json()["jobs"]}
    finally:
        proc.stop()
    berlin = ZoneInfo("Europe/Berlin")
    now = datetime.now(berlin)
    backup = datetime.fromtimestamp(jobs["backup"]["next_run_at"], berlin)
    cleanup = datetime.fromtimestamp(jobs["retention_cleanup"]["next_run_at"], berlin)
    assert jobs["backup"]["schedule"] == "10 3 * * 0-6"
    assert (backup.hour, backup.minute) == (3, 10)
    assert timedelta(0) < backup - now <= timedelta(days=1, hours=1)
    assert (cleanup.weekday(), cleanup.hour, cleanup.minute) == (6, 4, 0)
    assert timedelta(0) < cleanup - now <= timedelta(days=7, hours=1)


async def test_next_run_follows_the_schedule_in_the_configured_zone(tmp_path: Path) -> None:
    r = JobRunner(
        [JobSpec("backup", DAILY, Counter())],
        state_path=tmp_path / "jobs.json",
        tz="Europe/Berlin",
    )
    await r.start()
    (job,) = r.jobs()
    await r.shutdown()
    nxt = datetime.fromtimestamp(job["next_run_at"], ZoneInfo("Europe/Berlin"))
    assert (nxt.hour, nxt.minute) == (3, 10)
    assert 0 < job["next_run_at"] - time.time() <= 86400


async def test_last_success_and_failure_times_are_kept_apart(tmp_path: Path) -> None:
    path = tmp_path / "jobs.json"
    r = runner(path, JobSpec("j", DAILY, Counter(fail_first=1)))
    await r.start()
    assert (await r.wait(r.run_now("j")))["status"] == "error"
    assert (await r.wait(r.run_now("j")))["status"] == "ok"
    (job,) = r.jobs()
    await r.shutdown()
    assert job["last_failure_at"] == NOW and job["last_success_at"] == NOW
    saved = json.loads(path.read_text())["jobs"]["j"]
    assert saved["last_failure"] == saved["last_success"] == NOW
