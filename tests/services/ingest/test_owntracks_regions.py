"""OwnTracks waypoints become regions: the booklet's own examples, and what is left out."""

from __future__ import annotations

import hashlib
import json

from app.services.ingest import owntracks
from app.storage.locations import Region, region_from_record
from tests.utils.apps import OT_TRANSITION, OT_WAYPOINT, OT_WAYPOINTS

CAFE = "My favorite coffee shop (Delaville)"


def parse(body: str) -> owntracks.Message:
    return owntracks.parse(body.encode(), header_device="nokia", fallback_device="token")


def test_a_waypoint_with_string_numbers_is_one_region_keyed_by_its_tst() -> None:
    message = parse(OT_WAYPOINT)
    assert message.kind == "waypoint" and not message.fixes and not message.events
    assert message.regions == [
        Region("nokia", "tst:1385997757", CAFE, 48.87069, 2.34916, 50, 1385997757.0)
    ]


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


def test_without_a_tst_the_rid_then_the_name_is_the_key_and_it_exports_cleanly() -> None:
    with_rid = {"_type": "waypoint", "desc": "Gym", "lat": 1, "lon": 2, "rid": "f7676c"}
    assert [r.key for r in parse(json.dumps(with_rid)).regions] == ["f7676c"]
    body = {"_type": "waypoint", "desc": "N" * 300, "lat": 1, "lon": 2}
    [region] = parse(json.dumps(body)).regions
    assert region.key == ("desc:" + "N" * 64)[:64] and region.name == "N" * 200
    assert region_from_record(region.to_record()) == region


def test_names_are_cleaned_as_transitions_are_and_surrogates_never_reach_storage() -> None:
    # JSON may carry a lone surrogate (not encodable as UTF-8) and keyboards add spaces.
    waypoint = '{"_type":"waypoint","desc":" Home\\ud800 ","lat":1,"lon":2,"rid":"r\\udc00"}'
    [region] = parse(waypoint).regions
    assert region.name == "Home"
    transition = '{"_type":"transition","desc":" Home\\ud800 ","event":"enter\\ud800","tst":5}'
    [event] = parse(transition).events
    assert (event.text, event.metadata["place"], event.metadata["event"]) == (
        "enter Home",
        "Home",
        "enter",
    )
    location = '{"_type":"location","lat":1,"lon":2,"tst":5,"tid":"\\udfffJJ"}'
    assert parse(location).fixes[0].tid == "JJ"


def test_a_transition_keeps_the_id_it_always_had() -> None:
    """Cleaning the text must not give a resent transition a new id (a second copy)."""
    [event] = parse(OT_TRANSITION).events
    assert (
        event.id
        == "owntracks-"
        + hashlib.sha256(
            b"nokia\x001707057574.0\x00enter\x00My favorite coffee shop (Delaville)"
        ).hexdigest()[:24]
    )
