"""Embed xentara-ws in a program and publish your own values (a gateway), reacting to client writes.

Run it (`.venv/bin/python examples/embed_publish.py`), then watch with
`.venv/bin/xentara-ws subscribe Plant.Tank.Level --url ws://127.0.0.1:8081/api/ws`.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
from typing import Any

from xentara_ws.demo import DEMO_DIR
from xentara_ws.model import Element, load_model
from xentara_ws.protocol import Quality
from xentara_ws.server.app import XentaraServer


async def start(host: str = "127.0.0.1", port: int = 8081) -> XentaraServer:
    """A server over the demo model without its simulation: this program is the data source."""
    model = load_model(DEMO_DIR / "model.json")
    server = XentaraServer(model)
    await server.start(host, port)

    @server.model.element("Plant.Registers.Setpoint").on_write
    def setpoint_written(element: Element, attribute: Any, value: Any) -> None:
        print(f"a client set {element.primary_key} to {value}", flush=True)

    return server


async def publish(server: XentaraServer, count: int | None, interval: float = 0.5) -> None:
    level = server.model.element("Plant.Tank.Level")
    step = 0
    while count is None or step < count:
        value = 50.0 + 25.0 * math.sin(step / 10)
        quality = Quality.GOOD if step % 20 else Quality.ACCEPTABLE
        level.publish(value, quality=quality)
        step += 1
        await asyncio.sleep(interval)


async def main(args: argparse.Namespace) -> int:
    server = await start(args.host, args.port)
    print(f"serving ws://{args.host}:{server.port}/api/ws, publishing Plant.Tank.Level", flush=True)
    try:
        await publish(server, args.count, args.interval)
    finally:
        await server.close()
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--host", default="127.0.0.1")
    options.add_argument("--port", type=int, default=8081)
    options.add_argument("--count", type=int, help="stop after this many values (default: run until Ctrl-C)")
    options.add_argument("--interval", type=float, default=0.5, help="seconds between values")
    return options.parse_args(argv)


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main(parse_args())))
    except KeyboardInterrupt:
        pass
