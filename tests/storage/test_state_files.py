"""Durable documents and the state files, against a real temp dir."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from app.errors import StorageError
from app.storage import document
from app.storage.document import DurableDocument
from app.storage.files import atomic_write, load_or_recover
from app.storage.gate import WriteGate
from app.storage.state import StateManager, decode_mood, encode_json


def _counter_doc(path: Path, gate: WriteGate | None = None) -> DurableDocument[dict[str, int]]:
    return DurableDocument(
        path,
        encode=encode_json,
        decode=lambda b: json.loads(b),
        default=lambda: {"n": 0},
        gate=gate,
    )


def test_atomic_write_keeps_previous_copy_as_bak(tmp_path: Path) -> None:
    target = tmp_path / "f.json"
    atomic_write(target, b"one")
    atomic_write(target, b"two")
    assert target.read_bytes() == b"two"
    assert (tmp_path / "f.json.bak").read_bytes() == b"one"
    assert target.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.json", "f.json.bak"]


def test_concurrent_updates_are_all_durable(tmp_path: Path) -> None:
    async def main() -> None:
        doc = _counter_doc(tmp_path / "c.json")
        doc.load()

        async def bump() -> int:
            return await doc.update(lambda v: ({"n": v["n"] + 1}, v["n"] + 1))

        results = await asyncio.gather(*(bump() for _ in range(200)))
        assert sorted(results) == list(range(1, 201))
        assert json.loads((tmp_path / "c.json").read_bytes()) == {"n": 200}

    asyncio.run(main())


def test_update_waits_for_a_paused_gate(tmp_path: Path) -> None:
    async def main() -> None:
        gate = WriteGate()
        doc = _counter_doc(tmp_path / "g.json", gate)
        doc.load()
        async with gate.paused():
            pending = asyncio.create_task(doc.update(lambda _v: ({"n": 1}, None)))
            await asyncio.sleep(0.05)
            assert not pending.done()
            assert json.loads((tmp_path / "g.json").read_bytes()) == {"n": 0}
        await pending
        assert json.loads((tmp_path / "g.json").read_bytes()) == {"n": 1}

    asyncio.run(main())


def test_corrupt_file_recovers_from_bak(tmp_path: Path) -> None:
    target = tmp_path / "m.json"
    atomic_write(target, b'{"n": 1}')
    atomic_write(target, b'{"n": 2}')
    target.write_bytes(b'{"n": ')
    value, warnings = load_or_recover(target, json.loads, lambda: {"n": 0})
    assert value == {"n": 1}
    assert any("corrupt" in w for w in warnings)
    assert len(list(tmp_path.glob("m.json.corrupt-*"))) == 1


def test_corrupt_file_without_bak_uses_default(tmp_path: Path) -> None:
    target = tmp_path / "m.json"
    target.write_bytes(b"\xff\xfe")
    value, warnings = load_or_recover(target, json.loads, lambda: {"n": 0})
    assert value == {"n": 0} and warnings


def test_seed_mood_format_is_upgraded(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "current_mood.txt").write_text('{"mood": "happy", "context": "x", "timestamp": 7}')
    manager = StateManager(state, gate=WriteGate())
    assert manager.load() == []
    assert manager.current_mood() == {"mood": "happy", "context": "x", "updated_at": 7}
    on_disk = json.loads((state / "current_mood.txt").read_text())
    assert on_disk["schema"] == 1 and on_disk["updated_at"] == 7


@pytest.mark.parametrize(
    "raw", [b"[]", b'{"mood": 3}', b'{"mood": "a", "updated_at": "soon"}', b"null"]
)
def test_wrongly_shaped_mood_is_rejected(raw: bytes) -> None:
    with pytest.raises((ValueError, TypeError)):
        decode_mood(raw)


def test_first_run_creates_every_state_file(tmp_path: Path) -> None:
    manager = StateManager(tmp_path / "state", gate=WriteGate())
    manager.load()
    names = {p.name for p in (tmp_path / "state").iterdir()}
    assert {"current_mood.txt", "recent_thoughts.txt", "blog_cache.json"} <= names
    assert json.loads((tmp_path / "state" / "blog_cache.json").read_text()) == []
    assert (tmp_path / "state").stat().st_mode & 0o777 == 0o700


def test_unchanged_update_waits_for_the_value_it_saw_to_be_durable(tmp_path: Path) -> None:
    """Two phones sending the same change: the second must not be acked before the disk."""

    async def main() -> None:
        gate = WriteGate()
        doc = _counter_doc(tmp_path / "s.json", gate)
        doc.load()

        def set_one(v: dict[str, int]) -> tuple[dict[str, int], None]:
            return (v if v["n"] == 1 else {"n": 1}), None

        async with gate.paused():
            first = asyncio.create_task(doc.update(set_one))
            second = asyncio.create_task(doc.update(set_one))
            await asyncio.sleep(0.05)
            assert not first.done() and not second.done()
        await asyncio.gather(first, second)
        assert json.loads((tmp_path / "s.json").read_bytes()) == {"n": 1}

    asyncio.run(main())


def test_a_deferred_value_is_visible_at_once_and_never_rolled_back(tmp_path: Path) -> None:
    """It is durable elsewhere (the journal): a later failed write must not undo it."""

    async def main() -> None:
        state = tmp_path / "state"
        state.mkdir()
        doc = _counter_doc(state / "d.json")
        doc.load()
        doc.set_deferred({"n": 1})
        assert doc.value == {"n": 1}
        await doc.drain()
        assert json.loads((state / "d.json").read_bytes()) == {"n": 1}
        for child in state.iterdir():
            child.unlink()
        state.rmdir()  # every later write fails
        doc.set_deferred({"n": 2})
        with pytest.raises(StorageError):
            await doc.update(lambda _v: ({"n": 3}, None))
        assert doc.value == {"n": 2}

    asyncio.run(main())


def test_drain_writes_a_deferred_value_without_waiting_out_its_deferral(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stop or a backup copy must not sit out the batching delay of a deferred write."""
    monkeypatch.setattr(document, "DEFER_S", 3600.0)

    async def main() -> None:
        doc = _counter_doc(tmp_path / "d.json")
        doc.load()
        doc.set_deferred({"n": 7})
        await asyncio.wait_for(doc.drain(), timeout=30)
        assert json.loads((tmp_path / "d.json").read_bytes()) == {"n": 7}

    asyncio.run(main())
