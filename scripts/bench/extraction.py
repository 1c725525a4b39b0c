# ruff: noqa: E402
"""Article extraction quality: 4-word-shingle F1 on two public page sets.

1. scrapinghub's article-extraction-benchmark (181 news pages, /work/shared/data).
2. mozilla/readability's test pages (test/test-pages/*/source.html + expected.html). They
   are not committed here: check them out anywhere and pass the folder with
   `--readability DIR` or HEARTH_READABILITY_PAGES=DIR (README: "Extraction benchmark").
   The expected text is expected.html's text. Every source.html there is stored as UTF-8
   and read that way, as readability's own test harness reads it, whatever charset its
   <meta> names (qq's says gb2312: sniffing it like a served page turns it into mojibake).

The published convention (scrapinghub's evaluate.py, re-implemented here): tokens are
\\w+ runs, precision and recall are averaged over pages and F1 is taken from those means;
the mean of per-page F1 is printed too. Compares app.services.blog.extract as shipped and
in trafilatura's three modes (no container fallback) with plain BeautifulSoup get_text,
measured in the same run on the same pages, plus milliseconds per page.

    .venv/bin/python scripts/bench/extraction.py [--limit N] [--readability DIR]
        [--modes shipped,balanced,precision,recall]
"""

from __future__ import annotations

import sys
from pathlib import Path

# The repo root replaces this script's folder on the path, before any import: a sibling
# bench script named like a stdlib module (http.py) must not shadow it.
sys.path[0] = str(Path(__file__).resolve().parents[2])

import argparse
import gzip
import json
import os
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable

from bs4 import BeautifulSoup

from app.services.blog import extract as ex
from app.services.blog.fetch import decode_body

DATA = Path("/work/shared/data/article-extraction-benchmark")


WORD = re.compile(r"\w+")


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    """4-word shingles over \\w+ tokens; a text shorter than n words is one short shingle."""
    words = WORD.findall(text)
    if not words:
        return Counter()
    return Counter(tuple(words[i : i + n]) for i in range(max(len(words) - n + 1, 1)))


def f1(predicted: str, truth: str) -> tuple[float, float, float]:
    """Precision, recall, F1 of one page over 4-word shingle multisets."""
    pred, gold = shingles(predicted), shingles(truth)
    if not pred and not gold:
        return 1.0, 1.0, 1.0
    if not pred or not gold:
        return 0.0, 0.0, 0.0
    common = sum((pred & gold).values())
    precision = common / sum(pred.values())
    recall = common / sum(gold.values())
    score = 2 * precision * recall / (precision + recall) if common else 0.0
    return precision, recall, score


def baseline(html: str) -> str:
    return BeautifulSoup(html, "lxml").get_text()


SHIPPED = (ex.FAVOR_PRECISION, ex.FAVOR_RECALL, ex.CONTAINER_FALLBACK)


def ours(mode: str) -> Callable[[str], str]:
    """`shipped`: the module as configured; otherwise one trafilatura mode, no fallback."""

    def run(html: str) -> str:
        if mode == "shipped":
            ex.FAVOR_PRECISION, ex.FAVOR_RECALL, ex.CONTAINER_FALLBACK = SHIPPED
        else:
            ex.FAVOR_PRECISION = mode == "precision"
            ex.FAVOR_RECALL = mode == "recall"
            ex.CONTAINER_FALLBACK = False
        return ex.extract_article(html).text

    return run


def scrapinghub_pages() -> list[tuple[str, str]]:
    truth = json.loads((DATA / "ground-truth.json").read_text())
    pages = []
    for key in sorted(truth):
        raw = gzip.decompress((DATA / "html" / f"{key}.html.gz").read_bytes())
        pages.append((decode_body(raw, None), truth[key]["articleBody"]))
    return pages


def readability_pages(root: Path) -> list[tuple[str, str]]:
    pages = []
    for folder in sorted(p for p in root.iterdir() if (p / "expected.html").is_file()):
        source = (folder / "source.html").read_text(encoding="utf-8", errors="replace")
        expected = (folder / "expected.html").read_text(encoding="utf-8", errors="replace")
        pages.append((source, BeautifulSoup(expected, "lxml").get_text(" ")))
    return pages


def evaluate(name: str, fn: Callable[[str], str], pages: list[tuple[str, str]]) -> dict[str, float]:
    scores, precs, recs, times = [], [], [], []
    for html, truth in pages:
        start = time.perf_counter()
        try:
            text = fn(html)
        except Exception:  # noqa: BLE001 - an extractor failure scores zero, like empty output
            text = ""
        times.append(time.perf_counter() - start)
        p, r, f = f1(text, truth)
        precs.append(p)
        recs.append(r)
        scores.append(f)
    precision, recall = statistics.fmean(precs), statistics.fmean(recs)
    result = {
        "f1": 2 * precision * recall / (precision + recall),
        "f1_per_page": statistics.fmean(scores),
        "precision": precision,
        "recall": recall,
        "ms_per_page": 1000 * statistics.fmean(times),
        "ms_p50": 1000 * statistics.median(times),
    }
    print(
        f"{name:<22} F1 {result['f1']:.3f} (per-page mean {result['f1_per_page']:.3f})"
        f"  P {result['precision']:.3f}  R {result['recall']:.3f}"
        f"  {result['ms_per_page']:.1f} ms/page (p50 {result['ms_p50']:.1f})",
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--modes", default="shipped,balanced,precision,recall")
    parser.add_argument("--readability", default=os.environ.get("HEARTH_READABILITY_PAGES"))
    parser.add_argument("--sets", default="scrapinghub,readability")
    args = parser.parse_args()
    sets = {"scrapinghub": scrapinghub_pages()} if "scrapinghub" in args.sets else {}
    if "readability" not in args.sets:
        pass
    elif args.readability:
        sets["readability"] = readability_pages(Path(args.readability))
    else:
        print("readability pages not given (--readability DIR): scrapinghub only")
    for name, pages in sets.items():
        if args.limit:
            pages = pages[: args.limit]
        print(f"== {name}: {len(pages)} pages")
        base = evaluate("BeautifulSoup get_text", baseline, pages)
        for mode in args.modes.split(","):
            res = evaluate(f"extract ({mode})", ours(mode), pages)
            print(
                f"  ratio vs baseline: F1 x{res['f1'] / base['f1']:.2f},"
                f" time x{res['ms_per_page'] / base['ms_per_page']:.1f}"
            )


if __name__ == "__main__":
    main()
