"""Location fixes: a compact SQLite table of their own, never embedded into the vector index.

A phone logging every 10 s makes 3 million fixes a year. As events they would cost an
embedding each (~1.5 KB of vector plus CPU) and drown search, so they live here:
one WITHOUT ROWID row per (time, device), integers where the apps send integers,
about 40 bytes a row. WAL with `synchronous=FULL` makes a committed batch survive
kill -9 with one fsync per batch. Every call runs in a worker thread behind one lock,
and writes hold the data-directory write gate so a backup copies a quiet file.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import anyio.to_thread

from app.storage.files import FILE_MODE, move_aside, storage_error
from app.storage.gate import WriteGate
from app.storage.locations.fix import Fix, parse_fix_id
from app.storage.locations.reader import COLUMNS, FixReader
from app.storage.locations.region import Region

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS devices (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS fixes (
    ts INTEGER NOT NULL, dev INTEGER NOT NULL, lat REAL NOT NULL, lon REAL NOT NULL,
    acc INTEGER, alt INTEGER, batt INTEGER, vel INTEGER, tid TEXT,
    PRIMARY KEY (ts, dev)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS regions (
    dev INTEGER NOT NULL, key TEXT NOT NULL, name TEXT NOT NULL,
    lat REAL NOT NULL, lon REAL NOT NULL, rad INTEGER, ts REAL NOT NULL,
    PRIMARY KEY (dev, key)
) WITHOUT ROWID;
"""

DELETE_CHUNK = 20_000


class LocationStore(FixReader):
    def __init__(self, path: Path, gate: WriteGate) -> None:
        self.path = path
        self._gate = gate
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._devices: dict[str, int] = {}
        self._names: dict[int, str] = {}
        self.count = 0
        self.warnings: list[str] = []

    @classmethod
    async def open(cls, path: Path, gate: WriteGate) -> LocationStore:
        return await anyio.to_thread.run_sync(cls._open_sync, path, gate)

    @classmethod
    def _open_sync(cls, path: Path, gate: WriteGate) -> LocationStore:
        """A damaged file is moved aside (never deleted) and an empty store started."""
        try:
            return cls._connect(path, gate)
        except sqlite3.OperationalError:
            raise  # locked, unreadable, disk full: not damage, nothing to move aside
        except sqlite3.DatabaseError as exc:
            parts = [path.with_name(path.name + suffix) for suffix in ("", "-wal", "-shm")]
            aside = [move_aside(part) for part in parts if part.exists()]
            log.error("damaged %s (%s): moved to %s", path.name, exc, aside[0].name)
            store = cls._connect(path, gate)
            store.warnings.append(
                f"{path.name} was damaged ({exc}); kept as {aside[0].name}, location fixes "
                "start empty (restore a backup to get them back)"
            )
            return store

    @classmethod
    def _connect(cls, path: Path, gate: WriteGate) -> LocationStore:
        # SQLite gives its -wal and -shm files the database file's mode: make that private.
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE))
        os.chmod(path, FILE_MODE)
        store = cls(path, gate)
        db = store._db
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA journal_size_limit=8388608")
            db.executescript(_SCHEMA)
            for dev, name in db.execute("SELECT id, name FROM devices"):
                store._devices[name] = dev
                store._names[dev] = name
            store.count = db.execute("SELECT count(*) FROM fixes").fetchone()[0]
        except BaseException:
            db.close()
            raise
        return store

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- writing ---------------------------------------------------------------

    async def add(self, fixes: Sequence[Fix]) -> int:
        """Store new fixes in one transaction; returns how many were new (a resend adds 0)."""
        if not fixes:
            return 0
        async with self._gate.write():
            return await anyio.to_thread.run_sync(self._insert, fixes)

    def _device(self, name: str) -> int:
        dev = self._devices.get(name)
        if dev is None:
            cur = self._db.execute("INSERT INTO devices (name) VALUES (?)", (name,))
            dev = int(cur.lastrowid or 0)
        return dev

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """Every write on the shared connection: BEGIN IMMEDIATE ... COMMIT; on any error
        (a value SQLite cannot take, too) a ROLLBACK, so the connection is never left
        inside a transaction, and SQLite's errors become the storage error (disk full:
        507)."""
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            yield db
            db.execute("COMMIT")
        except BaseException as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise _storage(exc, self.path) from exc
            raise

    def _insert(self, fixes: Sequence[Fix]) -> int:
        with self._lock:
            before = self._db.total_changes
            new_devices: dict[str, int] = {}
            with self._transaction() as db:
                devices = self._with_devices({f.device for f in fixes}, new_devices)
                rows = [  # unpacking, not attribute access: this runs once per fix
                    (round(ts * 1000), devices[dev], lat, lon, acc, alt, batt, vel, tid)
                    for dev, ts, lat, lon, acc, alt, batt, vel, tid in fixes
                ]
                db.executemany(
                    f"INSERT OR IGNORE INTO fixes ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)", rows
                )
            self._remember(new_devices)
            added = self._db.total_changes - before - len(new_devices)
            self.count += added
            return added

    def _with_devices(self, names: set[str], new_devices: dict[str, int]) -> dict[str, int]:
        """Inside a transaction: ids for `names`, adding the unknown ones to `new_devices`."""
        for name in sorted(names - self._devices.keys()):
            new_devices[name] = self._device(name)
        return {**self._devices, **new_devices}

    def _remember(self, new_devices: dict[str, int]) -> None:
        """After the commit: the devices it added are known from now on."""
        for name, dev in new_devices.items():
            self._devices[name] = dev
            self._names[dev] = name

    # -- regions ---------------------------------------------------------------

    async def put_regions(self, regions: Sequence[Region]) -> None:
        """Store region definitions in one transaction; a redefinition replaces its key's."""
        if regions:
            async with self._gate.write():
                await anyio.to_thread.run_sync(self._put_regions, regions)

    def _put_regions(self, regions: Sequence[Region]) -> None:
        with self._lock:
            new_devices: dict[str, int] = {}
            with self._transaction() as db:
                devices = self._with_devices({r.device for r in regions}, new_devices)
                db.executemany(
                    "INSERT OR REPLACE INTO regions (dev, key, name, lat, lon, rad, ts) "
                    "VALUES (?,?,?,?,?,?,?)",
                    [
                        (devices[r.device], r.key, r.name, r.lat, r.lon, r.rad, r.ts)
                        for r in regions
                    ],
                )
            self._remember(new_devices)

    async def delete_region(self, device: str, key: str) -> bool:
        dev = self._devices.get(device)
        if dev is None:
            return False
        async with self._gate.write():
            return await anyio.to_thread.run_sync(self._delete_region, dev, key) > 0

    def _delete_region(self, dev: int, key: str) -> int:
        with self._lock, self._transaction() as db:
            return db.execute("DELETE FROM regions WHERE dev = ? AND key = ?", (dev, key)).rowcount

    def regions(self) -> list[Region]:
        """Blocking: every region, oldest definition first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT dev, key, name, lat, lon, rad, ts FROM regions ORDER BY ts, dev, key"
            ).fetchall()
        return [Region(self._names.get(dev, str(dev)), *rest) for dev, *rest in rows]

    async def delete(self, fix: str) -> bool:
        parsed = parse_fix_id(fix)
        if parsed is None or parsed[0] not in self._devices:
            return False
        dev = self._devices[parsed[0]]
        async with self._gate.write():
            return await anyio.to_thread.run_sync(self._delete_one, parsed[1], dev) > 0

    def _delete_one(self, ts_ms: int, dev: int) -> int:
        with self._lock:
            with self._transaction() as db:
                gone = db.execute("DELETE FROM fixes WHERE ts = ? AND dev = ?", (ts_ms, dev))
            self.count -= gone.rowcount
            return gone.rowcount

    async def delete_before(self, before: float, *, dry_run: bool = False) -> int:
        """Retention: chunked deletes, each its own short transaction."""
        cutoff = round(before * 1000)
        if dry_run:
            return await anyio.to_thread.run_sync(self._count_before, cutoff)
        total = 0
        while True:
            async with self._gate.write():
                gone = await anyio.to_thread.run_sync(self._delete_chunk, cutoff)
            total += gone
            if gone < DELETE_CHUNK:
                return total

    def _count_before(self, cutoff: int) -> int:
        with self._lock:
            found = self._db.execute("SELECT count(*) FROM fixes WHERE ts < ?", (cutoff,))
            return int(found.fetchone()[0])

    def _delete_chunk(self, cutoff: int) -> int:
        with self._lock:
            with self._transaction() as db:
                cur = db.execute(
                    "DELETE FROM fixes WHERE (ts, dev) IN "
                    "(SELECT ts, dev FROM fixes WHERE ts < ? ORDER BY ts LIMIT ?)",
                    (cutoff, DELETE_CHUNK),
                )
            self.count -= cur.rowcount
            return cur.rowcount


def _storage(exc: sqlite3.Error, path: Path) -> Exception:
    text = str(exc)
    if "full" in text:
        return storage_error(OSError(28, "No space left on device"), path)
    return storage_error(OSError(5, text), path)
