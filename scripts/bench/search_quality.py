"""Search quality on a held-out life log: recall@5 and hit@1, overall and per kind.

    .venv/bin/python scripts/bench/search_quality.py [--data scripts/bench/search_quality.json]

64 events over two years and 47 queries of three kinds: paraphrases (other words for
one event), exact names and codes ("HRT-2041", "Dr. Okafor"), and time questions
("what did I cook last week?") asked at a fixed now in a fixed zone. Each mode runs the
same queries against the same store (real model, real Chroma, temp dir):
- literal: the query searched by meaning only (Hearth before time words);
- time words: `/v1/search`'s own path (app.services.search), the shipped behaviour.
A query's recall@5 is the share of its relevant events in the top 5; hit@1 is 1 when
the top result is one of them. Goals: recall@5 >= 0.9, hit@1 >= 0.85 overall, time
questions hit@1 >= 0.8, plain queries no worse than literal.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from app.services.search import SearchService
from app.storage.embeddings import get_embedder
from app.storage.events import EventStore, NewEvent
from app.storage.gate import WriteGate

HERE = Path(__file__).parent
Scores = dict[str, list[tuple[float, float]]]
VERBOSE = False


async def run(data_path: Path) -> None:
    data = json.loads(data_path.read_text())
    zone = ZoneInfo(data["tz"])
    now = datetime.fromisoformat(data["now"]).replace(tzinfo=zone).timestamp()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        store = await EventStore.open(
            chroma_dir=root / "chroma",
            chroma_url=None,
            embedder=get_embedder(),
            outbox_path=root / "outbox.jsonl",
            gate=WriteGate(),
        )
        try:
            await store.add(
                [
                    NewEvent(
                        id=eid,
                        type=kind,
                        text=text,
                        timestamp=datetime.fromisoformat(when).replace(tzinfo=zone).timestamp(),
                    )
                    for eid, kind, when, text in data["events"]
                ]
            )
            service = SearchService(store, data["tz"], clock=lambda: now)
            results = {}
            for mode, literal in (("literal", True), ("time words", False)):
                results[mode] = await score_mode(service, data["queries"], literal=literal)
        finally:
            await store.close()
    print(f"{len(data['events'])} events, {len(data['queries'])} queries, now {data['now']}")
    print(f"{'mode':12} {'kind':11} {'n':>3} {'recall@5':>9} {'hit@1':>6}")
    for mode, scores in results.items():
        every = [pair for pairs in scores.values() for pair in pairs]
        for kind, pairs in [*sorted(scores.items()), ("overall", every)]:
            recall = sum(r for r, _ in pairs) / len(pairs)
            hit = sum(h for _, h in pairs) / len(pairs)
            print(f"{mode:12} {kind:11} {len(pairs):3d} {recall:9.3f} {hit:6.3f}")


async def score_mode(
    service: SearchService, queries: list[list[object]], *, literal: bool
) -> Scores:
    scores: Scores = defaultdict(list)
    for kind, q, relevant in queries:
        assert isinstance(q, str) and isinstance(kind, str) and isinstance(relevant, list)
        answer = await service.search(q, n=5, literal=literal)
        ranked = [hit["id"] for hit in answer["results"]]
        recall = len(set(ranked[:5]) & set(relevant)) / min(5, len(relevant))
        hit = 1.0 if ranked[:1] and ranked[0] in relevant else 0.0
        if VERBOSE and (hit < 1 or recall < 1):
            print(f"  miss ({kind}) {q!r}: top {ranked[:3]}, wanted {relevant}")
        scores[kind].append((recall, hit))
    return scores


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=HERE / "search_quality.json")
    parser.add_argument("--misses", action="store_true", help="print each query that missed")
    args = parser.parse_args()
    global VERBOSE
    VERBOSE = args.misses
    asyncio.run(run(args.data))


if __name__ == "__main__":
    main()
