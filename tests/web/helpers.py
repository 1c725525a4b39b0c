"""Small steps the browser tests share."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Locator, Page, expect

from tests.utils.server import ServerProcess

PENDING = re.compile(r"[1-9]\d* pending")
SW_READY = "navigator.serviceWorker.ready.then(() => !!navigator.serviceWorker.controller)"


def sign_in_by_link(page: Page, server: ServerProcess) -> None:
    page.goto(f"{server.url}/#token={server.token}")
    expect(page.get_by_test_id("current-mood")).to_be_visible()


def sync_line(page: Page) -> Locator:
    return page.get_by_role("status")


def wait_all_sent(page: Page, timeout_s: float = 30) -> None:
    expect(sync_line(page)).not_to_have_text(PENDING, timeout=timeout_s * 1000)


def wait_offline_ready(page: Page) -> None:
    """The service worker controls the page (the shell is cached)."""
    page.wait_for_function(SW_READY)


def save_mood(page: Page, mood: str, context: str = "") -> None:
    page.get_by_label("Mood", exact=True).fill(mood)
    page.get_by_label("Context", exact=True).fill(context)
    page.get_by_role("button", name="Save mood").click()


def add_thought(page: Page, text: str) -> None:
    page.get_by_label("Thought", exact=True).fill(text)
    page.get_by_role("button", name="Add thought").click()


def thoughts_with_text(client: httpx.Client, text: str) -> list[dict[str, object]]:
    """Every stored thought with this text, from the recent list and from the event log."""
    recent = client.get("/v1/thoughts", params={"limit": 500}).json()["items"]
    logged = client.get("/v1/events", params={"type": "thought", "limit": 500}).json()["items"]
    found = [t for t in recent if t["text"] == text]
    assert len(found) == len([e for e in logged if e["text"] == text])
    return found
