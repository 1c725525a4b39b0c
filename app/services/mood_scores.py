"""Mood labels as scores 1..5, so moods from any app can be averaged.

Daylio's five moods come first (its export names them rad/good/meh/bad/awful); the
common words cover the phone app's free text and Health's state-of-mind labels.
`HEARTH_MOOD_SCORES` adds to or overrides these; an unknown label has no score.
"""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_SCORES: dict[str, int] = {
    # Daylio
    "rad": 5,
    "good": 4,
    "meh": 3,
    "bad": 2,
    "awful": 1,
    # common words
    "amazing": 5,
    "great": 5,
    "excited": 5,
    "joyful": 5,
    "happy": 4,
    "content": 4,
    "calm": 4,
    "relaxed": 4,
    "grateful": 4,
    "hopeful": 4,
    "proud": 4,
    "focused": 4,
    "productive": 4,
    "peaceful": 4,
    "okay": 3,
    "ok": 3,
    "fine": 3,
    "neutral": 3,
    "indifferent": 3,
    "bored": 3,
    "tired": 2,
    "sad": 2,
    "stressed": 2,
    "anxious": 2,
    "worried": 2,
    "lonely": 2,
    "frustrated": 2,
    "annoyed": 2,
    "irritated": 2,
    "overwhelmed": 2,
    "exhausted": 2,
    "sick": 2,
    "disappointed": 2,
    "angry": 1,
    "miserable": 1,
    "depressed": 1,
    "terrible": 1,
    "hopeless": 1,
}


class MoodScores:
    def __init__(self, overrides: Mapping[str, int] | None = None) -> None:
        self._scores = {**DEFAULT_SCORES, **{k.lower(): v for k, v in (overrides or {}).items()}}

    def score(self, label: str) -> int | None:
        return self._scores.get(label.strip().lower())
