"""Command-line options shared by the examples (defaults match the built-in demo server)."""

from __future__ import annotations

import argparse
from typing import Any

DEMO_URL = "wss://127.0.0.1:8080/api/ws"


def parser(description: str) -> argparse.ArgumentParser:
    result = argparse.ArgumentParser(description=description)
    result.add_argument("--url", default=DEMO_URL, help=f"WebSocket URL (default {DEMO_URL})")
    result.add_argument("--user", default="demo", help="user for Basic authentication (default demo)")
    result.add_argument("--password", default="demo", help="password (default demo)")
    result.add_argument("--ca-file", help="verify the server certificate against this CA file instead of --insecure")
    result.add_argument(
        "--secure",
        action="store_true",
        help="verify the server certificate (the demo's is self-signed, so off by default)",
    )
    return result


def connect_options(args: argparse.Namespace) -> dict[str, Any]:
    verify = args.secure or args.ca_file is not None
    return {"user": args.user, "password": args.password, "ca_file": args.ca_file, "insecure": not verify}
