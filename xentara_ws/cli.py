"""The `xentara-ws` command line: `serve` and the client sub-commands."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from . import __version__
from .client.commands import add_commands as add_client_commands
from .client.session_commands import add_session_commands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xentara-ws", description="Xentara WebSocket API v2 server and client")
    parser.add_argument("--version", action="version", version=f"xentara-ws {__version__}")
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="logging level"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = subparsers.add_parser("serve", help="serve a Xentara configuration folder or model")
    add_serve_arguments(serve)
    passwd = subparsers.add_parser("passwd", help="set a user's password in passwords.json (like xentara-password)")
    add_passwd_arguments(passwd)
    add_client_commands(subparsers)
    add_session_commands(subparsers)
    return parser


def add_passwd_arguments(passwd: argparse.ArgumentParser) -> None:
    passwd.add_argument("user", help="the user name (userName in users.json)")
    passwd.add_argument("--config", metavar="DIR", required=True, help="the Xentara configuration folder")
    passwd.add_argument(
        "--scheme",
        choices=["argon2id", "sha512-crypt"],
        default="argon2id",
        help="hash to write (default argon2id; sha512-crypt is what the vendor's tool writes and its schema accepts)",
    )
    passwd.add_argument("--remove", action="store_true", help="remove the password: the user can no longer sign in")
    passwd.set_defaults(handler=run_passwd)


def _read_new_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    import getpass

    first = getpass.getpass("New password: ")
    if first != getpass.getpass("Repeat the password: "):
        raise ValueError("the passwords do not match")
    return first


def run_passwd(args: argparse.Namespace) -> int:
    from .security.passwords import PasswordFileError, set_password

    try:
        password = None if args.remove else _read_new_password()
        if password == "":
            raise ValueError("the password must not be empty")
        set_password(args.config, args.user, password, scheme=args.scheme.replace("-", "_"))
    except (PasswordFileError, ValueError, OSError) as error:
        print(f"xentara-ws passwd: {error}", file=sys.stderr)
        return 2
    print(f"{'removed the password of' if args.remove else 'set the password of'} {args.user} in {args.config}")
    return 0


def add_serve_arguments(serve: argparse.ArgumentParser) -> None:
    serve.add_argument(
        "--log-level", default=argparse.SUPPRESS, choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="logging level"
    )
    serve.add_argument("--config", metavar="DIR", help="a Xentara configuration folder (config.json, model.json, ...)")
    serve.add_argument("--model", metavar="FILE", help="a model file alone (no security: everyone may do everything)")
    serve.add_argument("--host", default="0.0.0.0", help="address to listen on (default 0.0.0.0)")
    serve.add_argument("--port", type=int, help="port (default: httpServer.port of config.json, else 8080)")
    serve.add_argument("--no-tls", action="store_true", help="serve plain ws:// (local development only)")
    serve.add_argument("--allow-shutdown", action="store_true", help="let clients shut the server down (opcode 11)")
    serve.add_argument(
        "--schema-dir",
        metavar="DIR",
        help="also validate the files against the vendor's schema-xentara-*.json in DIR (or $XENTARA_SCHEMA_DIR)",
    )
    serve.add_argument(
        "--state-dir", metavar="DIR", help="where a generated TLS certificate and permanent sub-sessions are kept"
    )
    serve.add_argument("--max-message-size", type=int, metavar="BYTES", help="largest accepted message (default 1 MiB)")
    serve.add_argument("--max-packets", type=int, metavar="N", help="packets answered per message (default 1000)")
    serve.add_argument("--hello-timeout", type=float, metavar="SECONDS", help="client_hello deadline (default 10)")
    serve.add_argument("--send-timeout", type=float, metavar="SECONDS", help="slow-consumer disconnect (default 30)")
    serve.add_argument("--max-subscriptions", type=int, metavar="N", help="subscriptions per connection (default 1000)")
    serve.add_argument(
        "--max-subscription-attributes", type=int, metavar="N", help="attributes per subscription (default 10000)"
    )
    serve.add_argument("--max-sub-sessions", type=int, metavar="N", help="sub-sessions per connection (default 64)")
    serve.add_argument(
        "--max-sub-sessions-total", type=int, metavar="N", help="sub-sessions in the server (default 100000)"
    )
    serve.add_argument("--max-connections", type=int, metavar="N", help="open connections (default 10000)")
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
    try:
        return int(handler(args))
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, as command-line tools do.
        sys.stdout = open(os.devnull, "w")
        return 0


if __name__ == "__main__":
    sys.exit(main())
