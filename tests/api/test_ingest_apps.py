"""OwnTracks, Overland and token scopes against a real server process (API.md sections
"Token scopes" and "Apps people already use")."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN
from tests.utils.apps import (
    OT_LOCATION,
    OT_LOCATION_TOPIC,
    OT_OTHERS,
    OT_TRANSITION,
    overland_feature,
)
from tests.utils.server import ServerProcess, run_cli

pytestmark = pytest.mark.slow
LEGACY = "legacy-token-made-before-scopes-0123"


def new_token(data_dir: Path, name: str, *args: str) -> str:
    done = run_cli("token", "create", name, *args, data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("apps") / "data"
    (data / "state").mkdir(parents=True)
    legacy = {"hash": hashlib.sha256(LEGACY.encode()).hexdigest(), "created_at": 1.0}
    (data / "state" / "tokens.json").write_text(
        json.dumps({"schema": 1, "tokens": {"legacy": legacy}})
    )
    proc = ServerProcess(data, token=ADMIN_TOKEN, HEARTH_LOG_LEVEL="INFO")
    proc.tokens = {  # type: ignore[attr-defined]
        "write": new_token(data, "phone", "--scope", "write"),
        "read": new_token(data, "dashboard", "--scope", "read"),
    }
    try:
        proc.start()
        yield proc
    finally:
        proc.stop()


def tok(srv: ServerProcess, scope: str) -> str:
    return srv.tokens[scope]  # type: ignore[attr-defined,no-any-return]


def owntracks(srv: ServerProcess, body: str | bytes, **headers: str) -> httpx.Response:
    auth = ("jane", tok(srv, "write"))
    return httpx.post(
        srv.url + "/v1/ingest/owntracks",
        content=body,
        auth=auth,
        headers={"Content-Type": "application/json", **headers},
        timeout=30,
    )


def fixes(srv: ServerProcess, **params: str) -> list[dict]:
    with srv.client() as client:
        got = client.get("/v1/locations", params={"format": "json", **params})
    assert got.status_code == 200, got.text
    return got.json()["items"]  # type: ignore[no-any-return]


# -- OwnTracks -----------------------------------------------------------------------


def test_owntracks_location_is_a_fix_answered_with_an_empty_array(srv: ServerProcess) -> None:
    got = owntracks(srv, OT_LOCATION, **{"X-Limit-U": "jane", "X-Limit-D": "nokia"})
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/json"
    assert got.content == b"[]"
    [fix] = fixes(srv, device="nokia")
    assert fix["timestamp"] == 1706856298
    assert (fix["lat"], fix["lon"]) == (48.856826, 2.292713)
    assert {k: fix[k] for k in ("alt", "batt", "vel", "tid")} == {
        "alt": 154, "batt": 53, "vel": 0, "tid": "j1",
    }  # fmt: skip
    assert "acc" not in fix
    assert owntracks(srv, OT_LOCATION, **{"X-Limit-D": "nokia"}).content == b"[]"
    assert len(fixes(srv, device="nokia")) == 1, "same device + tst is stored once"
    with srv.client() as client:
        event = client.get(f"/v1/events/{fix['id']}").json()
    assert event["type"] == "location" and event["metadata"]["device"] == "nokia"


def test_device_comes_from_the_topic_then_the_token_name(srv: ServerProcess) -> None:
    assert owntracks(srv, OT_LOCATION_TOPIC).status_code == 200
    assert [f["tid"] for f in fixes(srv, device="phone", since="1497476456")] == ["JJ"]
    body = OT_LOCATION.replace("1706856298", "1706856400")
    assert owntracks(srv, body).status_code == 200
    # No X-Limit-D and no topic: the token's name ("phone", too) names the device.
    assert 1706856400 in [f["timestamp"] for f in fixes(srv, device="phone")]


def test_transition_is_a_place_event(srv: ServerProcess) -> None:
    for _ in range(2):
        got = owntracks(srv, OT_TRANSITION, **{"X-Limit-D": "nokia"})
        assert (got.status_code, got.content) == (200, b"[]")
    with srv.client() as client:
        items = client.get("/v1/events", params={"type": "place"}).json()["items"]
    [place] = items
    assert place["text"] == "enter My favorite coffee shop (Delaville)"
    assert place["timestamp"] == 1707057574
    meta = place["metadata"]
    assert (meta["lat"], meta["lon"], meta["device"]) == (48.87069, 2.34916, "nokia")


def test_waypoints_are_regions_listed_and_deleted_by_full_tokens_only(srv: ServerProcess) -> None:
    for _ in range(2):  # a resend replaces, never duplicates
        assert owntracks(srv, OT_OTHERS["waypoint"], **{"X-Limit-D": "pixel"}).content == b"[]"
    read = {"Authorization": f"Bearer {tok(srv, 'read')}"}
    got = httpx.get(srv.url + "/v1/regions", headers=read)
    mine = [r for r in got.json()["items"] if r["device"] == "pixel"]
    assert mine == [
        {
            "device": "pixel",
            "key": "tst:1385997757",
            "name": "My favorite coffee shop (Delaville)",
            "lat": 48.87069,
            "lon": 2.34916,
            "rad": 50,
            "defined_at": 1385997757,
        }
    ]
    params = {"device": "pixel", "key": "tst:1385997757"}
    refused = httpx.delete(srv.url + "/v1/regions", params=params, headers=read)
    assert refused.status_code == 403
    with srv.client() as client:
        assert client.delete("/v1/regions", params={"device": "pixel"}).status_code == 422
        assert client.delete("/v1/regions", params=params).status_code == 204
        assert client.delete("/v1/regions", params=params).status_code == 404
        left = client.get("/v1/regions").json()["items"]
    assert not [r for r in left if r["device"] == "pixel"]


@pytest.mark.parametrize("kind", sorted(OT_OTHERS))
def test_every_other_type_is_acknowledged_and_not_a_fix(srv: ServerProcess, kind: str) -> None:
    before = len(fixes(srv, limit="10000"))
    got = owntracks(srv, OT_OTHERS[kind], **{"X-Limit-D": "nokia"})
    assert (got.status_code, got.content) == (200, b"[]")
    assert got.headers["content-type"] == "application/json"
    assert len(fixes(srv, limit="10000")) == before


def test_empty_body_is_acknowledged_and_garbage_is_422(srv: ServerProcess) -> None:
    # The booklet: a removed friend is POSTed as a zero-length payload; ignore it.
    assert owntracks(srv, b"").content == b"[]"
    for body in ("not json", "[1, 2]", '{"lat": 1}', '{"_type": 5}', '"location"'):
        assert owntracks(srv, body).status_code == 422, body
    bad = OT_LOCATION.replace('"lat":48.856826', '"lat":"north"')
    got = owntracks(srv, bad)
    assert got.status_code == 422 and "lat" in str(got.json()["detail"])


def test_wrong_password_is_401(srv: ServerProcess) -> None:
    got = httpx.post(srv.url + "/v1/ingest/owntracks", content=OT_LOCATION, auth=("jane", "nope"))
    assert got.status_code == 401
    assert httpx.post(srv.url + "/v1/ingest/owntracks", content=OT_LOCATION).status_code == 401


# -- Overland ------------------------------------------------------------------------


def overland(srv: ServerProcess, body: object, token: str | None = None) -> httpx.Response:
    return httpx.post(
        srv.url + "/v1/ingest/overland",
        params={"token": token or tok(srv, "write")},
        json=body,
        timeout=30,
    )


def test_overland_batch_counts_saved_and_skipped(srv: ServerProcess) -> None:
    batch = {
        "locations": [
            overland_feature(device_id="iphone"),
            overland_feature(device_id="iphone", timestamp="2015-10-01T08:00:10Z", speed=-1),
            overland_feature(device_id="iphone", timestamp=None),
            overland_feature(device_id="iphone", timestamp="yesterday"),
            overland_feature(device_id="iphone", coordinates=[]),
            overland_feature(device_id="iphone", coordinates=[200, 10]),
            {"type": "Feature", "properties": {"action": "app_paused"}},
            "not a feature",
        ],
        "current": overland_feature(device_id="iphone"),
        "trip": {"distance": 0, "mode": "bicycle", "start": "2015-10-01T07:00:00-0700"},
    }
    got = overland(srv, batch)
    assert got.status_code == 200, got.text
    assert got.json() == {"result": "ok", "saved": 2, "skipped": 6}
    assert overland(srv, batch).json() == {"result": "ok", "saved": 0, "skipped": 6}
    second, first = fixes(srv, device="iphone")  # oldest first: 08:00:10Z < 08:00-07:00
    assert first["timestamp"] == 1443711600 and second["timestamp"] == 1443686410
    assert (first["lat"], first["lon"], first["acc"], first["batt"]) == (
        37.3318,
        -122.030581,
        30,
        80,
    )
    assert first["vel"] == 14 and "vel" not in second


def test_overland_device_defaults_to_the_token_name_and_bearer_works(srv: ServerProcess) -> None:
    got = httpx.post(
        srv.url + "/v1/ingest/overland",
        json={"locations": [overland_feature()]},
        headers={"Authorization": f"Bearer {tok(srv, 'write')}"},
    )
    assert got.json()["saved"] == 1
    assert any(f["timestamp"] == 1443711600 for f in fixes(srv, device="phone"))


@pytest.mark.parametrize(
    "body",
    [
        {"locations": [overland_feature()] * 1001},
        {"locations": []},
        {"locations": {"type": "Feature"}},
        {"type": "FeatureCollection", "features": [overland_feature()]},
        [overland_feature()],
    ],
    ids=["1001", "empty", "not-a-list", "featurecollection", "array"],
)
def test_overland_not_its_shape_is_422(srv: ServerProcess, body: object) -> None:
    got = overland(srv, body)
    assert got.status_code == 422
    assert got.json()["detail"][0]["msg"]  # the documented list of {loc, msg, type}


# -- scopes and where each credential is accepted -------------------------------------


def test_scopes(srv: ServerProcess) -> None:
    def call(token: str, method: str, path: str, **kw: object) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.request(method, srv.url + path, headers=headers, timeout=30, **kw)  # type: ignore[arg-type]

    read, write = tok(srv, "read"), tok(srv, "write")
    assert call(read, "GET", "/v1/state").status_code == 200
    assert call(read, "GET", "/metrics").status_code == 200
    denied = call(read, "PUT", "/v1/mood", json={"mood": "calm"})
    assert denied.status_code == 403 and "'write'" in denied.json()["detail"]
    assert call(read, "POST", "/v1/ingest/overland", json={"locations": []}).status_code == 403
    assert call(write, "PUT", "/v1/mood", json={"mood": "calm"}).status_code == 200
    assert call(write, "POST", "/v1/search", json={"q": "coffee"}).status_code == 200
    for method, path in (("GET", "/v1/export"), ("POST", "/v1/backups"), ("GET", "/v1/jobs")):
        if path == "/v1/jobs":
            assert call(write, method, path).status_code == 200
            continue
        denied = call(write, method, path)
        assert denied.status_code == 403 and "'full'" in denied.json()["detail"], path
    denied = call(write, "DELETE", "/v1/events/nothing")
    assert denied.status_code == 403 and "'full'" in denied.json()["detail"]
    assert call(LEGACY, "DELETE", "/v1/events/nothing").status_code == 404
    assert call(ADMIN_TOKEN, "DELETE", "/v1/events/nothing").status_code == 404
    listed = run_cli("token", "list", data_dir=srv.data_dir)
    scopes = {line.split()[0]: line.split()[1] for line in listed.stdout.splitlines()}
    assert scopes == {"dashboard": "read", "legacy": "full", "phone": "write"}


def test_basic_and_query_tokens_only_on_app_routes(srv: ServerProcess) -> None:
    write = tok(srv, "write")
    assert httpx.get(srv.url + "/v1/state", auth=("x", write)).status_code == 401
    assert httpx.get(srv.url + "/v1/state", params={"token": write}).status_code == 401
    got = httpx.get(srv.url + "/v1/state", params={"token": write})
    assert got.headers["www-authenticate"] == "Bearer"
    body = {"locations": [overland_feature(device_id="basic")]}
    got = httpx.post(srv.url + "/v1/ingest/overland", json=body, auth=("anyone", write))
    assert got.json()["saved"] == 1


def test_query_token_never_reaches_the_log(srv: ServerProcess) -> None:
    write = tok(srv, "write")
    overland(srv, {"locations": [overland_feature(device_id="logged")]}, token=write)
    overland(srv, {"nothing": 1}, token=write)
    httpx.get(srv.url + "/v1/state", params={"token": write})
    time.sleep(0.5)
    log = srv.log.read_text()
    assert '"POST /v1/ingest/overland" 200' in log
    assert write not in log


# -- tokens on a running server ---------------------------------------------------------


def within(seconds: float, check: object) -> float:
    started = time.monotonic()
    while True:
        if check():  # type: ignore[operator]
            return time.monotonic() - started
        if time.monotonic() - started > seconds:
            raise AssertionError(f"not within {seconds} s")
        time.sleep(0.05)


def test_cli_create_and_revoke_take_effect_within_2_s(srv: ServerProcess) -> None:
    token = new_token(srv.data_dir, "late", "--scope", "write")
    body = {"locations": [overland_feature(device_id="late")]}
    within(2.0, lambda: overland(srv, body, token).status_code == 200)
    assert run_cli("token", "revoke", "late", data_dir=srv.data_dir).returncode == 0
    within(2.0, lambda: overland(srv, body, token).status_code == 401)


def test_damaged_token_file_locks_no_device_out(srv: ServerProcess) -> None:
    path = srv.data_dir / "state" / "tokens.json"
    path.write_text('{"schema": 2, "tokens": {"phone": ')
    time.sleep(1.2)
    body = {"locations": [overland_feature(device_id="after-damage")]}
    assert overland(srv, body).status_code == 200
    assert list(path.parent.glob("tokens.json.corrupt-*"))
    assert "phone" in json.loads(path.read_text())["tokens"]
    with srv.client() as client:
        warnings = client.get("/v1/status").json()["warnings"]
    assert any("tokens.json" in w for w in warnings)
    listed = run_cli("token", "list", data_dir=srv.data_dir)
    assert listed.returncode == 0 and "phone" in listed.stdout


# -- reading fixes -------------------------------------------------------------------


def test_location_events_page_like_events_and_map_as_geojson(srv: ServerProcess) -> None:
    batch = [
        overland_feature(device_id="pager", timestamp=f"2024-03-01T10:00:{s:02d}Z")
        for s in range(7)
    ]
    assert overland(srv, {"locations": batch}).json()["saved"] == 7
    since, until = "2024-03-01T00:00:00Z", "2024-03-02T00:00:00Z"
    seen, cursor = [], None
    with srv.client() as client:
        while True:
            params = {"type": "location", "since": since, "until": until, "limit": 3}
            got = client.get(
                "/v1/events", params={**params, **({"cursor": cursor} if cursor else {})}
            )
            assert got.status_code == 200
            seen += got.json()["items"]
            cursor = got.json()["next_cursor"]
            if cursor is None:
                break
        geo = client.get("/v1/locations", params={"since": since, "until": until, "limit": 5})
        bad = client.get("/v1/events", params={"type": "location", "cursor": "garbage"})
        gone = client.delete("/v1/events/loc:pager:1709287200000")
        missing = client.get("/v1/events/loc:pager:1709287200000")
    assert [e["timestamp"] for e in seen] == [1709287200 + s for s in range(6, -1, -1)]
    assert set(seen[0]) >= {"id", "type", "text", "timestamp", "metadata"}
    assert seen[0]["id"] == "loc:pager:1709287206000"
    doc = geo.json()
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 5
    assert doc["features"][0]["geometry"] == {
        "type": "Point",
        "coordinates": [-122.030581, 37.3318],
    }
    assert doc["features"][0]["properties"]["timestamp"] == 1709287200
    assert doc["next_cursor"]
    assert bad.status_code == 422
    assert (gone.status_code, missing.status_code) == (204, 404)
