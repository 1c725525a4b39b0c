"""Every byte of a backup archive that carries data is checked: a flip anywhere is refused.

The tar stream is checked file by file against the manifest, but tar also holds bytes
no file owns (header padding, the end-of-archive blocks), and gzip's own CRC covers
those only if the stream is read to its end. Some flips change nothing at all: a gzip
header's MTIME, XFL and OS bytes, or a match distance inside a run of zeros (it copies
zeros from elsewhere); those archives are still whole, and restoring them is right.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.errors import ArchiveCorruptError
from app.services.backup import archive
from app.services.backup.archive import file_table, write_archive
from app.services.backup.verify import FORMAT, extract_verified
from tests.utils.archives import unpacked
from tests.utils.events import tree_digest


@pytest.fixture
def small_archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.setattr(archive, "CHUNK", 16 * 1024)  # several gzip members, stored and deflated
    root = tmp_path / "root"
    (root / "chroma" / "seg").mkdir(parents=True)
    (root / "state").mkdir()
    (root / "chroma" / "seg" / "vectors.bin").write_bytes(os.urandom(40_000))
    (root / "chroma" / "db.sqlite3").write_bytes(b"page of rows " * 3000 + bytes(9000))
    (root / "state" / "current_mood.txt").write_bytes(b'{"mood": "calm"}')
    manifest = {"format": FORMAT, "created_at": 1_800_000_000, "kind": "files"}
    manifest["files"] = file_table(root, ["chroma", "state"])
    target = tmp_path / "hearth-backup.tar.gz"
    write_archive(target, root, manifest)
    return root, target


def test_a_flipped_byte_that_changes_anything_is_refused(
    small_archive: tuple[Path, Path], tmp_path: Path
) -> None:
    root, target = small_archive
    data = target.read_bytes()
    original = unpacked(data)
    expected = tree_digest(root)
    step = max(1, len(data) // 700)
    positions = sorted({*range(0, len(data), step), *range(len(data) - 600, len(data))})
    accepted = []
    for n, position in enumerate(positions):
        damaged = bytearray(data)
        damaged[position] ^= 0x01
        path = tmp_path / "damaged.tar.gz"
        path.write_bytes(bytes(damaged))
        dest = tmp_path / f"out-{n}"
        dest.mkdir()
        try:
            extract_verified(path, dest)
        except ArchiveCorruptError:
            continue
        assert {k: v for k, v in tree_digest(dest).items() if k != "manifest.json"} == expected
        if unpacked(bytes(damaged)) != original:
            accepted.append(position)
    assert not accepted, f"damage accepted at {accepted}"
