"""Offline first, with a real server process stopped and started again on the same port:
writes wait in the browser (through a reload and a closed tab), arrive exactly once and
in order, and an older queued mood never replaces a newer one.

One stop and one restart for the whole story: a restart costs seconds (torch import)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.utils.server import ServerProcess
from tests.web.helpers import (
    add_thought,
    save_mood,
    sign_in_by_link,
    sync_line,
    thoughts_with_text,
    wait_all_sent,
    wait_offline_ready,
)

pytestmark = pytest.mark.slow


def test_writes_made_while_the_server_is_down_arrive_once(
    context: BrowserContext, page: Page, web_server: ServerProcess
) -> None:
    sign_in_by_link(page, web_server)
    wait_offline_ready(page)
    web_server.kill9()

    save_mood(page, "offline-mood", "on the train")
    add_thought(page, "offline thought one")
    add_thought(page, "offline thought two")
    expect(sync_line(page)).to_contain_text("3 pending")
    current = page.get_by_test_id("current-mood")
    expect(current).to_contain_text("offline-mood")  # shown at once
    thoughts = page.get_by_test_id("thought-list").locator("li")
    expect(thoughts.first).to_contain_text("offline thought two")

    page.reload()  # the shell comes from the service worker, the writes from IndexedDB
    expect(sync_line(page)).to_contain_text("3 pending")
    expect(current).to_contain_text("offline-mood")
    expect(thoughts.nth(1)).to_contain_text("offline thought one")

    page.close()  # a closed tab keeps them too
    page = context.new_page()
    page.goto(web_server.url + "/")
    expect(sync_line(page)).to_contain_text("3 pending")

    # A mood made an hour earlier by the phone's clock (say, an entry it had back-dated),
    # then sent when that clock says later still: its own time must count, not the send
    # time, so it must not replace the newer "offline-mood".
    made_at = time.time()
    page.clock.set_fixed_time(datetime.fromtimestamp(made_at - 3600, UTC))
    save_mood(page, "older-queued-mood")
    expect(sync_line(page)).to_contain_text("4 pending")
    expect(page.get_by_test_id("current-mood")).to_contain_text("offline-mood")
    page.clock.set_fixed_time(datetime.fromtimestamp(made_at + 600, UTC))

    web_server.start(same_port=True)
    wait_all_sent(page, timeout_s=60)  # no click, no reload
    expect(sync_line(page)).not_to_contain_text("pending")
    with web_server.client() as c:
        for text in ("offline thought one", "offline thought two"):
            assert len(thoughts_with_text(c, text)) == 1, text
        mood = c.get("/v1/mood").json()
        assert (mood["mood"], mood["context"]) == ("offline-mood", "on the train")
        assert mood["updated_at"] < made_at  # the time it was made, not sent
    expect(page.get_by_test_id("current-mood")).to_contain_text("offline-mood")
    listed = page.get_by_test_id("thought-list").locator("li")
    expect(listed.filter(has_text="offline thought")).to_have_count(2)
    expect(listed.filter(has_text="pending")).to_have_count(0)
