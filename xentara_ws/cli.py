"""The `xentara-ws` command line: `serve` and the client sub-commands."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .client.commands import add_commands as add_client_commands
from .client.session_commands import add_session_commands

if TYPE_CHECKING:
    from .server.options import ServeOptions


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xentara-ws", description="Xentara WebSocket API v2 server and client")
    parser.add_argument("--version", action="version", version=f"xentara-ws {__version__}")
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="logging level"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = subparsers.add_parser(
        "serve",
        help="serve a Xentara configuration folder or model",
        description="Serve a Xentara configuration folder (--config), a model file alone (--model), "
        "or the built-in demo (neither).",
    )
    add_serve_arguments(serve)
    passwd = subparsers.add_parser(
        "passwd",
        help="set a user's password in passwords.json (like xentara-password)",
        description="Set (or --remove) a user's password hash in passwords.json of a configuration folder. "
        "The password is prompted for twice, or read as one line from stdin.",
    )
    add_passwd_arguments(passwd)
    add_client_commands(subparsers)
    add_session_commands(subparsers)
    from .conformance.command import add_command as add_conformance_command

    add_conformance_command(subparsers)
    completion = subparsers.add_parser(
        "completion",
        help="print a shell completion script",
        description="Print a bash completion script: `source <(xentara-ws completion bash)`.",
    )
    completion.add_argument("shell", choices=["bash"])
    completion.set_defaults(handler=lambda args: _print_completion(parser, subparsers.choices))
    return parser


def _print_completion(parser: argparse.ArgumentParser, commands: Any) -> int:
    from .completion import bash_script

    print(bash_script(parser, commands), end="")
    return 0


def add_passwd_arguments(passwd: argparse.ArgumentParser) -> None:
    passwd.add_argument("user", help="the user name (userName in users.json)")
    passwd.add_argument("--config", metavar="DIR", required=True, help="the Xentara configuration folder")
    passwd.add_argument(
        "--scheme",
        choices=["argon2id", "sha512-crypt"],
        default="sha512-crypt",
        help="hash to write (default sha512-crypt: what the vendor's tool writes and its schema accepts; "
        "argon2id only for files that no real Xentara reads)",
    )
    passwd.add_argument("--remove", action="store_true", help="remove the password: the user can no longer sign in")
    passwd.add_argument(
        "--log-level", default=argparse.SUPPRESS, choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="logging level"
    )
    passwd.set_defaults(handler=run_passwd)


def _read_new_password() -> str:
    if not sys.stdin.isatty():
        # A line ending is not part of the password, whether it is "\n" or Windows' "\r\n".
        return sys.stdin.readline().removesuffix("\n").removesuffix("\r")
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
    print("a running server with this --config picks the change up within seconds (or at once on SIGHUP)")
    return 0


def add_serve_arguments(serve: argparse.ArgumentParser) -> None:
    serve.add_argument(
        "--log-level", default=argparse.SUPPRESS, choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="logging level"
    )
    serve.add_argument("--config", metavar="DIR", help="a Xentara configuration folder (config.json, model.json, ...)")
    serve.add_argument("--model", metavar="FILE", help="a model file alone (no security: everyone may do everything)")
    serve.add_argument("--host", default=None, help="address to listen on (default: every IPv4 and IPv6 address)")
    serve.add_argument("--port", type=int, help="port (default: httpServer.port of config.json, else 8080)")
    serve.add_argument("--no-tls", action="store_true", help="serve plain ws:// (local development only)")
    serve.add_argument("--allow-shutdown", action="store_true", help="let clients shut the server down (opcode 11)")
    serve.add_argument(
        "--www", metavar="DIR", help="serve this HMI folder at / (the built-in console moves to /console/)"
    )
    serve.add_argument(
        "--schema-dir",
        metavar="DIR",
        help="also validate the files against the vendor's schema-xentara-*.json in DIR (or $XENTARA_SCHEMA_DIR)",
    )
    serve.add_argument(
        "--state-dir", metavar="DIR", help="where a generated TLS certificate and permanent sub-sessions are kept"
    )
    serve.add_argument(
        "--reload-interval",
        type=float,
        metavar="SECONDS",
        help="how often to look for changed users/passwords/security/oauth2/client-certs files "
        "(default 1; 0: only on SIGHUP)",
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
    serve.add_argument("--max-reply-size", type=int, metavar="BYTES", help="reply bytes per message (default 4 MiB)")
    serve.add_argument(
        "--max-connection-subscription-attributes",
        type=int,
        metavar="N",
        help="subscribed attributes per connection (default 50000)",
    )
    serve.add_argument(
        "--max-total-subscription-attributes", type=int, metavar="N", help="subscribed attributes (default 2000000)"
    )
    serve.add_argument(
        "--max-outgoing-buffer", type=int, metavar="BYTES", help="unread bytes per client (default 16 MiB)"
    )
    serve.add_argument(
        "--max-total-outgoing-buffer", type=int, metavar="BYTES", help="unread bytes, all clients (default 512 MiB)"
    )
    serve.add_argument("--login-workers", type=int, metavar="N", help="password/token check threads (default 4)")
    serve.add_argument(
        "--max-pending-logins", type=int, metavar="N", help="logins verified or waiting at once (default 64)"
    )
    serve.add_argument(
        "--cluster", metavar="URL", help="join a cluster of nodes through NATS at URL, e.g. nats://127.0.0.1:4222"
    )
    serve.add_argument("--node-name", metavar="NAME", help="this node's name in the cluster (default host-pid)")
    serve.add_argument("--cluster-name", metavar="NAME", help="the cluster's name on NATS (default xentara)")
    serve.set_defaults(handler=run_serve)


def serve_options(args: argparse.Namespace) -> ServeOptions:
    """The typed options `server/` takes, from the parsed `serve` command line (the one place that reads it)."""
    from .server.options import ServeOptions

    def path(value: str | None) -> Path | None:
        return Path(value) if value is not None else None

    return ServeOptions(
        config=path(args.config),
        model=path(args.model),
        host=args.host,
        port=args.port,
        tls=not args.no_tls,
        allow_shutdown=args.allow_shutdown,
        www=path(args.www),
        schema_dir=path(args.schema_dir),
        state_dir=path(args.state_dir),
        reload_interval=args.reload_interval,
        max_message_size=args.max_message_size,
        max_packets=args.max_packets,
        hello_timeout=args.hello_timeout,
        send_timeout=args.send_timeout,
        max_subscriptions=args.max_subscriptions,
        max_subscription_attributes=args.max_subscription_attributes,
        max_sub_sessions=args.max_sub_sessions,
        max_sub_sessions_total=args.max_sub_sessions_total,
        max_connections=args.max_connections,
        max_reply_size=args.max_reply_size,
        max_connection_subscription_attributes=args.max_connection_subscription_attributes,
        max_total_subscription_attributes=args.max_total_subscription_attributes,
        max_outgoing_buffer=args.max_outgoing_buffer,
        max_total_outgoing_buffer=args.max_total_outgoing_buffer,
        login_workers=args.login_workers,
        max_pending_logins=args.max_pending_logins,
        cluster=args.cluster,
        node_name=args.node_name,
        cluster_name=args.cluster_name,
    )


def run_serve(args: argparse.Namespace) -> int:
    from .server.bootstrap import serve_forever
    from .server.serve_plan import ServeError

    try:
        return serve_forever(serve_options(args))
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
