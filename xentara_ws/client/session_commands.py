"""`xentara-ws sessions list|describe|alter|ban|unban|delete`: administering sub-sessions from the command line."""

from __future__ import annotations

import argparse
import dataclasses
import uuid
from typing import Any, TextIO

from .commands import _add, _emit_json
from .connection import XentaraClient
from .formatting import json_value
from .sub_sessions import SubSessionDescription, SubSessionSummary
from .types import XentaraError


def add_session_commands(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sessions = subparsers.add_parser(
        "sessions",
        help="list, describe, alter, ban, unban or delete sub-sessions",
        description="Administer sub-sessions (your own; all of them with the sessions.admin entitlement).",
    )
    commands = sessions.add_subparsers(dest="sessions_command", metavar="ACTION", required=True)
    listing = _add(commands, "list", "list the sub-sessions this connection may see", _list)
    listing.add_argument("--all", action="store_true", help="include hidden ones")
    listing.add_argument("--owner", metavar="IDENTITY", help="only those of this owner, e.g. user:operator")
    listing.add_argument("--status", choices=["normal", "hidden", "banned", "inactive"], help="only this status")
    describe = _add(commands, "describe", "show everything about sub-sessions", _describe)
    describe.add_argument("ids", nargs="+", type=uuid.UUID, metavar="UUID")
    alter = _add(commands, "alter", "change a sub-session's options", _alter)
    alter.add_argument("id", type=uuid.UUID, metavar="UUID")
    alter.add_argument("--description", metavar="TEXT")
    alter.add_argument("--keep-alive", type=int, metavar="SECONDS")
    alter.add_argument("--expiry", type=int, metavar="SECONDS", help="4294967296 = never")
    alter.add_argument("--status", choices=["normal", "hidden", "inactive"])
    alter.add_argument("--no-will", action="store_true", help="remove the last will")
    for name, help_text, action in (
        ("ban", "ban a sub-session (detaches it at once; needs sessions.admin)", _ban),
        ("unban", "lift a ban (needs sessions.admin)", _unban),
        ("delete", "delete a sub-session and its subscriptions", _delete),
    ):
        _add(commands, name, help_text, action).add_argument("id", type=uuid.UUID, metavar="UUID")


def _summary_json(summary: SubSessionSummary) -> dict[str, Any]:
    return {
        "id": str(summary.id),
        "owner": summary.owner,
        "status": summary.status,
        "permanent": summary.permanent,
        "connected": summary.connected,
        "health": summary.health,
    }


def _description_json(description: SubSessionDescription) -> dict[str, Any]:
    will = description.last_will
    return {
        "id": str(description.id),
        "owner": description.owner,
        "creator": description.creator,
        "method": ("token", "certificate", "password")[description.method] if 0 <= description.method <= 2 else None,
        "status": description.status,
        "permanent": description.permanent,
        "keep_alive_s": description.keep_alive,
        "expiry_s": description.expiry,
        "description": description.description,
        "connected": description.connected,
        "peer": description.peer,
        "created": json_value(description.created),
        "last_activity": json_value(description.last_activity),
        "expires_at": json_value(description.expires_at),
        "health": description.health,
        "health_reasons": description.health_reasons,
        "counters": description.counters,
        "health_thresholds": dataclasses.asdict(description.thresholds),
        "last_will": None
        if will is None
        else {
            "element": str(will.element),
            "attribute": json_value(will.attribute),
            "value": json_value(will.value),
            "delay_s": will.delay,
        },
    }


def _table(out: TextIO, rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    out.writelines("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n" for row in rows)


async def _list(client: XentaraClient, args: argparse.Namespace, out: TextIO) -> int:
    summaries = await client.list_sub_sessions(include_hidden=args.all, owner=args.owner, status=args.status)
    if args.json:
        _emit_json(out, [_summary_json(s) for s in summaries])
        return 0
    if not summaries:
        out.write("(no sub-sessions)\n")
        return 0
    rows = [["id", "owner", "status", "kind", "connected", "health"]]
    rows += [
        [
            str(s.id),
            s.owner,
            s.status,
            "permanent" if s.permanent else "temporary",
            "yes" if s.connected else "no",
            s.health,
        ]
        for s in summaries
    ]
    _table(out, rows)
    return 0


def _write_description(out: TextIO, description: SubSessionDescription) -> None:
    data = _description_json(description)
    width = max(len(key) for key in data)
    for key, value in data.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        elif isinstance(value, list):
            value = "; ".join(value) or "-"
        out.write(f"{key.replace('_', ' '):<{width}}  {'-' if value is None else value}\n")


async def _describe(client: XentaraClient, args: argparse.Namespace, out: TextIO) -> int:
    items = await client.describe_sub_sessions(args.ids)
    failed = any(isinstance(item, XentaraError) for item in items)
    if args.json:
        _emit_json(
            out,
            [
                {"id": str(i), "error": int(item.code), "message": item.message}
                if isinstance(item, XentaraError)
                else _description_json(item)
                for i, item in zip(args.ids, items, strict=True)
            ],
        )
        return 1 if failed else 0
    for index, (session_id, item) in enumerate(zip(args.ids, items, strict=True)):
        if index:
            out.write("\n")
        if isinstance(item, XentaraError):
            out.write(f"{session_id}: {item.message} ({int(item.code)})\n")
        else:
            _write_description(out, item)
    return 1 if failed else 0


async def _show(
    client: XentaraClient, args: argparse.Namespace, out: TextIO, description: SubSessionDescription
) -> int:
    if args.json:
        _emit_json(out, _description_json(description))
    else:
        _write_description(out, description)
    return 0


async def _alter(client: XentaraClient, args: argparse.Namespace, out: TextIO) -> int:
    options: dict[str, Any] = {}
    if args.description is not None:
        options["description"] = args.description
    if args.keep_alive is not None:
        options["keep_alive"] = args.keep_alive
    if args.expiry is not None:
        options["expiry"] = args.expiry
    if args.status is not None:
        options["status"] = args.status
    if args.no_will:
        options["last_will"] = None
    return await _show(client, args, out, await client.alter_sub_session(args.id, **options))


async def _ban(client: XentaraClient, args: argparse.Namespace, out: TextIO) -> int:
    return await _show(client, args, out, await client.alter_sub_session(args.id, status="banned"))


async def _unban(client: XentaraClient, args: argparse.Namespace, out: TextIO) -> int:
    return await _show(client, args, out, await client.alter_sub_session(args.id, status="normal"))


async def _delete(client: XentaraClient, args: argparse.Namespace, out: TextIO) -> int:
    await client.delete_sub_session(args.id)
    if args.json:
        _emit_json(out, {"id": str(args.id), "deleted": True})
    else:
        out.write(f"deleted sub-session {args.id}\n")
    return 0
