"""Read the value, quality and change time of one element: `.venv/bin/python examples/read_value.py`."""

from __future__ import annotations

import argparse
import asyncio
import sys

from _common import connect_options, parser

from xentara_ws.client import connect


async def main(args: argparse.Namespace) -> int:
    async with connect(args.url, **connect_options(args)) as client:
        values = await client.read(args.element)  # value, quality and change time by default
        changed = values.change_time.isoformat()
        print(f"{args.element} = {values.value!r}  quality={values.quality.name}  changed={changed}")
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    options = parser(__doc__)
    options.add_argument(
        "--element", default="Plant.Tank.Temperature", help="primary key or UUID (default Plant.Tank.Temperature)"
    )
    return options.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
