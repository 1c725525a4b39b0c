"""Short summaries with no downloads: extractive by default, a local Ollama if configured.

The extractive scorer mixes position (blogs, like news, tend to say the point early)
with TF-IDF centrality (how much a sentence shares with the whole post); the weights
were tuned with scripts/bench/summaries.py against the lead-3 baseline.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter

import anyio
import anyio.to_thread
import httpx

log = logging.getLogger(__name__)

POSITION_WEIGHT = 0.35
OLLAMA_TIMEOUT_S = 20.0
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e", "cf",
    "fig", "figs", "eq", "eqs", "no", "vol", "al", "approx", "inc", "ltd", "co", "corp",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "sec", "ch", "p", "pp", "resp", "u.s", "u.k", "ph.d",
}  # fmt: skip
_BOUNDARY = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9À-ÖØ-ÞА-Я])")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
# CJK sentences end in full-width marks with no space after them.
_CJK_SENTENCE = re.compile(r"[^。！？]+(?:[。！？]+[」』”’）)]*|$)")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
# Lines that are a theme's chrome, not prose: menus, breadcrumbs, share and paging links.
_NAV_WORDS = re.compile(
    r"^(skip to (main )?content|main menu|menu|navigation|home|search|share( this)?|"
    r"tweet|previous( post)?|next( post)?|older posts?|newer posts?|read more|"
    r"continue reading|posted in|filed under|tags?|categories|category|subscribe|"
    r"follow us|back to top|log ?in|sign ?in|sign up|comments?)\b",
    re.I,
)
_NAV_SEPARATORS = re.compile(r"\s[|·•»›>/]\s|\s[|·•»›]|[|·•»›]\s")
_STOP = frozenset(
    "a an the and or but if of to in on at by for with from as is are was were be been "
    "being it its this that these those we our you your i my he she they them their his "
    "her not no so than then there here which who whom what when where how all any can "
    "will would should could may might do does did has have had also more most such into "
    "over about only just very".split()
)


def split_sentences(text: str) -> list[str]:
    """Sentences by punctuation, keeping "e.g. This", "Dr. Smith" and "3.5" together.

    Every line is its own block: a heading never runs into the paragraph below it.
    """
    sentences: list[str] = []
    for paragraph in text.splitlines():  # extracted text has one block (p, h2, li) per line
        flat = " ".join(paragraph.split())
        if not flat:
            continue
        if _CJK.search(flat):
            sentences += [m.strip() for m in _CJK_SENTENCE.findall(flat) if m.strip()]
            continue
        start = 0
        for match in _BOUNDARY.finditer(flat):
            before = flat[start : match.start()].rstrip("\"'”’)]")
            last = before.rsplit(" ", 1)[-1].rstrip(".").lower()
            if last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha()):
                continue
            sentences.append(flat[start : match.start()].strip())
            start = match.end()
        sentences.append(flat[start:].strip())
    return [s for s in sentences if s]


def is_navigation(line: str) -> bool:
    """A menu, breadcrumb or share/paging line: short, unpunctuated, or chrome words."""
    flat = " ".join(line.split())
    if not flat:
        return True
    prose = flat.endswith((".", "!", "?", "…", "。", "！", "？", '"', "”", ")"))
    if _NAV_WORDS.match(flat) and (not prose or len(flat.split()) <= 6):
        return True
    if len(_NAV_SEPARATORS.findall(flat)) >= 2 and not prose:
        return True
    return not prose and not _CJK.search(flat) and len(flat.split()) < 8


def prose_only(text: str) -> str:
    """`text` without navigation lines; the text itself if nothing would be left."""
    kept = [line for line in text.splitlines() if not is_navigation(line)]
    return "\n".join(kept) if kept else text


def _terms(sentence: str) -> list[str]:
    return [w for w in (m.lower() for m in _WORD.findall(sentence)) if w not in _STOP]


def _scores(sentences: list[str]) -> list[float]:
    bags = [Counter(_terms(s)) for s in sentences]
    df: Counter[str] = Counter()
    for bag in bags:
        df.update(bag.keys())
    n = len(sentences)
    idf = {t: math.log((1 + n) / (1 + d)) + 1.0 for t, d in df.items()}
    vectors = [{t: (1 + math.log(c)) * idf[t] for t, c in bag.items()} for bag in bags]
    centroid: Counter[str] = Counter()
    for vec in vectors:
        centroid.update(vec)
    c_norm = math.sqrt(sum(v * v for v in centroid.values())) or 1.0
    scores = []
    for i, vec in enumerate(vectors):
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        centrality = sum(w * centroid[t] for t, w in vec.items()) / (norm * c_norm)
        position = 1.0 / math.sqrt(i + 1)
        scores.append((1 - POSITION_WEIGHT) * centrality + POSITION_WEIGHT * position)
    return scores


def _clip(sentence: str, max_chars: int) -> str:
    if len(sentence) <= max_chars:
        return sentence
    cut = sentence[: max_chars - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"


def extractive_summary(text: str, max_sentences: int = 3, max_chars: int = 600) -> str:
    """1..max_sentences sentences of `text` in their original order, at most max_chars."""
    sentences = [
        s for s in split_sentences(prose_only(text)) if len(_WORD.findall(s)) >= 4 or _CJK.search(s)
    ]
    if not sentences:
        sentences = split_sentences(text)
    if not sentences:
        return ""
    if len(sentences) <= max_sentences:
        chosen = list(range(len(sentences)))
    else:
        scores = _scores(sentences)
        chosen = sorted(range(len(sentences)), key=lambda i: -scores[i])[:max_sentences]
    picked: list[int] = []
    used = 0
    for i in chosen:  # best first, so the best sentences win when not all fit
        extra = len(sentences[i]) + (1 if picked else 0)
        if used + extra <= max_chars:
            picked.append(i)
            used += extra
    if not picked:
        return _clip(sentences[min(chosen)], max_chars)
    return " ".join(sentences[i] for i in sorted(picked))


class Summarizer:
    """Ollama when configured and answering, else extractive; logs the fallback once."""

    def __init__(
        self,
        *,
        client: httpx.AsyncClient | None = None,
        ollama_url: str | None = None,
        ollama_model: str = "llama3.2",
        timeout: float = OLLAMA_TIMEOUT_S,
        max_chars: int = 600,
    ) -> None:
        self._client = client
        self._url = ollama_url.rstrip("/") if ollama_url else None
        self._model = ollama_model
        self._timeout = timeout
        self._max_chars = max_chars
        self._warned = False

    async def summarize(self, title: str, text: str) -> str:
        first, _, rest = text.strip().partition("\n")
        if first.strip() == title.strip():  # the page's own <h1> repeats the title
            text = rest
        if self._url and self._client is not None and text.strip():
            summary = await self._ollama(title, text)
            if summary:
                return summary
        return await anyio.to_thread.run_sync(extractive_summary, text, 3, self._max_chars)

    async def _ollama(self, title: str, text: str) -> str | None:
        assert self._client is not None
        prompt = (
            "Summarize this blog post in at most three sentences, plain text, no preamble.\n\n"
            f"Title: {title}\n\n{text[:12000]}"
        )
        body = {"model": self._model, "prompt": prompt, "stream": False}
        try:
            with anyio.fail_after(self._timeout):
                response = await self._client.post(
                    f"{self._url}/api/generate", json=body, timeout=self._timeout
                )
            response.raise_for_status()
            answer = str(response.json().get("response", "")).strip()
        except (httpx.HTTPError, TimeoutError, ValueError, AttributeError) as exc:
            if not self._warned:
                log.warning(
                    "Ollama at %s unusable (%s); using extractive summaries", self._url, exc
                )
                self._warned = True
            return None
        answer = " ".join(answer.split())
        return _clip(answer, self._max_chars) if answer else None
