"""The services behind search, insights and `/mcp`, built once the runtime is open."""

from __future__ import annotations

from dataclasses import dataclass

from app.runtime import Runtime
from app.services.insights import Insights
from app.services.mood_scores import MoodScores
from app.services.search import SearchService


@dataclass(frozen=True)
class Memory:
    search: SearchService
    insights: Insights

    @classmethod
    def open(cls, runtime: Runtime) -> Memory:
        settings = runtime.settings
        return cls(
            search=SearchService(runtime.events, settings.tz),
            insights=Insights(runtime.events, MoodScores(settings.mood_scores), settings.tz),
        )
