"""Damaging a backup archive on purpose, in a byte that carries data."""

from __future__ import annotations

import gzip
import zlib


def unpacked(data: bytes) -> bytes | None:
    """The tar stream inside a .tar.gz, or None if gzip itself finds damage."""
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error):
        return None


def flip_a_data_byte(data: bytes) -> bytes:
    """`data` with one bit flipped, from the middle on, where the flip changes the archive.

    Not every flip does: a match distance inside a run of zeros still copies zeros, and
    a gzip header's MTIME, XFL and OS bytes are read by nobody.
    """
    original = unpacked(data)
    for position in range(len(data) // 2, len(data)):
        damaged = bytearray(data)
        damaged[position] ^= 0x01
        if unpacked(bytes(damaged)) != original:
            return bytes(damaged)
    raise AssertionError("no byte of the archive's second half carries data")
