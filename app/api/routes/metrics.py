"""Prometheus text metrics (behind the token like everything but /health)."""

from __future__ import annotations

import time

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from app.api.deps import RuntimeDep

router = APIRouter(tags=["status"])


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(runtime: RuntimeDep) -> str:
    total, by_type = runtime.events.counts()
    lines = [
        "# TYPE hearth_uptime_seconds gauge",
        f"hearth_uptime_seconds {time.time() - runtime.started_at:.3f}",
        "# TYPE hearth_events gauge",
        f"hearth_events_total {total}",
        *(f'hearth_events{{type="{_label(t)}"}} {n}' for t, n in sorted(by_type.items())),
        "# TYPE hearth_job_last_success gauge",
    ]
    for job in runtime.jobs_view():
        last = job.get("last_run") or {}
        ok = 1 if last.get("status") == "ok" else 0
        lines.append(f'hearth_job_last_success{{job="{_label(job["name"])}"}} {ok}')
    backups = runtime.backups_summary()
    lines += ["# TYPE hearth_backups gauge", f"hearth_backups {backups['count']}"]
    return "\n".join(lines) + "\n"
