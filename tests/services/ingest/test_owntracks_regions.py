"""OwnTracks waypoints become regions: the booklet's own examples, and what is left out."""

from __future__ import annotations

import json

from app.services.ingest import owntracks
from app.storage.locations import Region, region_from_record
from tests.utils.apps import OT_WAYPOINT, OT_WAYPOINTS

CAFE = "My favorite coffee shop (Delaville)"


def parse(body: str) -> owntracks.Message:
    return owntracks.parse(body.encode(), header_device="nokia", fallback_device="token")


def test_a_waypoint_with_string_numbers_is_one_region_keyed_by_rid() -> None:
    message = parse(OT_WAYPOINT)
    assert message.kind == "waypoint" and not message.fixes and not message.events
    assert message.regions == [Region("nokia", "f7676c", CAFE, 48.87069, 2.34916, 50, 1385997757.0)]


def test_a_waypoint_list_keys_by_tst_and_a_zero_radius_is_none() -> None:
    [region] = parse(OT_WAYPOINTS).regions
    assert (region.key, region.rad, region.lat, region.lon) == ("tst:1432817332", None, 52.0, 6.0)
    assert region.name.startswith("Main@WestWing:")


def test_unusable_entries_are_left_out_and_the_last_definition_wins() -> None:
    entries = [
        {"_type": "waypoint", "desc": "Home", "lat": 48.1, "lon": 2.1, "tst": 10, "rad": 60},
        {"_type": "waypoint", "desc": "Beacon only", "uuid": "DEADBEEF", "tst": 11},
        {"_type": "waypoint", "desc": "", "lat": 1, "lon": 1, "tst": 12},
        {"_type": "waypoint", "desc": "Nowhere", "lat": 91, "lon": 1, "tst": 13},
        "not an object",
        {"_type": "waypoint", "desc": "Home (moved)", "lat": 48.2, "lon": 2.2, "tst": 10},
    ]
    message = parse(json.dumps({"_type": "waypoints", "waypoints": entries}))
    assert [(r.key, r.name, r.rad) for r in message.regions] == [("tst:10", "Home (moved)", None)]
    assert parse('{"_type": "waypoints", "waypoints": {"no": "list"}}').regions == []
    assert parse('{"_type": "waypoint", "desc": "x"}').regions == []


def test_a_region_without_rid_or_tst_is_keyed_by_its_name_and_exports_cleanly() -> None:
    body = {"_type": "waypoint", "desc": "N" * 64, "lat": 1, "lon": 2}
    [region] = parse(json.dumps(body)).regions
    assert region.key == ("desc:" + "N" * 64)[:64]
    assert region_from_record(region.to_record()) == region
