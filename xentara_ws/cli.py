"""The `xentara-ws` command line: `serve` and the client sub-commands."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from . import __version__
from .client.commands import add_commands as add_client_commands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xentara-ws", description="Xentara WebSocket API v2 server and client")
    parser.add_argument("--version", action="version", version=f"xentara-ws {__version__}")
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="logging level"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = subparsers.add_parser("serve", help="serve a Xentara configuration folder or model")
    add_serve_arguments(serve)
    add_client_commands(subparsers)
    return parser


def add_serve_arguments(serve: argparse.ArgumentParser) -> None:
    serve.add_argument("--config", metavar="DIR", help="a Xentara configuration folder (config.json, model.json, ...)")
    serve.add_argument("--model", metavar="FILE", help="a model file alone (no security: everyone may do everything)")
    serve.add_argument("--host", default="0.0.0.0", help="address to listen on (default 0.0.0.0)")
    serve.add_argument("--port", type=int, help="port (default: httpServer.port of config.json, else 8080)")
    serve.add_argument("--no-tls", action="store_true", help="serve plain ws:// (local development only)")
    serve.add_argument("--allow-shutdown", action="store_true", help="let clients shut the server down (opcode 11)")
    serve.add_argument("--state-dir", metavar="DIR", help="where a generated TLS certificate is kept")
    serve.add_argument("--max-message-size", type=int, metavar="BYTES", help="largest accepted message (default 1 MiB)")
    serve.add_argument("--max-packets", type=int, metavar="N", help="packets answered per message (default 1000)")
    serve.add_argument("--hello-timeout", type=float, metavar="SECONDS", help="client_hello deadline (default 10)")
    serve.add_argument("--send-timeout", type=float, metavar="SECONDS", help="slow-consumer disconnect (default 30)")
    serve.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    from .server.bootstrap import ServeError, serve_forever

    try:
        return serve_forever(args)
    except ServeError as error:
        print(f"xentara-ws: {error}", file=sys.stderr)
        return 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    return int(handler(args))


if __name__ == "__main__":
    sys.exit(main())
