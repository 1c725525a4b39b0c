"""Offline summaries, and the optional Ollama path against a fake local Ollama."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from app.services.blog.summarizer import Summarizer, extractive_summary, split_sentences
from tests.utils.site import LOREM, Site, _Handler

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as http:
        yield http


def test_sentence_split_keeps_abbreviations_and_numbers_together() -> None:
    text = (
        "Dr. Smith met Prof. Jones at 3.5 km from the U.S. border, e.g. near Laredo. "
        "They talked for hours! Was it useful? Yes.\nA heading\nNext paragraph starts here."
    )
    assert split_sentences(text) == [
        "Dr. Smith met Prof. Jones at 3.5 km from the U.S. border, e.g. near Laredo.",
        "They talked for hours!",
        "Was it useful?",
        "Yes.",
        "A heading",
        "Next paragraph starts here.",
    ]


def test_summary_is_short_and_made_of_the_texts_own_sentences() -> None:
    text = "\n".join(
        LOREM * 3 + [f"Filler sentence number {i} is here for length." for i in range(40)]
    )
    summary = extractive_summary(text)
    assert 0 < len(summary) <= 600
    picked = split_sentences(summary)
    assert 1 <= len(picked) <= 3
    assert all(sentence in text for sentence in picked)


def test_summary_respects_a_small_limit_and_clips_one_huge_sentence() -> None:
    assert len(extractive_summary(" ".join(LOREM), max_chars=200)) <= 200
    huge = "word " * 400 + "end."
    clipped = extractive_summary(huge, max_chars=600)
    assert len(clipped) <= 600 and clipped.endswith("…")
    assert extractive_summary("") == ""


async def test_unreachable_ollama_falls_back_and_warns_once(
    closed_port_url: str, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    summarizer = Summarizer(client=client, ollama_url=closed_port_url, timeout=2)
    with caplog.at_level(logging.WARNING, logger="app.services.blog.summarizer"):
        first = await summarizer.summarize("Library", "\n".join(LOREM))
        second = await summarizer.summarize("Library", "\n".join(LOREM))
    assert first == second == extractive_summary("\n".join(LOREM))
    assert len([r for r in caplog.records if "Ollama" in r.getMessage()]) == 1


async def test_ollama_answer_is_used(site: Site, client: httpx.AsyncClient) -> None:
    seen: list[dict[str, object]] = []

    def generate(handler: _Handler) -> None:
        body = json.loads(handler.rfile.read(int(handler.headers["Content-Length"])))
        seen.append(body)
        answer = json.dumps({"response": "  A new library opened in town.\n", "done": True})
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(answer)))
        handler.end_headers()
        handler.wfile.write(answer.encode())

    site.routes["POST /api/generate"] = generate
    summarizer = Summarizer(client=client, ollama_url=site.base_url + "/", ollama_model="tiny")
    assert await summarizer.summarize("Library", "\n".join(LOREM)) == (
        "A new library opened in town."
    )
    assert seen[0]["model"] == "tiny" and seen[0]["stream"] is False
    assert "Library" in str(seen[0]["prompt"])


async def test_ollama_error_status_falls_back(site: Site, client: httpx.AsyncClient) -> None:
    summarizer = Summarizer(client=client, ollama_url=site.base_url)  # POST -> 501 here
    assert await summarizer.summarize("T", "\n".join(LOREM)) == extractive_summary("\n".join(LOREM))
