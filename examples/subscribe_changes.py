"""Print every change of a few elements until Ctrl-C (or --count): `.venv/bin/python examples/subscribe_changes.py`."""

from __future__ import annotations

import argparse
import asyncio
import sys

from _common import connect_options, parser

from xentara_ws.client import connect


async def main(args: argparse.Namespace) -> int:
    async with connect(args.url, **connect_options(args)) as client:
        names = {await client.lookup(key): key for key in args.element}
        # The first change per element carries its current value; at most one update per 100 ms.
        async with await client.subscribe(list(names), max_update_rate=100) as subscription:
            received = 0
            async for change in subscription:
                print(
                    f"{names[change.element]}: {change.values.value!r} ({change.values.quality.name})",
                    flush=True,
                )
                received += 1
                if args.count and received >= args.count:
                    break
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    options = parser(__doc__)
    options.add_argument(
        "--element", action="append", help="primary key to watch; repeatable (default Plant.Tank.Temperature)"
    )
    options.add_argument("--count", type=int, default=0, help="stop after this many changes (default: never)")
    args = options.parse_args(argv)
    args.element = args.element or ["Plant.Tank.Temperature"]
    return args


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main(parse_args())))
    except KeyboardInterrupt:
        pass
