"""Search finds life-log events by meaning, not by shared words."""

from __future__ import annotations

import re

import pytest

from app.storage.events.store import EventStore
from app.storage.events.types import NewEvent

pytestmark = pytest.mark.anyio

EVENTS = {
    "manager": "argued with my manager about the project deadline",
    "run": "ran 5k by the river before breakfast",
    "dentist": "dentist appointment, had a cavity filled",
    "bread": "baked sourdough bread for the first time",
    "mom": "called mom to wish her a happy birthday",
    "flight": "booked flights to Lisbon for the summer holiday",
    "sleep": "couldn't sleep, lay awake until 4am",
    "guitar": "practiced guitar chords for an hour",
    "promotion": "got promoted to senior engineer today",
    "flu": "stayed home sick with a fever and sore throat",
    "car": "car broke down on the highway, waited for the tow truck",
    "book": "finished reading a novel about a lighthouse keeper",
    "rent": "paid rent and the electricity bill",
    "dog": "took the dog to the vet for her vaccinations",
    "garden": "planted tomatoes and basil in the garden",
    "breakup": "broke up with my girlfriend after three years",
    "film": "watched a horror film at the cinema with friends",
    "meditation": "meditated for twenty minutes, felt calm afterwards",
    "laptop": "spilled coffee on my laptop keyboard",
    "wedding": "attended my cousin's wedding in the countryside",
    "gym": "lifted weights at the gym, new deadlift record",
    "tax": "filed my tax return online",
    "haircut": "got a haircut, much shorter this time",
    "snow": "heavy snowfall overnight, shoveled the driveway",
    "interview": "job interview at a startup went well",
    "moving": "packed boxes for moving to the new apartment",
    "keys": "lost my keys and got locked out of the house",
    "concert": "saw my favourite band play live",
    "curry": "made a spicy thai curry for dinner",
    "bike": "fixed the flat tire on my bicycle",
}

QUERIES = {
    "conflict with my boss over when work is due": "manager",
    "jogging along the water in the morning": "run",
    "tooth problem treated": "dentist",
    "trouble falling asleep at night": "sleep",
    "career advancement": "promotion",
    "feeling ill with a temperature": "flu",
    "vehicle trouble on the road": "car",
    "animal doctor visit for my puppy": "dog",
    "relationship ended": "breakup",
    "scary movie night": "film",
    "ruined my computer with a drink": "laptop",
    "relocating to a different flat": "moving",
    "exercise session with barbells": "gym",
    "music performance I went to": "concert",
    "repaired my bike": "bike",
}

THRESHOLD = 0.8
STOP = {"a", "an", "the", "my", "to", "of", "for", "with", "at", "in", "on", "and", "i", "is"}


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9']+", text.lower())) - STOP


def keyword_top3(query: str) -> list[str]:
    ranked = sorted(EVENTS, key=lambda key: (-len(words(query) & words(EVENTS[key])), key))
    return ranked[:3]


def recall_at_3(top3: dict[str, list[str]]) -> float:
    return sum(QUERIES[q] in top3[q] for q in QUERIES) / len(QUERIES)


async def test_model_finds_paraphrases_that_keywords_miss(store: EventStore) -> None:
    await store.add(
        [
            NewEvent(id=key, type="note", text=text, timestamp=1_700_000_000.0 + n)
            for n, (key, text) in enumerate(EVENTS.items())
        ]
    )
    model_top3 = {}
    for query in QUERIES:
        hits = await store.search(query, n=3, type=None, since=None, until=None)
        scores = [score for _, score in hits]
        assert scores == sorted(scores, reverse=True)
        assert all(0.0 <= s <= 1.0 for s in scores)
        model_top3[query] = [event.id for event, _ in hits]
    keyword_recall = recall_at_3({q: keyword_top3(q) for q in QUERIES})
    model_recall = recall_at_3(model_top3)
    assert keyword_recall < THRESHOLD / 2, keyword_recall
    assert model_recall >= THRESHOLD, model_top3
