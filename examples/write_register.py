"""Write a value to a register and read it back: `.venv/bin/python examples/write_register.py --value 42`."""

from __future__ import annotations

import argparse
import asyncio
import sys

from _common import connect_options, parser

from xentara_ws.client import XentaraError, connect
from xentara_ws.protocol import MetaData


async def main(args: argparse.Namespace) -> int:
    async with connect(args.url, **connect_options(args)) as client:
        meta = await client.meta_data(args.element, [MetaData.ATTRIBUTE_LIST])
        value_info = meta.attribute("value")
        # Convert the text to what the register holds, so the server does not answer type mismatch.
        try:
            value = args.value if value_info is None else convert(args.value, value_info.data_type.name)
        except ValueError:
            kind = value_info.data_type.name.lower().replace("_", " ") if value_info is not None else "?"
            print(f"cannot write {args.value!r} to {args.element}: it holds a {kind} value", file=sys.stderr)
            return 2
        try:
            await client.write(args.element, value)
        except XentaraError as error:
            print(f"write refused: {error.code.name} ({error.message})")
            return 1
        values = await client.read(args.element)
        print(f"{args.element} is now {values.value!r}")
    return 0


def convert(text: str, data_type: str) -> object:
    if data_type == "BOOLEAN":
        return text.lower() in ("true", "1", "yes", "on")
    if "INTEGER" in data_type:
        return int(text)
    if data_type.startswith("FLOAT"):
        return float(text)
    return text


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    options = parser(__doc__)
    options.add_argument(
        "--element", default="Plant.Line.Setpoint", help="a writable register (default Plant.Line.Setpoint)"
    )
    options.add_argument("--value", default="50", help="the value to write (default 50)")
    return options.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
