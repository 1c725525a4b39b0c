"""The services behind search, insights and `/mcp`, built once the runtime is open."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from app.runtime import Runtime
from app.services.insights import Insights
from app.services.mood_scores import MoodScores
from app.services.search import SearchService

log = logging.getLogger(__name__)


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

    async def warm(self) -> None:
        """Read the mood history once after a start, so that the first insights request
        is not the one that waits for it (11k moods: ~1.6 s)."""
        try:
            await self.insights.moods.sync()
        except Exception as exc:  # the store away, say: the first request tries again
            log.warning("mood history not read at start: %s", exc)
