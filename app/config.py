"""Settings: every knob is an environment variable with the prefix HEARTH_ (or a line in .env)."""

from __future__ import annotations

import ipaddress
import zoneinfo
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app import cron

LOOPBACK_HOSTS = {"127.0.0.1", "::1", "localhost"}


def _csv_items(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _split_csv(value: object) -> object:
    return _csv_items(value) if isinstance(value, str) else value


class Settings(BaseSettings):
    """Validated at start; a bad value stops the service with a message naming the variable."""

    model_config = SettingsConfigDict(
        env_prefix="HEARTH_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Path("./data")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    api_token: SecretStr | None = None
    max_body_bytes: int = Field(2 * 1024 * 1024, ge=1024)
    log_level: str = "INFO"
    access_log: bool = True
    trusted_proxies: Annotated[list[str], NoDecode] = ["127.0.0.1", "::1"]
    tz: str = "UTC"
    mood_scores: Annotated[dict[str, int], NoDecode] = {}
    public_url: str | None = None  # the web app's address for sign-in links (token --qr)

    # Event log: Chroma's server in a child process over data/chroma ("child"), or the
    # embedded client in the service's own process ("inline"); HEARTH_CHROMA_URL instead
    # names a Chroma server run elsewhere.
    chroma_url: str | None = None
    chroma_mode: Literal["child", "inline"] = "child"
    recent_thoughts: int = Field(20, ge=1, le=500)

    # Blog
    blog_urls: Annotated[list[str], NoDecode] = []
    scrape_schedule: str = "17 * * * *"
    scrape_delay_s: float = Field(1.0, ge=0)
    blog_cache_max: int = Field(200, ge=1)
    ollama_url: str | None = None
    ollama_model: str = "llama3.2"

    # Maintenance
    retention_days: int = Field(0, ge=0)
    retention_by_type: Annotated[dict[str, int], NoDecode] = {}
    cleanup_schedule: str = "40 3 * * *"
    backup_dir: Path | None = None
    backup_keep: int = Field(30, ge=1)
    backup_schedule: str = "10 3 * * *"
    places_schedule: str = "20 0 * * *"  # the day's summary of places, after local midnight

    # Notifications (Apprise URLs hold secrets: kept out of the settings' repr)
    notify_urls: Annotated[list[str], NoDecode] = Field([], repr=False)
    backup_stale_hours: float = Field(48.0, gt=0)
    mood_reminder: str | None = None

    # Faults: the free-space margin under which writes are refused (507; either limit,
    # 0 turns it off), and how long a request waits for one Chroma call (then 503).
    min_free_bytes: int = Field(64 * 1024 * 1024, ge=0)
    min_free_percent: float = Field(2.0, ge=0, le=50)
    store_timeout_s: float = Field(5.0, gt=0, le=8)

    @field_validator("trusted_proxies", "blog_urls", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_networks(cls, value: list[str]) -> list[str]:
        for item in value:
            ipaddress.ip_network(item, strict=False)
        return value

    @field_validator("blog_urls")
    @classmethod
    def _http_urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"not an http(s) URL: {url!r}")
        return value

    @field_validator("notify_urls", mode="before")
    @classmethod
    def _notify_csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("mood_reminder")
    @classmethod
    def _hh_mm(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        hours, sep, minutes = value.strip().partition(":")
        if not (sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
            raise ValueError(f"expected HH:MM, got {value!r}")
        if int(hours) > 23 or int(minutes) > 59:
            raise ValueError(f"no such time of day: {value!r}")
        return f"{int(hours):02d}:{minutes}"

    @field_validator("retention_by_type", mode="before")
    @classmethod
    def _type_days(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        rules: dict[str, int] = {}
        for part in _csv_items(value):
            name, sep, days = part.partition("=")
            if not sep or not name.strip() or not days.strip().isdigit():
                raise ValueError(f"expected TYPE=DAYS, got {part!r}")
            rules[name.strip()] = int(days)
        return rules

    @field_validator("mood_scores", mode="before")
    @classmethod
    def _mood_scores(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        scores: dict[str, int] = {}
        for part in _csv_items(value):
            label, sep, score = part.partition("=")
            if not sep or not label.strip() or score.strip() not in {"1", "2", "3", "4", "5"}:
                raise ValueError(f"expected LABEL=SCORE with a score 1..5, got {part!r}")
            scores[label.strip().lower()] = int(score)
        return scores

    @field_validator("mood_scores")
    @classmethod
    def _scores_in_range(cls, value: dict[str, int]) -> dict[str, int]:
        if any(not 1 <= score <= 5 for score in value.values()):
            raise ValueError("mood scores are 1..5")
        return {label.strip().lower(): score for label, score in value.items()}

    @field_validator("tz")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("scrape_schedule", "cleanup_schedule", "backup_schedule", "places_schedule")
    @classmethod
    def _crontab(cls, value: str) -> str:
        cron.parse(value)  # the scheduler parses the same line with the same rules
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("one of DEBUG, INFO, WARNING, ERROR")
        return level

    @property
    def state_dir(self) -> Path:
        return self.data_dir / "state"

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def exposed(self) -> bool:
        """True when the bind address lets other machines connect."""
        return self.host not in LOOPBACK_HOSTS

    @property
    def backups_dir(self) -> Path:
        return self.backup_dir if self.backup_dir is not None else self.data_dir / "backups"
