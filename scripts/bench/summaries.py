# ruff: noqa: E402
"""Extractive summary quality: ROUGE-1 F on ACLSum against the lead-3 baseline.

ACLSum (PyPI `aclsum`) ships its splits inside the wheel, no download. Each paper's
source is its abstract + introduction + conclusion sentences joined into one text (what
`ACLSum.to_parallel_corpus` does); the reference is the three aspect summaries
(challenge, approach, outcome) joined. ROUGE-1 F comes from `rouge-score` with its
Porter stemmer (pure code, no NLTK data). Lead-3 is the first three sentences of the
dataset's own segmentation, with no length cap; ours re-splits the raw text and keeps
to 600 characters, as in production.

    .venv/bin/python scripts/bench/summaries.py [--tune]   # --tune: sweep weights on val
"""

from __future__ import annotations

import sys
from pathlib import Path

# The repo root replaces this script's folder on the path, before any import: a sibling
# bench script named like a stdlib module (http.py) must not shadow it.
sys.path[0] = str(Path(__file__).resolve().parents[2])

import argparse
import statistics
import time
from collections.abc import Callable

from aclsum import ACLSum
from rouge_score import rouge_scorer

from app.services.blog import summarizer as sm

ASPECTS = ("challenge", "approach", "outcome")
SCORER = rouge_scorer.RougeScorer(["rouge1"], use_stemmer=True)


def corpus(split: str) -> list[tuple[list[str], str]]:
    docs = ACLSum(split)  # type: ignore[arg-type]
    return [(doc.get_all_sentences(), " ".join(doc.summaries[a] for a in ASPECTS)) for doc in docs]


def evaluate(
    name: str, fn: Callable[[list[str]], str], data: list[tuple[list[str], str]]
) -> tuple[float, float]:
    scores, times = [], []
    for sentences, reference in data:
        start = time.perf_counter()
        summary = fn(sentences)
        times.append(time.perf_counter() - start)
        scores.append(SCORER.score(reference, summary)["rouge1"].fmeasure)
    mean, ms = statistics.fmean(scores), 1000 * statistics.fmean(times)
    print(f"{name:<34} ROUGE-1 F {mean:.4f}   {ms:.2f} ms/doc", flush=True)
    return mean, ms


def lead3(sentences: list[str]) -> str:
    return " ".join(sentences[:3])


def ours(sentences: list[str]) -> str:
    return sm.extractive_summary(" ".join(sentences))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tune", action="store_true")
    args = parser.parse_args()
    if args.tune:
        val = corpus("val")
        evaluate("val lead-3", lead3, val)
        for weight in (0.0, 0.15, 0.25, 0.35, 0.5, 0.65, 0.8):
            sm.POSITION_WEIGHT = weight
            evaluate(f"val ours position_weight={weight}", ours, val)
        return
    test = corpus("test")
    print(f"ACLSum test: {len(test)} papers")
    base, base_ms = evaluate("lead-3 (baseline)", lead3, test)
    score, ms = evaluate(f"extractive_summary (w={sm.POSITION_WEIGHT})", ours, test)
    print(f"ratio vs lead-3: ROUGE-1 x{score / base:.3f}, time x{ms / max(base_ms, 1e-6):.0f}")


if __name__ == "__main__":
    main()
