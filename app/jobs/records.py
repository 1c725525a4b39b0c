"""Run records of the scheduled jobs, kept in `state/jobs.json`.

The records are what `/v1/jobs` shows and what catch-up relies on: each job's last
success time lives here, not in APScheduler's memory, so a run missed while the box
was down is noticed at the next start. History is bounded per job.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.storage.document import DurableDocument
from app.storage.gate import WriteGate

SCHEMA = 1
INTERRUPTED = "interrupted"

Doc = dict[str, Any]


def _empty() -> Doc:
    return {"schema": SCHEMA, "jobs": {}}


def _encode(doc: Doc) -> bytes:
    return json.dumps(doc, sort_keys=True, indent=1).encode()


def _decode(data: bytes) -> Doc:
    """Parse the file; a run still marked running was cut short by a crash or kill."""
    doc = json.loads(data)
    if not isinstance(doc, dict) or not isinstance(doc.get("jobs"), dict):
        raise ValueError("jobs.json has no 'jobs' object")
    for job in doc["jobs"].values():
        for run in job.get("runs", []):
            if run.get("status") == "running":
                run["status"] = "error"
                run["error"] = INTERRUPTED
    doc["schema"] = SCHEMA
    return doc


def json_safe(value: Any) -> Any:
    """Round-trip through JSON so a job's odd stats can never break the records file."""
    return json.loads(json.dumps(value, default=str))


class JobRecords:
    """Bounded per-job history plus last success and failure times, written durably."""

    def __init__(self, path: Path, *, gate: WriteGate | None = None, history: int = 50) -> None:
        self._doc: DurableDocument[Doc] = DurableDocument(
            path, encode=_encode, decode=_decode, default=_empty, gate=gate
        )
        self._history = max(1, history)

    def load(self) -> list[str]:
        """Blocking: read the file, marking interrupted runs; returns recovery warnings."""
        return self._doc.load()

    def _job(self, name: str) -> dict[str, Any]:
        job: dict[str, Any] = self._doc.value["jobs"].get(name, {})
        return job

    def first_seen(self, name: str) -> float | None:
        return self._job(name).get("first_seen")

    def last_success(self, name: str) -> float | None:
        return self._job(name).get("last_success")

    def last_failure(self, name: str) -> float | None:
        return self._job(name).get("last_failure")

    def runs(self, name: str) -> list[dict[str, Any]]:
        """Newest first."""
        return list(self._job(name).get("runs", []))

    def find(self, run_id: str) -> dict[str, Any] | None:
        for job in self._doc.value["jobs"].values():
            for run in job.get("runs", []):
                if run.get("run_id") == run_id:
                    return dict(run)
        return None

    async def register(self, names: list[str], now: float) -> None:
        """Note when each job was first seen: the lower bound for a never-run job's catch-up."""

        def change(doc: Doc) -> tuple[Doc, None]:
            missing = [n for n in names if "first_seen" not in doc["jobs"].get(n, {})]
            if not missing:
                return doc, None
            jobs = dict(doc["jobs"])
            for name in missing:
                jobs[name] = {"runs": [], "last_success": None, **jobs.get(name, {})}
                jobs[name]["first_seen"] = now
            return {**doc, "jobs": jobs}, None

        await self._doc.update(change)

    async def save_run(self, record: dict[str, Any]) -> None:
        """Insert or replace a run (matched by run_id) at the head of its job's history."""
        record = json_safe(record)
        name = record["job"]

        def change(doc: Doc) -> tuple[Doc, None]:
            job = dict(doc["jobs"].get(name, {"runs": [], "last_success": None}))
            runs = [r for r in job.get("runs", []) if r.get("run_id") != record["run_id"]]
            job["runs"] = [record, *runs][: self._history]
            if record["status"] == "ok":
                job["last_success"] = record["finished_at"]
            elif record["status"] == "error":
                job["last_failure"] = record["finished_at"]
            return {**doc, "jobs": {**doc["jobs"], name: job}}, None

        await self._doc.update(change)

    async def drain(self) -> None:
        await self._doc.drain()
