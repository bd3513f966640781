"""`xentara-ws serve`: turn command-line options and a configuration folder into a running server."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..edge import API_PATH, Gatekeeper
from ..model import ModelError, Simulation, load_model
from ..sessions.storage import StoreUnavailable
from .access import AccessPolicy, SubSessionAuthenticator
from .app import XentaraServer
from .limits import Limits

logger = logging.getLogger(__name__)

DEFAULT_PORT = 8080


class ServeError(Exception):
    """A problem with the options or the configuration that stops the server from starting."""


@dataclass
class ServePlan:
    """Everything `serve` decided before it starts listening."""

    model_path: Path
    config_dir: Path | None
    host: str
    port: int
    demo: bool
    ssl_context: ssl.SSLContext | None = None
    gatekeeper: Gatekeeper | None = None
    access: AccessPolicy | None = None
    sub_session_authenticator: SubSessionAuthenticator | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        scheme = "wss" if self.ssl_context is not None else "ws"
        host = "127.0.0.1" if self.host in ("0.0.0.0", "", "::") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"{scheme}://{host}:{self.port}{API_PATH}"


def _read_port(config_dir: Path) -> int | None:
    path = config_dir / "config.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ServeError(f"{path}: line {error.lineno} column {error.colno}: {error.msg}") from None
    server = data.get("httpServer") if isinstance(data, dict) else None
    if isinstance(server, dict) and "port" in server:
        port = server["port"]
        if type(port) is not int or not 1 <= port <= 65535:
            raise ServeError(f"{path}: $.httpServer.port: must be an integer from 1 to 65535, not {port!r}")
        return port
    return None


def plan(args: argparse.Namespace) -> ServePlan:
    """Decide what to serve from the options; raises ServeError naming what is wrong."""
    from ..demo import DEMO_DIR

    if args.config and args.model:
        raise ServeError("give either --config DIR or --model FILE, not both")
    demo = not args.config and not args.model
    config_dir: Path | None
    if args.model:
        config_dir = None
        model_path = Path(args.model)
        if not model_path.is_file():
            raise ServeError(f"--model {args.model}: no such file")
    else:
        config_dir = Path(args.config) if args.config else DEMO_DIR
        if not config_dir.is_dir():
            raise ServeError(f"--config {args.config}: no such directory")
        model_path = config_dir / "model.json"
        if not model_path.is_file():
            raise ServeError(f"{config_dir}: there is no model.json in the configuration folder")
    port = args.port
    if port is None and config_dir is not None:
        port = _read_port(config_dir)
    if port is None:
        port = DEFAULT_PORT
    if not 0 <= port <= 65535:
        raise ServeError(f"--port {port}: must be from 0 to 65535")
    return ServePlan(model_path=model_path, config_dir=config_dir, host=args.host, port=port, demo=demo)


def limits_from(args: argparse.Namespace) -> Limits:
    overrides: dict[str, Any] = {}
    for option, name in (
        ("max_message_size", "max_message_size"),
        ("max_packets", "max_packets_per_message"),
        ("hello_timeout", "client_hello_timeout"),
        ("send_timeout", "send_timeout"),
        ("max_subscriptions", "max_subscriptions"),
        ("max_subscription_attributes", "max_subscription_attributes"),
        ("max_sub_sessions", "max_sub_sessions"),
        ("max_sub_sessions_total", "max_sub_sessions_total"),
        ("max_connections", "max_connections"),
    ):
        value = getattr(args, option, None)
        if value is not None:
            if value <= 0:
                raise ServeError(f"--{option.replace('_', '-')} must be positive, not {value}")
            overrides[name] = value
    return Limits(**overrides)


def build_server(args: argparse.Namespace) -> tuple[XentaraServer, ServePlan]:
    serve_plan = plan(args)
    try:
        model = load_model(serve_plan.model_path, schema_path=_model_schema(args))
    except ModelError as error:
        raise ServeError(f"the model cannot be served:\n{error}") from None
    from ..sessions.storage import SqliteStore
    from .security_setup import configure_security, state_dir

    configure_security(serve_plan, args)
    folder = state_dir(args)
    server = XentaraServer(
        model,
        simulation=Simulation(model),
        access=serve_plan.access,
        gatekeeper=serve_plan.gatekeeper,
        sub_session_authenticator=serve_plan.sub_session_authenticator,
        limits=limits_from(args),
        shutdown_enabled=args.allow_shutdown,
        sub_session_store=lambda: SqliteStore(folder),
    )
    return server, serve_plan


def schema_dir(args: argparse.Namespace) -> Path | None:
    """The folder of the vendor's schema-xentara-*.json files, if the operator named one."""
    value = getattr(args, "schema_dir", None) or os.environ.get("XENTARA_SCHEMA_DIR")
    if not value:
        return None
    folder = Path(value)
    if not folder.is_dir():
        raise ServeError(f"--schema-dir {value}: no such directory")
    return folder


def _model_schema(args: argparse.Namespace) -> Path | None:
    folder = schema_dir(args)
    if folder is None:
        return None  # the loader still honours XENTARA_MODEL_SCHEMA, and always runs its own checks
    schema = folder / "schema-xentara-model.json"
    if not schema.is_file():
        raise ServeError(f"{folder}: there is no schema-xentara-model.json")
    return schema


def use_uvloop() -> bool:
    """Run on uvloop when it is installed (`pip install xentara-ws[fast]`)."""
    try:
        import uvloop
    except ImportError:
        return False
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return True


async def _serve(server: XentaraServer, serve_plan: ServePlan) -> None:
    try:
        await server.start(serve_plan.host, serve_plan.port, serve_plan.ssl_context)
    except OSError as error:
        raise ServeError(f"cannot listen on {serve_plan.host}:{serve_plan.port}: {error.strerror or error}") from None
    except StoreUnavailable as error:
        raise ServeError(str(error)) from None
    serve_plan.port = server.port
    server.stop_on_signals()  # before the announcement, so that a signal right after it is handled
    print(f"xentara-ws serving {serve_plan.model_path} at {serve_plan.url}", flush=True)
    for note in serve_plan.notes:
        print(note, flush=True)
    await server.serve_until_stopped()


def serve_forever(args: argparse.Namespace) -> int:
    fast = use_uvloop()

    async def main() -> None:
        server, serve_plan = build_server(args)
        if fast:
            logger.debug("running on uvloop")
        await _serve(server, serve_plan)

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C before the server was up
        asyncio.run(main())
    return 0
