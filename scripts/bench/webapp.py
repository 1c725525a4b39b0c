"""Web app first load, measured in Debian's Chromium against a real `hearth serve`.

1. Bytes transferred on a first visit (headers + bodies as sent, icons left out), for the
   page's own requests and with the service worker's install copy of the shell; goal
   < 150 KB.
2. Time to a usable Today view (signed in by link, current mood shown, "Save mood" ready)
   on loopback, median of --runs fresh profiles, and again on a repeat visit (service
   worker warm), against a baseline from the same server in the same run: the same page
   loaded as bare static HTML (JavaScript off: the HTML and its stylesheet only).

Run: .venv/bin/python scripts/bench/webapp.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import Browser, BrowserContext, Request, sync_playwright

sys.path[0] = str(Path(__file__).resolve().parents[2])  # the repo root, not scripts/bench
from tests.utils.server import ServerProcess  # noqa: E402

TOKEN = "bench-token-0123456789abcdef"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
USABLE = """() => {
  const mood = document.querySelector('[data-testid="current-mood"] strong');
  const button = [...document.querySelectorAll('button')].find(b => b.textContent === 'Save mood');
  return mood && mood.textContent !== '…' && button && !button.disabled;
}"""
PHONE = {"width": 390, "height": 844}


def first_visit_bytes(browser: Browser, url: str) -> tuple[dict[str, int], dict[str, int]]:
    """Bytes per URL path: the page's own requests, and the service worker's."""
    page_bytes: dict[str, int] = {}
    worker_bytes: dict[str, int] = {}
    context = browser.new_context(viewport=PHONE)

    def record(request: Request) -> None:
        sizes = request.sizes()
        size = sizes["responseBodySize"] + sizes["responseHeadersSize"]
        size += sizes["requestHeadersSize"] + max(sizes["requestBodySize"], 0)
        path = request.url.removeprefix(url)
        target = worker_bytes if request.service_worker else page_bytes
        target[path] = target.get(path, 0) + size

    context.on("requestfinished", record)
    page = context.new_page()
    page.goto(f"{url}/#token={TOKEN}")
    page.wait_for_function(USABLE)
    page.wait_for_function("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)
    context.close()
    return page_bytes, worker_bytes


def browser_fetch_bytes(url: str) -> int:
    """Header and (gzip-encoded) body bytes of one GET, as a browser would receive them."""
    with httpx.Client(headers={"Accept-Encoding": "gzip"}) as client:
        with client.stream("GET", url) as response:
            body = sum(len(chunk) for chunk in response.iter_raw())
            head = sum(len(k) + len(v) + 4 for k, v in response.headers.raw) + 17
    return body + head


def time_usable(context: BrowserContext, url: str) -> float:
    """From navigation to a Today view one can type into; then let the worker settle."""
    page = context.new_page()
    started = time.perf_counter()
    page.goto(f"{url}/#token={TOKEN}")
    page.wait_for_function(USABLE, polling=5)
    elapsed = time.perf_counter() - started
    page.wait_for_function("navigator.serviceWorker.ready.then(() => true)")
    page.close()
    return elapsed


def time_bare(browser: Browser, url: str) -> float:
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    started = time.perf_counter()
    page.goto(url + "/", wait_until="load")
    elapsed = time.perf_counter() - started
    context.close()
    return elapsed


def kb(n: int) -> str:
    return f"{n / 1000:.1f} KB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(Path(tmp) / "data", token=TOKEN, HEARTH_ACCESS_LOG="false")
        url = server.start().url
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                time_bare(browser, url)  # warm the server's caches and the browser
                own, worker = first_visit_bytes(browser, url)
                no_icons = {k: v for k, v in own.items() if not k.endswith(".png")}
                worker_no_icons = {k: v for k, v in worker.items() if not k.endswith(".png")}
                print("first visit, the page's own requests (icons left out):")
                for path, size in sorted(no_icons.items(), key=lambda kv: -kv[1]):
                    print(f"  {kb(size):>9}  {path}")
                # The browser fetches these itself (not as the page): measured over HTTP.
                for path in ("/sw.js", "/manifest.webmanifest"):
                    if path not in no_icons:
                        no_icons[path] = browser_fetch_bytes(url + path)
                        print(f"  {kb(no_icons[path]):>9}  {path} (fetched by the browser)")
                total = sum(no_icons.values())
                with_worker = total + sum(worker_no_icons.values())
                print(f"  {kb(total):>9}  total; {kb(with_worker)} with the service worker's copy")
                print(f"  goal < 150 KB: {'met' if with_worker < 150_000 else 'MISSED'}")

                cold, warm, bare = [], [], []
                for _ in range(args.runs):
                    bare.append(time_bare(browser, url))
                    context = browser.new_context(viewport=PHONE)
                    cold.append(time_usable(context, url))
                    warm.append(time_usable(context, url))
                    context.close()
                b = statistics.median(bare)
                c = statistics.median(cold)
                w = statistics.median(warm)
                print(f"\nbare static HTML (JS off), median of {args.runs}: {b * 1000:.0f} ms")
                print(f"usable Today, first visit: {c * 1000:.0f} ms ({c / b:.1f}x the bare page)")
                print(f"usable Today, repeat visit: {w * 1000:.0f} ms ({w / b:.1f}x the bare page)")
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
