"""Logging through the log thread, in a real child process (it owns the root logger)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(
    """
    import logging
    from app.logs import access, request_id, setup_logging

    setup_logging("INFO")
    request_id.set("rid-1")
    access("abc123", "203.0.113.7", "POST", "/v1/ingest/owntracks",
           b"u=me&token=s3cret&Tok%65n=again", 200, 1.25)
    items = ["before"]
    logging.getLogger("hearth.test").info("items %s", items)
    items.append("after")  # formatted lazily, but never after a later change
    logging.getLogger("hearth.test").debug("below the level")
    """
)


def test_access_lines_go_through_the_log_thread_redacted_and_complete() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=60, check=True
    )
    lines = done.stderr.splitlines()
    assert len(lines) == 2, done.stderr
    access_line, other = lines
    assert " INFO hearth.access [abc123] 203.0.113.7 " in access_line
    assert '"POST /v1/ingest/owntracks?u=me&token=REDACTED&Tok%65n=REDACTED" 200 1.2ms' in (
        access_line
    )
    assert "s3cret" not in done.stderr and "again" not in done.stderr
    assert other.endswith("INFO hearth.test [rid-1] items ['before']")
