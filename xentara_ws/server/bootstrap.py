"""`xentara-ws serve`: turn command-line options and a configuration folder into a running server."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import json
import logging
import socket
from pathlib import Path
from typing import Any

from ..edge import API_PATH
from ..model import ModelError, Simulation, load_model
from ..sessions.storage import StoreUnavailable
from .app import XentaraServer
from .limits import Limits
from .options import ServeOptions
from .security_reload import DEFAULT_INTERVAL, LiveSecurity, SecurityReloader, SecuritySet, delegates
from .security_setup import configure_security, state_dir
from .serve_plan import ServeError, ServePlan, schema_dir

logger = logging.getLogger(__name__)

DEFAULT_PORT = 8080


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


def plan(options: ServeOptions) -> ServePlan:
    """Decide what to serve from the options; raises ServeError naming what is wrong."""
    from ..demo import DEMO_DIR

    if options.config and options.model:
        raise ServeError("give either --config DIR or --model FILE, not both")
    demo = not options.config and not options.model
    config_dir: Path | None
    if options.model:
        config_dir = None
        model_path = options.model
        if not model_path.is_file():
            raise ServeError(f"--model {options.model}: no such file")
    else:
        config_dir = options.config if options.config else DEMO_DIR
        if config_dir.is_file():
            raise ServeError(
                f"--config {options.config} is a file; it expects the configuration folder that holds config.json "
                f"and model.json (--config {config_dir.parent}?), or use --model FILE for a model file alone"
            )
        if not config_dir.is_dir():
            raise ServeError(f"--config {options.config}: no such directory")
        model_path = config_dir / "model.json"
        if not model_path.is_file():
            raise ServeError(f"{config_dir}: there is no model.json in the configuration folder")
    port = options.port
    if port is None and config_dir is not None:
        port = _read_port(config_dir)
    if port is None:
        port = DEFAULT_PORT
    if not 0 <= port <= 65535:
        raise ServeError(f"--port {port}: must be from 0 to 65535")
    www = options.www
    if www is not None and not www.is_dir():
        raise ServeError(f"--www {www}: no such directory")
    return ServePlan(model_path=model_path, config_dir=config_dir, host=options.host, port=port, demo=demo, www=www)


def limits_from(options: ServeOptions) -> Limits:
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
        ("max_reply_size", "max_reply_size"),
        ("max_connection_subscription_attributes", "max_connection_subscription_attributes"),
        ("max_total_subscription_attributes", "max_total_subscription_attributes"),
        ("max_outgoing_buffer", "max_outgoing_buffer"),
        ("max_total_outgoing_buffer", "max_total_outgoing_buffer"),
    ):
        value = getattr(options, option)
        if value is not None:
            if value <= 0:
                raise ServeError(f"--{option.replace('_', '-')} must be positive, not {value}")
            overrides[name] = value
    return Limits(**overrides)


def build_server(options: ServeOptions) -> tuple[XentaraServer, ServePlan]:
    serve_plan = plan(options)
    try:
        model = load_model(serve_plan.model_path, schema_path=_model_schema(options))
    except ModelError as error:
        raise ServeError(f"the model cannot be served:\n{error}") from None
    # The served model lives as long as the process: move it out of the collector's reach, or
    # each full collection walks every element again (about 0.25 s for 100,000, on the event loop).
    gc.freeze()
    from ..sessions.storage import SqliteStore

    configure_security(serve_plan, options)
    _warn_about_missing_files(serve_plan)
    _make_reloadable(serve_plan, options)
    folder = state_dir(options)
    # In a cluster the registry lives in NATS (xentara_ws/cluster/sub_sessions.py), not in a local file.
    clustered = bool(options.cluster)
    server = XentaraServer(
        model,
        simulation=Simulation(model),
        access=serve_plan.access,
        gatekeeper=serve_plan.gatekeeper,
        sub_session_authenticator=serve_plan.sub_session_authenticator,
        limits=limits_from(options),
        shutdown_enabled=options.allow_shutdown,
        sub_session_store=None if clustered else (lambda: SqliteStore(folder)),
        console=True,
        www=serve_plan.www,
    )
    return server, serve_plan


def _warn_about_missing_files(serve_plan: ServePlan) -> None:
    """Say at start what would otherwise only show as refused logins or an unexpected certificate."""
    folder = serve_plan.config_dir
    if folder is None:
        return
    passwords = folder / "passwords.json"
    if not passwords.is_file():
        message = (
            f"WARNING: there is no {passwords}: no user can log in with a password "
            f"(every Basic login is refused with 401); set one with `xentara-ws passwd --config {folder} USER`"
        )
        logger.warning("%s", message)
        serve_plan.notes.append(message)
    certificate, key = folder / "certs" / "xentara.pem", folder / "private" / "xentara.key.pem"
    self_signed = any("self-signed certificate" in note for note in serve_plan.notes)
    if serve_plan.ssl_context is not None and self_signed and certificate.is_file() and not key.is_file():
        serve_plan.notes.append(
            f"WARNING: {certificate} is not used because its key {key} is missing: "
            "serving a self-signed certificate instead; put the key there to serve your certificate"
        )


def _make_reloadable(serve_plan: ServePlan, options: ServeOptions) -> None:
    """Hand the server delegates of one swappable set, and a reloader that rebuilds it as `serve` built it."""
    config_dir = serve_plan.config_dir
    if config_dir is None or serve_plan.gatekeeper is None:
        return
    live = LiveSecurity(SecuritySet(serve_plan.gatekeeper, serve_plan.access, serve_plan.sub_session_authenticator))
    # TLS is set up once at start (the listening socket keeps its context); a reload rebuilds the rest.
    rebuild_options = dataclasses.replace(options, tls=False)

    def build() -> SecuritySet:
        fresh = ServePlan(model_path=serve_plan.model_path, config_dir=config_dir, host="", port=0, demo=False)
        configure_security(fresh, rebuild_options, previous=live.current.authenticator)
        return SecuritySet(fresh.gatekeeper, fresh.access, fresh.sub_session_authenticator)

    serve_plan.gatekeeper, serve_plan.access, serve_plan.sub_session_authenticator = delegates(live)
    interval = options.reload_interval
    serve_plan.reloader = SecurityReloader(
        config_dir, live, build, DEFAULT_INTERVAL if interval is None else max(0.0, interval)
    )


def _model_schema(options: ServeOptions) -> Path | None:
    folder = schema_dir(options)
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
        where = "every address" if serve_plan.host is None else serve_plan.host
        raise ServeError(f"cannot listen on {where} port {serve_plan.port}: {error.strerror or error}") from None
    except StoreUnavailable as error:
        raise ServeError(str(error)) from None
    serve_plan.port = server.port
    server.stop_on_signals()  # before the announcement, so that a signal right after it is handled
    if serve_plan.reloader is not None:
        await serve_plan.reloader.start()
    print(f"xentara-ws serving {serve_plan.model_path} at {serve_plan.url}", flush=True)
    for note in serve_plan.notes:
        print(note, flush=True)
    if serve_plan.host is None:
        print(_other_machines_note(serve_plan), flush=True)
    try:
        await server.serve_until_stopped()
    finally:
        if serve_plan.reloader is not None:
            await serve_plan.reloader.close()


def _other_machines_note(serve_plan: ServePlan) -> str:
    """Listening on every address: tell how other machines reach it (and verify a self-signed certificate)."""
    scheme = "wss" if serve_plan.ssl_context is not None else "ws"
    note = f"listening on every IPv4 and IPv6 address; from other machines: {scheme}://{socket.gethostname()}:"
    note += f"{serve_plan.port}{API_PATH}"
    if serve_plan.ssl_context is not None:
        note += " with --fingerprint (the SHA-256 above) to verify the certificate"
    return note


async def _join_cluster(server: XentaraServer, options: ServeOptions) -> Any:
    """`--cluster URL`: join the other nodes before listening (see xentara_ws/cluster)."""
    if not options.cluster:
        return None
    try:
        from ..cluster import ClusterError, ClusterNode, ClusterOptions
    except ImportError as error:
        raise ServeError(f"--cluster needs the cluster extra (pip install 'xentara-ws[cluster]'): {error}") from None
    cluster = ClusterOptions(
        url=options.cluster,
        node_name=options.node_name or "",
        cluster_name=options.cluster_name or "xentara",
    )
    try:
        return await ClusterNode.join(server, cluster)
    except ClusterError as error:
        raise ServeError(str(error)) from None


def serve_forever(options: ServeOptions) -> int:
    fast = use_uvloop()

    async def main() -> None:
        server, serve_plan = build_server(options)
        if fast:
            logger.debug("running on uvloop")
        node = await _join_cluster(server, options)
        try:
            await _serve(server, serve_plan)
        finally:
            if node is not None:
                await node.close()

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C before the server was up
        asyncio.run(main())
    return 0
