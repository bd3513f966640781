"""Client sub-commands of the `xentara-ws` command line (info, browse, lookup, read, write, ...)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TextIO

from ..protocol.errors import ErrorCode
from ..protocol.identifiers import Attribute, ElementCategory
from ..protocol.identifiers import MetaData as MetaDataId
from .connection import DEFAULT_URL, XentaraClient
from .formatting import (
    format_value,
    json_value,
    parse_attribute,
    parse_category,
    parse_value,
    split_primary_key,
    tree_order,
)
from .types import AttributeKey, ConnectionFailed, Values, XentaraError

Action = Callable[[XentaraClient, argparse.Namespace, TextIO], Awaitable[int]]

_DEFAULT_ATTRIBUTES = ("value", "quality", "changeTime")


class CommandFailed(Exception):
    """A failure the CLI explains in one line (already worded for the user)."""


def add_commands(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the client sub-commands to the `xentara-ws` parser."""
    _add(subparsers, "info", "show the server's version, model file and operational stage", _info)

    browse = _add(subparsers, "browse", "show the model tree", _browse)
    browse.add_argument("key", nargs="?", metavar="KEY", help="start element (primary key or UUID; default: the root)")
    browse.add_argument("--depth", type=int, metavar="N", help="levels to show (default: all)")
    browse.add_argument(
        "--category",
        action="append",
        type=_category_argument,
        metavar="CATEGORY",
        help="only elements of this category (e.g. data-point, element-group or an id); repeatable",
    )

    lookup = _add(subparsers, "lookup", "print the UUID of an element", _lookup)
    lookup.add_argument("key", metavar="KEY", help="primary key, e.g. Plant.Tank.Level")

    read = _add(subparsers, "read", "read attributes of an element", _read)
    read.add_argument("key", metavar="KEY_OR_UUID")
    read.add_argument(
        "attributes",
        nargs="*",
        metavar="ATTR",
        help="attribute names or ids (default: value quality changeTime)",
    )

    write = _add(subparsers, "write", "write one attribute of an element", _write)
    write.add_argument("key", metavar="KEY_OR_UUID")
    write.add_argument(
        "attribute", nargs="?", default="value", metavar="ATTR", help="attribute name or id (default: value)"
    )
    write.add_argument("value", metavar="VALUE", help="parsed by the attribute's data type (true, 42, 2.5, text)")
    write.add_argument("--sub-session", type=uuid.UUID, metavar="UUID", help=argparse.SUPPRESS)

    subscribe = _add(subparsers, "subscribe", "show live values until Ctrl-C", _subscribe)
    subscribe.add_argument("keys", nargs="+", metavar="KEY")
    subscribe.add_argument(
        "--attr",
        action="append",
        dest="attributes",
        metavar="ATTR",
        help="attribute to watch (default: value quality changeTime); repeatable",
    )
    subscribe.add_argument("--count", type=int, metavar="N", help="stop after N updates")
    subscribe.add_argument("--max-rate", type=int, metavar="MS", help="at most one update per element every MS ms")
    subscribe.add_argument("--min-rate", type=int, metavar="MS", help="heartbeat: an update at least every MS ms")

    login = _add(subparsers, "login", "log a user in on a sub-session and show their read/write access", _login)
    login.add_argument("--login-user", metavar="NAME", help="the person to log in")
    login.add_argument("--login-password", metavar="PASSWORD", help="their password (or XENTARA_LOGIN_PASSWORD)")
    login.add_argument("--login-token", metavar="TOKEN", help="log in with an OAuth 2.0 token instead")


def _category_argument(text: str) -> ElementCategory:
    try:
        return parse_category(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _add(subparsers: Any, name: str, help_text: str, action: Action) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(name, help=help_text, description=help_text)
    parser.add_argument(
        "--url", default=os.environ.get("XENTARA_URL", DEFAULT_URL), help=f"default $XENTARA_URL, else {DEFAULT_URL}"
    )
    parser.add_argument("--user", default=None, help="user for Basic authentication (or XENTARA_USER)")
    parser.add_argument("--password", default=None, help="password (or XENTARA_PASSWORD)")
    parser.add_argument("--token", default=None, help="Bearer token instead of user/password (or XENTARA_TOKEN)")
    parser.add_argument("--insecure", action="store_true", help="do not verify the server's TLS certificate")
    parser.add_argument("--ca-file", metavar="FILE", help="trust the CA certificate(s) in this PEM file")
    parser.add_argument(
        "--fingerprint", metavar="SHA256", help="trust only a certificate with this SHA-256 fingerprint"
    )
    parser.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS", help="connect/request timeout")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--log-level", default=argparse.SUPPRESS, choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="logging level"
    )
    parser.set_defaults(handler=lambda args: run(action, args))
    return parser


def run(action: Action, args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run one client command; every failure becomes one line on stderr and a non-zero exit code."""
    out = out if out is not None else sys.stdout
    try:
        return asyncio.run(_session(action, args, out))
    except KeyboardInterrupt:
        return 130
    except CommandFailed as error:
        print(f"xentara-ws: {error}", file=sys.stderr)
        return 1
    except ConnectionFailed as error:
        print(f"xentara-ws: {explain_connection_failure(error, args)}", file=sys.stderr)
        return 2
    except XentaraError as error:
        print(f"xentara-ws: {explain_error(error, args)}", file=sys.stderr)
        return 1
    except ValueError as error:
        print(f"xentara-ws: {error}", file=sys.stderr)
        return 2


async def _session(action: Action, args: argparse.Namespace, out: TextIO) -> int:
    user = args.user if args.user is not None else os.environ.get("XENTARA_USER")
    password = args.password if args.password is not None else os.environ.get("XENTARA_PASSWORD")
    token = args.token if args.token is not None else os.environ.get("XENTARA_TOKEN")
    if token is not None and user is not None:
        user = None  # an explicit token wins over a user from the environment
    if args.insecure and args.fingerprint is None:
        # One short notice instead of the library's logged warning on every connection.
        logging.getLogger("xentara_ws.client.tls").setLevel(logging.ERROR)
        print("xentara-ws: note: not verifying the server's certificate (--insecure)", file=sys.stderr)
    client = XentaraClient(
        args.url,
        user=user,
        password=password,
        token=token,
        ca_file=args.ca_file,
        fingerprint=args.fingerprint,
        insecure=args.insecure,
        reconnect=action is _subscribe,
        open_timeout=args.timeout,
        request_timeout=args.timeout,
    )
    async with client:
        return await action(client, args, out)


def explain_connection_failure(error: ConnectionFailed, args: argparse.Namespace) -> str:
    url = args.url
    if error.kind == "refused":
        return f"connection refused by {url}: is the server running? Start it with `xentara-ws serve` or check --url"
    if error.kind == "tls":
        return (
            f"TLS failure talking to {url} ({error}): pass --ca-file FILE to trust its certificate, "
            "or --insecure for a test server"
        )
    if error.kind == "unauthorized":
        return (
            "the server rejected the credentials (HTTP 401): check --user/--password (or XENTARA_USER/XENTARA_PASSWORD)"
        )
    if error.kind == "forbidden":
        return (
            "the server refused the connection (HTTP 403): the user lacks the websocket.connect entitlement; "
            "check the user's roles"
        )
    if error.kind == "too_many_requests":
        return f"{error}; then check --user/--password (or XENTARA_USER/XENTARA_PASSWORD)"
    if error.kind in ("plain_to_tls", "ca_file"):
        return str(error)
    if error.kind == "not_found":
        return f"no WebSocket API at {url} (HTTP 404): the path is /api/ws, check --url"
    if error.kind == "timeout":
        return f"{error}: check --url and that the server is reachable, or raise --timeout"
    return f"{error}: check --url"


def explain_error(error: XentaraError, args: argparse.Namespace) -> str:
    key = getattr(args, "key", None) or " ".join(getattr(args, "keys", None) or ())
    if error.code == ErrorCode.UNKNOWN_ELEMENT:
        return f"unknown element {key!r}: list the elements with `xentara-ws browse`"
    if error.code == ErrorCode.ACCESS_DENIED:
        return f"access denied ({error.message}): check the user's roles, or log in with a user that may do this"
    if error.code == ErrorCode.MISSING_ATTRIBUTE:
        return f"{error.message}: list the element's attributes with `xentara-ws read {key} --json` or meta data"
    name = error.code.name.lower().replace("_", " ") if isinstance(error.code, ErrorCode) else "error"
    return f"the server answered {int(error.code)} ({name}): {error.message}"


def _emit_json(out: TextIO, data: Any) -> None:
    out.write(json.dumps(data, ensure_ascii=False) + "\n")
    out.flush()


# -- commands ------------------------------------------------------------------------------------


async def _info(client: XentaraClient, args: argparse.Namespace, out: TextIO) -> int:
    information, stage = await asyncio.gather(client.server_information(), client.get_stage())
    data = {
        "url": args.url,
        "version": information.get(0),
        "user_name": information.get(1),
        "model_file_path": information.get(2),
        "stage": json_value(stage),
        "protocol_version": client.protocol_version,
    }
    if args.json:
        _emit_json(out, data)
    else:
        # Key 1 is the OS account the server process runs as, not the client's user.
        labels = {"user_name": "server runs as"}
        out.writelines(f"{labels.get(key, key.replace('_', ' '))}: {value}\n" for key, value in data.items())
    return 0


async def _browse(client: XentaraClient, args: argparse.Namespace, out: TextIO) -> int:
    start = args.key
    base_level = 0
    if start is not None:
        start_uuid = await client.resolve(start)
        meta = await client.meta_data(start_uuid, [MetaDataId.PRIMARY_KEY])
        base_level = len(split_primary_key(meta.primary_key or ""))
        elements = await client.browse(start_uuid, depth=args.depth, categories=args.category)
    else:
        elements = await client.browse(depth=args.depth, categories=args.category)
    if args.json:
        _emit_json(
            out,
            [{"primary_key": e.primary_key, "uuid": str(e.uuid), "category": json_value(e.category)} for e in elements],
        )
        return 0
    shown: set[tuple[str, ...]] = set()
    for element in tree_order(elements):
        parts = split_primary_key(element.primary_key)
        # A filtered listing (--category) leaves out parents: name them, so that every line sits in its tree.
        for level in range(base_level + 1, len(parts)):
            if tuple(parts[:level]) not in shown:
                shown.add(tuple(parts[:level]))
                out.write(f"{'  ' * (level - 1 - base_level)}{parts[level - 1]}\n")
        shown.add(tuple(parts))
        indent = "  " * max(0, len(parts) - 1 - base_level)
        category = element.category.text if isinstance(element.category, ElementCategory) else str(element.category)
        out.write(f"{indent}{parts[-1] if parts else element.primary_key}  ({category})  {element.uuid}\n")
    if not elements:
        out.write("(no elements)\n")
    return 0


async def _lookup(client: XentaraClient, args: argparse.Namespace, out: TextIO) -> int:
    element_uuid = await client.lookup(args.key)
    if args.json:
        _emit_json(out, {"primary_key": args.key, "uuid": str(element_uuid)})
    else:
        out.write(f"{element_uuid}\n")
    return 0


async def _resolve_attributes(
    client: XentaraClient, element: uuid.UUID, names: Sequence[str]
) -> list[tuple[str, AttributeKey]]:
    """Standard names/ids resolve locally; other names are looked up in the element's meta data."""
    resolved: list[tuple[str, AttributeKey]] = []
    meta = None
    for name in names:
        key = parse_attribute(name)
        if key is None:
            if meta is None:
                meta = await client.meta_data(element, [MetaDataId.ATTRIBUTE_LIST])
            info = meta.attribute(name)
            if info is None:
                known = ", ".join(i.name for i in meta.attributes or ())
                raise CommandFailed(f"the element has no attribute {name!r}; it has: {known}")
            key = info.id
        label = key.attribute_name if isinstance(key, Attribute) else name
        resolved.append((label, key))
    return resolved


def _values_json(labels: Sequence[tuple[str, AttributeKey]], values: Values) -> dict[str, Any]:
    return {label: json_value(values.get(key)) for label, key in labels}


async def _read(client: XentaraClient, args: argparse.Namespace, out: TextIO) -> int:
    element = await client.resolve(args.key)
    labels = await _resolve_attributes(client, element, args.attributes or _DEFAULT_ATTRIBUTES)
    values = await client.read(element, [key for _, key in labels])
    if args.json:
        _emit_json(out, {"element": args.key, "uuid": str(element), "values": _values_json(labels, values)})
    else:
        width = max(len(label) for label, _ in labels)
        out.writelines(f"{label:<{width}}  {format_value(values.get(key))}\n" for label, key in labels)
    if values.errors:
        # Exit code 1 means "the server answered with an error"; say so, since the values went to stdout.
        failed = [label for label, key in labels if isinstance(values.get(key), XentaraError)]
        print(f"xentara-ws: the server could not read {', '.join(failed)} (exit code 1)", file=sys.stderr)
        return 1
    return 0


async def _write(client: XentaraClient, args: argparse.Namespace, out: TextIO) -> int:
    element = await client.resolve(args.key)
    meta = await client.meta_data(element, [MetaDataId.ATTRIBUTE_LIST])
    key = parse_attribute(args.attribute)
    info = meta.attribute(key if key is not None else args.attribute)
    if info is None:
        known = ", ".join(i.name for i in meta.attributes or ())
        raise CommandFailed(f"the element has no attribute {args.attribute!r}; it has: {known}")
    try:
        value = parse_value(args.value, info.data_type)
    except ValueError as error:
        raise CommandFailed(f"cannot write {args.value!r} to {info.name}: {error}") from None
    await client.write(element, value, info.id, sub_session=args.sub_session)
    if args.json:
        _emit_json(out, {"element": args.key, "attribute": info.name, "value": json_value(value), "ok": True})
    else:
        out.write(f"wrote {format_value(value)} to {args.key} {info.name}\n")
    return 0


async def _subscribe(client: XentaraClient, args: argparse.Namespace, out: TextIO) -> int:
    uuids = [await client.resolve(key) for key in args.keys]
    names = dict(zip(uuids, args.keys, strict=False))
    labels = await _resolve_attributes(client, uuids[0], args.attributes or _DEFAULT_ATTRIBUTES)
    subscription = await client.subscribe(
        uuids, [key for _, key in labels], max_update_rate=args.max_rate, min_update_rate=args.min_rate
    )
    live = not args.json and out.isatty()
    rows: dict[uuid.UUID, Values] = {}
    received = 0
    async with subscription:
        async for change in subscription:
            received += 1
            if args.json:
                _emit_json(
                    out,
                    {
                        "element": names.get(change.element, str(change.element)),
                        "uuid": str(change.element),
                        "values": _values_json(labels, change.values),
                    },
                )
            else:
                rows[change.element] = subscription.latest[change.element]
                if live:
                    # Redraw the whole table in place: cursor home, clear screen.
                    out.write("\x1b[H\x1b[2J")
                    _table(out, labels, uuids, names, rows)
                else:
                    values = "  ".join(
                        f"{label}={format_value(change.values.get(key))}"
                        for label, key in labels
                        if key in change.values
                    )
                    out.write(f"{names.get(change.element, change.element)}  {values}\n")
                out.flush()
            if args.count is not None and received >= args.count:
                break
    return 0


def _table(
    out: TextIO,
    labels: Sequence[tuple[str, AttributeKey]],
    order: Sequence[uuid.UUID],
    names: dict[uuid.UUID, str],
    rows: dict[uuid.UUID, Values],
) -> None:
    header = ["element"] + [label for label, _ in labels]
    lines = [header]
    for element in order:
        values = rows.get(element, Values())
        cells = [format_value(values.get(key)) if key in values else "" for _, key in labels]
        lines.append([names[element], *cells])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out.writelines(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=False)).rstrip() + "\n"
        for line in lines
    )
    out.write("(Ctrl-C to stop)\n")


async def _login(client: XentaraClient, args: argparse.Namespace, out: TextIO) -> int:
    if args.login_token is not None:
        session = await client.create_sub_session(token=args.login_token)
        who = "token"
    else:
        user = args.login_user or os.environ.get("XENTARA_LOGIN_USER")
        password = args.login_password if args.login_password is not None else os.environ.get("XENTARA_LOGIN_PASSWORD")
        if not user:
            raise CommandFailed("say who logs in: --login-user NAME --login-password PASSWORD (or --login-token)")
        try:
            session = await client.create_sub_session(user=user, password=password or "")
        except XentaraError as error:
            if error.code != ErrorCode.ACCESS_DENIED:
                raise
            raise CommandFailed(
                f"the login of {user} failed ({error.message}): check --login-user and --login-password"
            ) from None
        who = user
    try:
        access = await client.check_access(session)
    finally:
        await client.close_sub_session(session)
    if args.json:
        _emit_json(out, {"user": who, "sub_session": str(session), "read": access.read, "write": access.write})
    else:
        out.write(f"logged in {who} (sub-session {session})\n")
        out.write(f"read access:  {'yes' if access.read else 'no'}\n")
        out.write(f"write access: {'yes' if access.write else 'no'}\n")
    return 0
