"""The web app in a real browser against a real Hearth process: sign-in, Today, Timeline,
Search, Status, safety and the phone layout."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

import app as hearth
from tests.utils.server import ServerProcess
from tests.web.conftest import PHONE
from tests.web.helpers import (
    add_thought,
    save_mood,
    sign_in_by_link,
    sync_line,
    thoughts_with_text,
    wait_all_sent,
)

pytestmark = pytest.mark.slow
STORED_TOKEN = "localStorage.getItem('hearth.token')"


def test_sign_in_by_link_keeps_the_token_and_clears_the_address_bar(
    page: Page, web_server: ServerProcess
) -> None:
    sign_in_by_link(page, web_server)
    assert web_server.token not in page.url
    assert "token" not in page.evaluate("location.href")
    assert page.evaluate(STORED_TOKEN) == web_server.token
    page.reload()
    expect(page.get_by_test_id("current-mood")).to_be_visible()
    expect(page.get_by_label("Token")).to_have_count(0)


def test_sign_in_by_field(page: Page, web_server: ServerProcess) -> None:
    page.goto(web_server.url + "/")
    expect(page.get_by_role("link", name="Today")).to_be_hidden()
    page.get_by_label("Token").fill(web_server.token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("current-mood")).to_be_visible()
    assert page.evaluate(STORED_TOKEN) == web_server.token


def test_a_wrong_token_shows_an_error_and_is_not_kept(
    page: Page, web_server: ServerProcess
) -> None:
    page.goto(web_server.url + "/")
    page.get_by_label("Token").fill("not-the-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not accepted")
    assert page.evaluate(STORED_TOKEN) is None

    page.goto(web_server.url + "/#token=also-wrong")
    expect(page.get_by_role("alert")).to_contain_text("not accepted")
    assert "also-wrong" not in page.url
    assert page.evaluate(STORED_TOKEN) is None
    page.reload()
    expect(page.get_by_label("Token")).to_be_visible()


def test_save_mood_and_add_thoughts(page: Page, web_server: ServerProcess) -> None:
    sign_in_by_link(page, web_server)
    save_mood(page, "content", "in the garden")
    current = page.get_by_test_id("current-mood")
    expect(current).to_contain_text("content")
    expect(current).to_contain_text("in the garden")
    add_thought(page, "first of two")
    add_thought(page, "second of two")
    items = page.get_by_test_id("thought-list").locator("li")
    expect(items.first).to_contain_text("second of two")
    expect(items.nth(1)).to_contain_text("first of two")
    wait_all_sent(page)
    with web_server.client() as c:
        mood = c.get("/v1/mood").json()
        assert (mood["mood"], mood["context"]) == ("content", "in the garden")
        assert len(thoughts_with_text(c, "first of two")) == 1
        assert len(thoughts_with_text(c, "second of two")) == 1
    page.reload()  # what the server holds, newest first
    expect(items.first).to_contain_text("second of two")


def test_markup_in_data_is_shown_as_text(
    page: Page, dialogs: list[str], web_server: ServerProcess
) -> None:
    attack = "<img src=x onerror=alert(1)>"
    sign_in_by_link(page, web_server)
    add_thought(page, attack)
    save_mood(page, "wary", "<b>bold</b><script>alert(2)</script>")
    wait_all_sent(page)
    page.reload()
    expect(page.get_by_test_id("thought-list").locator("li").first).to_contain_text(attack)
    expect(page.get_by_test_id("current-mood")).to_contain_text("<b>bold</b>")
    page.get_by_role("link", name="Timeline").click()
    expect(page.locator(".days")).to_contain_text(attack)
    for view in ("Today", "Timeline"):
        page.get_by_role("link", name=view).click()
        assert page.locator("main img, main b, main script").count() == 0
    assert dialogs == []


def test_timeline_charts_the_moods_and_lists_the_days(
    page: Page, web_server: ServerProcess
) -> None:
    sign_in_by_link(page, web_server)
    save_mood(page, "calm")
    add_thought(page, "a quiet evening")
    wait_all_sent(page)
    page.get_by_role("link", name="Timeline").click()
    chart = page.get_by_test_id("mood-chart")
    expect(chart).to_be_visible()
    assert chart.evaluate("el => el.tagName") == "svg"
    expect(chart.locator("circle").first).to_be_attached()
    expect(page.locator(".days")).to_contain_text("a quiet evening")
    expect(page.locator(".days")).to_contain_text("calm")
    with web_server.client() as c:
        has_insights = c.get("/v1/insights/mood").status_code == 200
    insights = page.get_by_role("heading", name="Insights")
    if has_insights:
        expect(insights).to_be_visible()
    else:
        expect(insights).to_be_hidden()


def test_search_with_type_and_time_filters(page: Page, web_server: ServerProcess) -> None:
    sign_in_by_link(page, web_server)
    add_thought(page, "walked the dog along the river")
    save_mood(page, "happy", "dog walk")
    wait_all_sent(page)
    page.get_by_role("link", name="Search").click()
    page.get_by_role("searchbox", name="Search").fill("dog by the river")
    results = page.get_by_test_id("search-results").locator("li")
    button = page.get_by_role("button", name="Search", exact=True)
    for _ in range(20):  # search sees a write once it is embedded (background, < 1 s)
        button.click()
        expect(button).to_be_enabled()
        if results.filter(has_text="walked the dog").count():
            break
        page.wait_for_timeout(300)
    hit = results.filter(has_text="walked the dog").first
    expect(hit).to_contain_text("thought")
    expect(hit).to_contain_text(re.compile(r"score 0\.\d\d|score 1\.00"))
    expect(hit.locator("time")).to_have_count(1)

    page.get_by_label("Type").select_option("mood")
    button.click()
    expect(results.first).to_contain_text("mood")
    expect(results.filter(has_text="thought")).to_have_count(0)

    page.get_by_label("Type").select_option("")
    page.get_by_label("From").fill("2099-01-01")
    button.click()
    expect(page.get_by_text("No results.")).to_be_visible()
    expect(results).to_have_count(0)


def test_status_runs_jobs_and_backups(page: Page, web_server: ServerProcess) -> None:
    sign_in_by_link(page, web_server)
    page.get_by_role("link", name="Status").click()
    expect(page.locator("main")).to_contain_text(hearth.__version__)
    expect(page.locator("main")).to_contain_text("No warnings.")
    runs = page.get_by_role("button", name="Run now")
    expect(runs).to_have_count(4)  # scrape_blog, retention_cleanup, backup, places_summary
    page.locator("li", has_text="retention_cleanup").get_by_role("button", name="Run now").click()
    expect(page.get_by_text("Started retention_cleanup.")).to_be_visible()
    page.get_by_role("button", name="Back up now").click()
    expect(page.get_by_text("Backup written and verified.")).to_be_visible(timeout=90_000)
    expect(page.locator("li", has_text="hearth-")).to_have_count(1)
    expect(page.locator("main")).to_contain_text("verified")


def test_every_view_fits_a_phone_with_big_targets(page: Page, web_server: ServerProcess) -> None:
    sign_in_by_link(page, web_server)
    add_thought(page, "a-very-long-unbroken-word-" * 12)
    wait_all_sent(page)
    small_targets = """() => [...document.querySelectorAll('button, a, input, select, textarea')]
        .filter(el => el.offsetParent !== null)
        .map(el => [el.textContent || el.name, el.getBoundingClientRect()])
        .filter(([, r]) => r.height < 44 || r.width < 44)
        .map(([name]) => name)"""
    for view in ("Today", "Timeline", "Search", "Status"):
        page.get_by_role("link", name=view).click()
        expect(page.get_by_role("link", name=view)).to_have_attribute("aria-current", "page")
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= PHONE["width"], (view, width)
        assert page.evaluate(small_targets) == [], view
    expect(sync_line(page)).to_be_attached()
