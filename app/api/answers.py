"""Response models: the shape of every answer, so `/docs` shows it.

They allow extra fields: the contract lets an answer grow, never shrink.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.api.schemas import MoodOut


class Answer(BaseModel):
    model_config = ConfigDict(extra="allow")


class MoodWritten(MoodOut):
    applied: bool


class MoodHistory(Answer):
    items: list[MoodOut]


class ThoughtId(Answer):
    id: str


class ThoughtItem(Answer):
    id: str
    text: str
    created_at: float


class Thoughts(Answer):
    text: str
    items: list[ThoughtItem]


class EventOut(Answer):
    id: str
    type: str
    text: str
    timestamp: float
    received_at: float
    metadata: dict[str, str | int | float | bool]


class EventPage(Answer):
    items: list[EventOut]
    next_cursor: str | None


class EventsAdded(Answer):
    ids: list[str]
    created: int
    duplicates: int


class SearchHit(EventOut):
    score: float


class Interpreted(Answer):
    """The range the time words in `q` named, and `text`: what was searched by meaning."""

    since: float | None
    until: float | None
    text: str


class SearchResults(Answer):
    results: list[SearchHit]
    interpreted: Interpreted | None = Field(
        None, description="only when `q` named a time: absent (not null) otherwise"
    )


class RunId(Answer):
    run_id: str


class JobRun(Answer):
    run_id: str
    started_at: float
    finished_at: float | None
    status: Literal["running", "ok", "error"]
    error: str | None
    stats: dict[str, Any]


class Job(Answer):
    name: str
    next_run_at: float | None
    last_run: JobRun | None


class Jobs(Answer):
    jobs: list[Job]


class BlogPost(Answer):
    url: str | None
    title: str | None
    summary: str | None
    published_at: float | None
    scraped_at: float | None


class BlogPosts(Answer):
    items: list[BlogPost]


class Backup(Answer):
    name: str
    created_at: float | None
    size_bytes: int
    verified: bool


class Backups(Answer):
    items: list[Backup]


class EventCounts(Answer):
    total: int
    by_type: dict[str, int]


class Storage(Answer):
    data_dir_bytes: int
    disk_free_bytes: int


class BackupSummary(Answer):
    count: int
    newest_at: float | None


class EventStoreProcess(Answer):
    mode: Literal["child", "inline", "server"]
    pid: int | None = Field(description="the Chroma child's process id (mode child)")
    restarts: int = Field(description="times the Chroma child was started again after it exited")


class Status(Answer):
    version: str
    uptime_s: float
    events: EventCounts
    embedder: str
    store: EventStoreProcess
    storage: Storage
    jobs: list[Job]
    backups: BackupSummary
    warnings: list[str]


class Health(Answer):
    status: Literal["ok", "degraded", "unhealthy"]


class WriteCounts(Answer):
    received: int
    created: int
    updated: int
    duplicates: int


class HealthExportOut(Answer):
    """What one Health Auto Export sync stored; `skipped` entries could not be read
    (`problems` says why, for the first few), `ignored` counts data types Hearth keeps not."""

    moods: WriteCounts
    health: WriteCounts
    mood_applied: bool
    skipped: int
    problems: list[str]
    ignored: dict[str, int]


class DaylioImported(Answer):
    imported: int
    duplicates: int
    rows: int
