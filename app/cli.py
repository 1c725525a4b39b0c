"""The `hearth` command: the server and the offline work (restore, import, reindex, tokens)."""

from __future__ import annotations

import argparse
import socket
import sys
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from pydantic import ValidationError

from app.cli_maint import Handler, add_commands, offline, print_json
from app.config import Settings
from app.errors import HearthError
from app.logs import setup_logging

if TYPE_CHECKING:
    from app.runtime import Runtime


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        lines = [
            f"  HEARTH_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        ]
        raise SystemExit("hearth: invalid configuration:\n" + "\n".join(lines)) from None


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from app.main import create_app
    from app.storage.lock import DataDirLock

    if args.host:
        settings = settings.model_copy(update={"host": args.host})
    if args.port:
        settings = settings.model_copy(update={"port": args.port})
    # Fail fast, before loading the model, when another process owns the data dir.
    DataDirLock(settings.data_dir, "probe").acquire().release()
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        workers=1,
        log_config=None,
        access_log=False,
        proxy_headers=False,  # RequestContext trusts proxy headers from loopback only
        server_header=False,
        timeout_graceful_shutdown=30,
    )
    server = uvicorn.Server(config)
    server.run()
    return 0 if server.started else 1


def cmd_stats(settings: Settings, _args: argparse.Namespace) -> int:
    async def work(runtime: Runtime) -> dict[str, Any]:
        snapshot = await runtime.status.snapshot()
        return {**snapshot, "mood": runtime.state.current_mood()}

    print_json(offline(settings, work))
    return 0


def cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    from app.storage.tokens import TokenStore

    store = TokenStore(settings.state_dir)
    if args.action == "create":
        token = store.create(args.name, args.scope)
        print(
            f"Token for {args.name!r}, scope {args.scope} "
            f"(shown once; store it in the device now):\n{token}"
        )
        if args.qr:
            _print_pairing(settings, token)
    elif args.action == "revoke":
        store.revoke(args.name)
        print(f"revoked {args.name!r}")
    else:
        items = store.list()
        for warning in store.warnings:
            print(f"hearth: warning: {warning}", file=sys.stderr)
        for item in items:
            print(
                f"{item['name']:<24} {item['scope']:<6} created {_when(item['created_at'])}  "
                f"last used {_when(item['last_used_at'])}"
            )
    return 0


def sign_in_link(settings: Settings, token: str) -> str:
    """The web app's sign-in link; the token rides in the fragment, which is never sent."""
    base = settings.public_url
    if not base:
        host = settings.host
        if host in ("0.0.0.0", "::", ""):
            host = socket.gethostname()  # a wildcard bind is no address a phone can open
        host = f"[{host}]" if ":" in host else host
        base = f"http://{host}:{settings.port}/"
    return f"{base.rstrip('/')}/#token={quote(token, safe='')}"


def _print_pairing(settings: Settings, token: str) -> None:
    import segno

    link = sign_in_link(settings, token)
    print(f"\nSign-in link (open it on the phone, or scan the code):\n{link}\n")
    segno.make(link, error="m").terminal(out=sys.stdout, compact=True)


def _when(epoch: object) -> str:
    if not isinstance(epoch, int | float) or isinstance(epoch, bool):
        return "never"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(epoch))


COMMANDS: dict[str, Handler] = {"serve": cmd_serve, "stats": cmd_stats, "token": cmd_token}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hearth", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP service (one worker)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    sub.add_parser("stats", help="event counts, storage and warnings")
    token = sub.add_parser("token", help="device tokens")
    tsub = token.add_subparsers(dest="action", required=True)
    create = tsub.add_parser("create", help="create a token and print it once")
    create.add_argument("name")
    create.add_argument(
        "--scope",
        choices=["full", "write", "read"],
        default="full",
        help="read: GET only; write: + mood, thoughts, events, search, ingest, import; "
        "full: everything (default)",
    )
    create.add_argument(
        "--qr", action="store_true", help="also print the web app's sign-in link and its QR code"
    )
    tsub.add_parser("revoke", help="revoke a token by name").add_argument("name")
    tsub.add_parser("list", help="names, scopes, created and last-used times")
    add_commands(sub, COMMANDS)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = _settings()
    setup_logging(settings.log_level)
    try:
        return COMMANDS[args.command](settings, args)
    except HearthError as exc:
        print(f"hearth: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
