"""The `xentara-ws conformance URL` sub-command: its arguments and how a run becomes an exit code."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any, TextIO

from ..client.types import ConnectionFailed
from .report import Reporter, write_json
from .runner import Outcome, RunOptions, SetupFailed, run_suite
from .transport import Target

EXIT_PASSED = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def add_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register `conformance` on the `xentara-ws` parser."""
    help_text = "check a server against the Xentara WebSocket API v2 reference (conformance suite)"
    parser: argparse.ArgumentParser = subparsers.add_parser("conformance", help=help_text, description=help_text)
    parser.add_argument("url", metavar="URL", help="the server's WebSocket URL, e.g. wss://host:8080/api/ws")
    parser.add_argument("--user", default=os.environ.get("XENTARA_USER"), help="Basic authentication (or XENTARA_USER)")
    parser.add_argument("--password", default=os.environ.get("XENTARA_PASSWORD"), help="(or XENTARA_PASSWORD)")
    parser.add_argument("--token", default=os.environ.get("XENTARA_TOKEN"), help="Bearer token (or XENTARA_TOKEN)")
    tls = parser.add_mutually_exclusive_group()
    tls.add_argument("--insecure", action="store_true", help="do not verify the server's TLS certificate")
    tls.add_argument("--ca-file", metavar="FILE", help="trust the CA certificate(s) in this PEM file")
    tls.add_argument("--fingerprint", metavar="SHA256", help="trust only a certificate with this SHA-256 fingerprint")
    parser.add_argument(
        "--element",
        action="append",
        default=[],
        metavar="KEY",
        help="a readable data point to use (primary key or UUID; default: found by browsing); repeatable",
    )
    parser.add_argument(
        "--writable",
        nargs="?",
        const="auto",
        metavar="KEY",
        help="allow writes to this register (or, without KEY, to one found by browsing); its value is restored",
    )
    parser.add_argument("--stages", action="store_true", help="also suspend and resume the server (stage commands)")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="PATTERN",
        help="run only cases whose id matches (glob or prefix)",
    )
    parser.add_argument("--json", metavar="FILE", help="also write a JSON report to FILE")
    parser.add_argument("--extensions", action="store_true", help="also run the xentara-ws extension cases")
    parser.add_argument("--timeout", type=float, default=5.0, metavar="SECONDS", help="per reply (default 5)")
    parser.set_defaults(handler=run_command)
    return parser


def run_command(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    if args.token and args.user:
        print("xentara-ws conformance: give either --user/--password or --token, not both", file=err)
        return EXIT_USAGE
    if not args.url.startswith(("ws://", "wss://")):
        print(f"xentara-ws conformance: {args.url}: the URL must start with ws:// or wss://", file=err)
        return EXIT_USAGE
    target = Target(
        url=args.url,
        user=args.user,
        password=args.password,
        token=args.token,
        insecure=args.insecure,
        ca_file=args.ca_file,
        fingerprint=args.fingerprint,
        timeout=args.timeout,
    )
    options = RunOptions(
        target=target,
        elements=args.element,
        writable=args.writable,
        only=args.only,
        extensions=args.extensions,
        stages=args.stages,
    )
    reporter = Reporter(out)
    try:
        results = asyncio.run(run_suite(options, reporter.progress))
    except KeyboardInterrupt:
        return 130
    except (SetupFailed, ConnectionFailed, OSError, ValueError) as error:
        print(f"xentara-ws conformance: cannot test {args.url}: {error}", file=err)
        return EXIT_USAGE
    if not results:
        print("xentara-ws conformance: no case matches --only", file=err)
        return EXIT_USAGE
    reporter.summary(results, args.url)
    if args.json:
        try:
            write_json(args.json, results, args.url)
        except OSError as error:
            print(f"xentara-ws conformance: cannot write {args.json}: {error}", file=err)
            return EXIT_USAGE
    return EXIT_FAILED if any(r.outcome is Outcome.FAIL for r in results) else EXIT_PASSED
