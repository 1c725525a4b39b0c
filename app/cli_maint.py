"""Offline `hearth` commands: backup, restore, export, import, reindex, scrape, cleanup.

Each takes the data-directory lock, so it refuses while a server runs (the server offers
the same work over HTTP: /v1/backups, /v1/export, /v1/jobs/{name}/run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from app.config import Settings

if TYPE_CHECKING:
    from app.runtime import Runtime

Handler = Callable[[Settings, argparse.Namespace], int]


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, sort_keys=True, default=str))


def offline(settings: Settings, work: Callable[[Runtime], Awaitable[Any]]) -> Any:
    """Run `work(runtime)` with the data dir locked and everything closed afterwards."""
    from app.runtime import Runtime

    async def main() -> Any:
        runtime = await Runtime.open(settings, purpose="hearth " + " ".join(sys.argv[1:2]))
        try:
            return await work(runtime)
        finally:
            await runtime.close()

    return asyncio.run(main())


def _bar(desc: str) -> Callable[[int, int], None]:
    bar = tqdm(desc=desc, unit="event", file=sys.stderr)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return progress


def cmd_backup(settings: Settings, _args: argparse.Namespace) -> int:
    from app.jobs.registry import run_backup

    item = offline(settings, lambda rt: run_backup(rt.settings, rt.events, rt.state, rt.gate))
    print_json(item)
    return 0 if item.get("verified") else 1


def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    from app.services.backup.restore import restore
    from app.storage.lock import DataDirLock

    with DataDirLock(settings.data_dir, "hearth restore"):
        print_json(
            restore(
                Path(args.archive),
                settings.data_dir,
                progress=lambda message: print(message, file=sys.stderr),
                chroma_url=settings.chroma_url,
            )
        )
    return 0


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    from app.services.backup.export import export_lines
    from app.storage.files import fsync_dir

    target = Path(args.file)

    async def work(runtime: Runtime) -> dict[str, Any]:
        tmp = target.with_name(target.name + ".partial")
        lines = 0
        with open(tmp, "wb") as out:
            chunks = export_lines(
                runtime.events, runtime.state.snapshot(), locations=runtime.locations
            )
            async for chunk in chunks:
                out.write(chunk)
                lines += chunk.count(b"\n")
            out.flush()
            os.fsync(out.fileno())  # the export is someone's only copy: durable, then named
        tmp.replace(target)
        fsync_dir(target.parent)
        return {"file": str(target), "lines": lines}

    print_json(offline(settings, work))
    return 0


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    from app.services.backup.export import ImportFormatError, import_file

    if args.format == "daylio":
        return _import_daylio(settings, Path(args.file))
    if not Path(args.file).is_file():
        print(f"hearth import: no file at {args.file}", file=sys.stderr)
        return 2

    async def work(runtime: Runtime) -> dict[str, Any]:
        return await import_file(
            runtime.events,
            Path(args.file),
            write_state=runtime.state.import_file,
            progress=lambda message: print(message, file=sys.stderr),
            locations=runtime.locations,
            check_state=runtime.state.check_file,
        )

    try:
        result = offline(settings, work)
    except ImportFormatError as exc:  # bad lines: named on stderr, nothing imported
        print(f"hearth import: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"hearth import: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print_json(result)
    return 0


def _import_daylio(settings: Settings, path: Path) -> int:
    """The whole file is checked before the data dir is even opened: a bad row is exit 2
    with each bad line named, and nothing stored."""
    from zoneinfo import ZoneInfo

    from app.errors import ImportRowsError
    from app.services.ingest.daylio import parse_daylio

    try:
        changes = parse_daylio(path.read_bytes(), tz=ZoneInfo(settings.tz), now=time.time())
    except OSError as exc:
        print(f"hearth: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    except ImportRowsError as exc:
        print(f"hearth: {path.name}: {exc}", file=sys.stderr)
        return 2

    async def work(runtime: Runtime) -> dict[str, int]:
        recorded = await runtime.moods.record(changes, replace=False)
        return {"imported": recorded.created, "duplicates": recorded.duplicates}

    print_json({**offline(settings, work), "rows": len(changes)})
    return 0


def cmd_reindex(settings: Settings, _args: argparse.Namespace) -> int:
    from app.storage.embeddings import get_embedder
    from app.storage.events.reindex import reindex
    from app.storage.lock import DataDirLock

    with DataDirLock(settings.data_dir, "hearth reindex"):
        count = reindex(
            chroma_dir=settings.chroma_dir,
            chroma_url=settings.chroma_url,
            embedder=get_embedder(),
            progress=_bar("reindex"),
        )
    print(f"re-embedded {count} events into a new collection and switched to it")
    return 0


def cmd_scrape(settings: Settings, _args: argparse.Namespace) -> int:
    from app.jobs.registry import SCRAPE

    async def work(runtime: Runtime) -> dict[str, Any]:
        return await runtime.jobs.run_once(SCRAPE)

    record = offline(settings, work)
    print_json(record)
    return 0 if record.get("status") == "ok" else 1


def cmd_cleanup(settings: Settings, args: argparse.Namespace) -> int:
    from app.services.retention import cleanup

    async def work(runtime: Runtime) -> dict[str, Any]:
        return await cleanup(
            runtime.events,
            settings,
            now=time.time(),
            dry_run=args.dry_run,
            locations=runtime.locations,
        )

    print_json(offline(settings, work))
    return 0


def add_commands(sub: Any, commands: dict[str, Handler]) -> None:
    sub.add_parser("backup", help="write and verify a backup archive now")
    sub.add_parser("restore", help="restore an archive into the data dir").add_argument("archive")
    sub.add_parser("export", help="write every event and the state as NDJSON").add_argument("file")
    imports = sub.add_parser("import", help="import an NDJSON export or another app's file")
    imports.add_argument("file")
    imports.add_argument(
        "--format",
        choices=["ndjson", "daylio"],
        default="ndjson",
        help="ndjson: a Hearth export (default); daylio: Daylio's CSV export",
    )
    sub.add_parser("reindex", help="re-embed every event with the current model")
    sub.add_parser("scrape", help="run the blog scrape now")
    cleanup = sub.add_parser("cleanup", help="apply the retention rules now")
    cleanup.add_argument("--dry-run", action="store_true", help="only count what would go")
    commands.update(
        {
            "backup": cmd_backup,
            "restore": cmd_restore,
            "export": cmd_export,
            "import": cmd_import,
            "reindex": cmd_reindex,
            "scrape": cmd_scrape,
            "cleanup": cmd_cleanup,
        }
    )
