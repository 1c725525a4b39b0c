"""Prometheus text metrics (behind the token like everything but /health)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from app.api.deps import StatusDep

router = APIRouter(tags=["status"])


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(service: StatusDep) -> str:
    events = service.events_summary()
    lines = [
        "# TYPE hearth_events gauge",
        f"hearth_events_total {events['total']}",
        *(f'hearth_events{{type="{_label(t)}"}} {n}' for t, n in sorted(events["by_type"].items())),
        "# TYPE hearth_job_last_success gauge",
    ]
    for job in service.jobs.jobs():
        last = job.get("last_run") or {}
        ok = 1 if last.get("status") == "ok" else 0
        lines.append(f'hearth_job_last_success{{job="{_label(job["name"])}"}} {ok}')
    backups = await service.backups_summary()
    lines += ["# TYPE hearth_backups gauge", f"hearth_backups {backups['count']}"]
    return "\n".join(lines) + "\n"
