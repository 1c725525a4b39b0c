"""Location fixes, stored compactly apart from the event log (see `store`).

Code outside this package uses only the names below.
"""

from app.storage.locations.fix import FIX_PREFIX, LOCATION, Fix, fix_from_record
from app.storage.locations.region import (
    REGION,
    REGION_KEY_MAX,
    REGION_NAME_MAX,
    Region,
    region_from_record,
)
from app.storage.locations.store import LocationStore

__all__ = [
    "FIX_PREFIX",
    "LOCATION",
    "REGION",
    "REGION_KEY_MAX",
    "REGION_NAME_MAX",
    "Fix",
    "LocationStore",
    "Region",
    "fix_from_record",
    "region_from_record",
]
