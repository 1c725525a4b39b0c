"""The web app's routes over plain HTTP: public, safe headers, cache rules, the manifest,
and the pairing link from `hearth token create --qr`."""

from __future__ import annotations

import io
import json
import re
import struct
from pathlib import Path

import pytest
import segno
from fastapi.testclient import TestClient

import app as hearth
from app.api.routes.web import bundle
from app.main import create_app
from app.web import WEB_DIR
from tests.conftest import make_settings
from tests.utils.server import run_cli

PAGES = ["/", "/sw.js", "/manifest.webmanifest"]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    """The real app, without a token (nothing here may need one) and without its lifespan:
    these routes use no store, and a missing token is refused before any store is asked."""
    return TestClient(create_app(make_settings(tmp_path_factory.mktemp("web") / "data")))


def _static_urls(client: TestClient) -> list[str]:
    html = client.get("/").text
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


def test_app_and_static_files_need_no_token(client: TestClient) -> None:
    urls = [*PAGES, *_static_urls(client)]
    assert len(urls) >= 8
    for url in urls:
        r = client.get(url)
        assert r.status_code == 200, url
        assert "private" not in r.headers.get("cache-control", "")
    assert client.get("/v1/state").status_code == 401  # the data still needs the token


def test_html_carries_a_strict_policy(client: TestClient) -> None:
    r = client.get("/")
    assert r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"  # no inline script, no other origin
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "http" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert "<script>" not in r.text and " on" not in r.text.replace("\n", " ").lower()


def test_cache_rules(client: TestClient) -> None:
    for url in PAGES:
        r = client.get(url)
        assert r.headers["cache-control"] == "no-cache", url
        again = client.get(url, headers={"If-None-Match": r.headers["etag"]})
        assert again.status_code == 304
    build = bundle().build
    assert build.startswith(f"{hearth.__version__}-")  # the worker's cache is named by it
    worker = client.get("/sw.js").text
    assert f"const BUILD = '{build}'" in worker and "`hearth-shell-${BUILD}`" in worker
    for url in _static_urls(client):
        assert f"/static/{build}/" in url
        r = client.get(url)
        cache_control = r.headers["cache-control"]
        assert "immutable" in cache_control and "max-age=31536000" in cache_control
        assert r.headers["x-content-type-options"] == "nosniff"
    # an old build's URL never gets today's bytes (they would be cached for a year)
    assert client.get("/static/0.0.0-old/app.css").status_code == 404
    assert client.get(f"/static/{build}/../__init__.py").status_code == 404
    assert client.get(f"/static/{build}/__init__.py").status_code == 404


def test_text_is_sent_compressed_when_asked(client: TestClient) -> None:
    url = next(u for u in _static_urls(client) if u.endswith("main.js"))
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    packed = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.text == plain.text


def _png_size(body: bytes) -> tuple[int, int]:
    assert body[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", body[16:24])
    return width, height


def test_manifest_makes_the_app_installable(client: TestClient) -> None:
    r = client.get("/manifest.webmanifest")
    assert r.headers["content-type"].startswith("application/manifest+json")
    manifest = json.loads(r.text)
    assert manifest["name"] == "Hearth"
    assert manifest["display"] == "standalone"
    assert manifest["start_url"].startswith("/")
    sizes = {}
    for icon in manifest["icons"]:
        got = client.get(icon["src"])
        assert got.headers["content-type"] == "image/png"
        sizes[icon["sizes"]] = _png_size(got.content)
    assert sizes == {"192x192": (192, 192), "512x512": (512, 512)}


def test_no_script_writes_html() -> None:
    """Data goes in as text: no HTML sink anywhere in the app's code."""
    sinks = re.compile(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(")
    scripts = sorted(WEB_DIR.rglob("*.js"))
    assert len(scripts) >= 8
    for path in scripts:
        assert not sinks.search(path.read_text()), path


def test_token_create_qr_prints_the_sign_in_link(tmp_path: Path) -> None:
    done = run_cli(
        "token",
        "create",
        "phone",
        "--qr",
        data_dir=tmp_path / "data",
        HEARTH_PUBLIC_URL="https://hearth.example.com",
    )
    assert done.returncode == 0, done.stderr
    token = done.stdout.splitlines()[1].strip()
    link = f"https://hearth.example.com/#token={token}"
    assert link in done.stdout.splitlines()
    qr = io.StringIO()
    segno.make(link, error="m").terminal(out=qr, compact=True)
    assert qr.getvalue() in done.stdout


def test_sign_in_link_defaults_to_host_and_port(tmp_path: Path) -> None:
    done = run_cli(
        "token",
        "create",
        "tablet",
        "--qr",
        data_dir=tmp_path / "data",
        HEARTH_HOST="127.0.0.1",
        HEARTH_PORT="8123",
    )
    assert done.returncode == 0, done.stderr
    token = done.stdout.splitlines()[1].strip()
    assert f"http://127.0.0.1:8123/#token={token}" in done.stdout
    plain = run_cli("token", "create", "laptop", data_dir=tmp_path / "data")
    assert "#token=" not in plain.stdout
