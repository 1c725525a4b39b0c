"""Bodies exactly as the apps' documentation shows them (OwnTracks booklet, Overland README)."""

from __future__ import annotations

from typing import Any

# owntracks/booklet docs/tech/http.md and docs/tech/json.md
OT_LOCATION = (
    '{"_type":"location","SSID":"mywifi","alt":154,"batt":53,"conn":"w",'
    '"created_at":1706856299,"lat":48.856826,"lon":2.292713,"tid":"j1","tst":1706856298,"vel":0}'
)
OT_LOCATION_TOPIC = (
    '{"lon":2.29513,"lat":48.85833,"_type":"location","tst":1497476456,'
    ' "tid":"JJ", "topic":"owntracks/jane/phone"}'
)
# docs/features/waypoints.md
OT_TRANSITION = """{
      "_type": "transition",
      "desc": "My favorite coffee shop (Delaville)",
      "event": "enter",
      "lat": 48.87069,
      "lon": 2.34916,
      "rid": "f7676c",
      "tid": "j1",
      "tst": 1707057574,
      "wtst": 1610104395
}"""
OT_WAYPOINT = """{
    "_type": "waypoint",
    "desc": "My favorite coffee shop (Delaville)",
    "lat": 48.87069,
    "lon": 2.34916,
    "rad": "50",
    "tst": "1385997757",
    "rid": "f7676c",
    "wtst": 1610104395
}"""
# docs/features/beacons.md
OT_WAYPOINTS = """{
  "waypoints" : [
    {
      "tst" : 1432817332,
      "lat" : 52.0,
      "_type" : "waypoint",
      "lon" : 6.0,
      "rad" : 0,
      "desc" : "Main@WestWing:DEADBEEF-ABBA-CAFE-AFFE-123456789012:0001"
    }
  ],
  "_type" : "waypoints"
}"""
OT_OTHERS = {
    "lwt": '{"_type":"lwt","tst":1706856000}',
    "card": '{"_type": "card", "tid": "JJ", "name": "Jane Jolie",'
    ' "face": "iV1CFEVkMhmCIKBUKh3ghAAAAABJRU5ErkJggg=="}',
    "cmd": '{"_type":"cmd", "action":"reportLocation"}',
    "encrypted": '{"_type": "encrypted", "data": "1Vu7OwpW4lMnh28FB+el22GsCrlnggvEcp4H8GR9iKJdi'
    '1qfwkejYpzrQ+491Mwunjg="}',
    "steps": '{"_type":"steps","from":1400455130,"steps":1234,"to":1400458000,"tst":1400455130}',
    "beacon": '{"_type":"beacon","desc":"Main@WestWing","uuid":"DEADBEEF-ABBA-CAFE-AFFE-'
    '123456789012","major":1,"minor":1,"tst":1433342520,"acc":1,"rssi":-60,"prox":2}',
    "status": '{"_type":"status","android":{"hib":1,"bo":1,"loc":0,"ps":0,"wifi":1},'
    '"_id":"b0d8f3"}',
    "request": '{"_type":"request","request":"tour","tour":{"label":"Meeting with C. in Essen",'
    '"from":"2022-08-01T05:52:00.000+02:00","to":"2022-08-02T05:52:00.000+02:00"}}',
    "configuration": '{"_type":"configuration","mode":3,"url":"https://example.com/pub"}',
    "waypoint": OT_WAYPOINT,
    "waypoints": OT_WAYPOINTS,
}


def overland_feature(**props: Any) -> dict[str, Any]:
    """The README's example point (aaronpk/Overland-iOS), with properties overridden."""
    base: dict[str, Any] = {
        "timestamp": "2015-10-01T08:00:00-0700",
        "altitude": 0,
        "speed": 4,
        "horizontal_accuracy": 30,
        "vertical_accuracy": -1,
        "motion": ["driving", "stationary"],
        "pauses": False,
        "activity": "other_navigation",
        "desired_accuracy": 100,
        "deferred": 1000,
        "significant_change": "disabled",
        "locations_in_payload": 1,
        "battery_state": "charging",
        "battery_level": 0.80,
        "device_id": "",
        "wifi": "",
    }
    coordinates = props.pop("coordinates", [-122.030581, 37.331800])
    base.update(props)
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": coordinates},
        "properties": base,
    }
