"""Client sub-commands of the `xentara-ws` command line (info, browse, lookup, read, write, ...)."""

from __future__ import annotations

import argparse


def add_commands(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the client sub-commands to the `xentara-ws` parser."""
