"""Bodies of apps people already use, turned into Hearth's own records (one module per app)."""
