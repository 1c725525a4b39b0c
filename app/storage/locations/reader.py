"""The read side of the location store: get by id, keyset pages, the full export walk.

A mixin over the store's one connection (Radicale composes its storage the same way):
every query runs under the store's lock, called from a worker thread.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio.to_thread

from app.storage.locations.fix import Fix, parse_fix_id

COLUMNS = "ts, dev, lat, lon, acc, alt, batt, vel, tid"


def encode_cursor(ts_ms: int, dev: int) -> str:
    raw = json.dumps([ts_ms, dev], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, int]:
    """Raises ValueError for anything that is not a cursor this store issued."""
    try:
        ts_ms, dev = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError) as exc:
        raise ValueError("invalid cursor") from exc
    if not all(type(v) is int and 0 <= v < 2**62 for v in (ts_ms, dev)):
        raise ValueError("invalid cursor")
    return ts_ms, dev


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds * 1000)


class FixReader:
    _db: sqlite3.Connection
    _lock: threading.Lock
    _devices: dict[str, int]
    _names: dict[int, str]

    def _fix(self, row: tuple[Any, ...]) -> Fix:
        ts, dev, lat, lon, acc, alt, batt, vel, tid = row
        return Fix(self._names.get(dev, str(dev)), ts / 1000, lat, lon, acc, alt, batt, vel, tid)

    async def get(self, fix: str) -> Fix | None:
        parsed = parse_fix_id(fix)
        if parsed is None or parsed[0] not in self._devices:
            return None
        dev = self._devices[parsed[0]]
        rows = await anyio.to_thread.run_sync(
            self._select, "ts = ? AND dev = ?", [parsed[1], dev], "", 1
        )
        return self._fix(rows[0]) if rows else None

    def _select(self, where: str, args: list[Any], order: str, limit: int) -> list[tuple[Any, ...]]:
        sql = f"SELECT {COLUMNS} FROM fixes WHERE {where} {order} LIMIT ?"
        with self._lock:
            return self._db.execute(sql, [*args, limit]).fetchall()

    async def page(
        self,
        *,
        since: float | None = None,
        until: float | None = None,
        device: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
        newest_first: bool = True,
    ) -> tuple[list[Fix], str | None]:
        """Fixes with `since <= ts < until`, keyset-paged; the cursor is the last (ts, device)."""
        where, args = ["1"], []
        for clause, value in (("ts >= ?", _ms(since)), ("ts < ?", _ms(until))):
            if value is not None:
                where.append(clause)
                args.append(value)
        if device is not None:
            if device not in self._devices:
                return [], None
            where.append("dev = ?")
            args.append(self._devices[device])
        if cursor:
            where.append("(ts, dev) < (?, ?)" if newest_first else "(ts, dev) > (?, ?)")
            args.extend(decode_cursor(cursor))
        order = "ORDER BY ts DESC, dev DESC" if newest_first else "ORDER BY ts, dev"
        rows = await anyio.to_thread.run_sync(
            self._select, " AND ".join(where), args, order, limit + 1
        )
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1][0], rows[-1][1]) if more and rows else None
        return [self._fix(row) for row in rows], next_cursor

    async def export_batches(self, batch: int = 5000) -> AsyncIterator[list[Fix]]:
        """Every fix, oldest first, one block per worker-thread call."""
        blocks = self.iter_all(batch)
        empty: list[Fix] = []
        while block := await anyio.to_thread.run_sync(next, blocks, empty):
            yield block

    def iter_range(self, since: float, until: float, batch: int = 2000) -> Iterator[list[Fix]]:
        """Fixes with `since <= ts < until`, oldest first, in blocks of `batch` (blocking:
        run it in a thread). A day is read a block at a time, never a year at once."""
        return self._blocks((round(since * 1000) - 1, 2**62), round(until * 1000), batch)

    def iter_all(self, batch: int = 5000) -> Iterator[list[Fix]]:
        """Every fix, oldest first, in blocks (blocking: run it in a thread, one block a call)."""
        return self._blocks((-1, -1), None, batch)

    def _blocks(self, after: tuple[int, int], end: int | None, batch: int) -> Iterator[list[Fix]]:
        """Keyset paging on (ts, dev) after `after`, up to `end` (ms, exclusive) if given."""
        where = "(ts, dev) > (?, ?)" + (" AND ts < ?" if end is not None else "")
        bound = [end] if end is not None else []
        while True:
            rows = self._select(where, [*after, *bound], "ORDER BY ts, dev", batch)
            if not rows:
                return
            after = (rows[-1][0], rows[-1][1])
            yield [self._fix(row) for row in rows]
            if len(rows) < batch:
                return
