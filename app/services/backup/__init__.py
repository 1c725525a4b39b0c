"""The backup family: verified archives, restore, NDJSON export and import."""
