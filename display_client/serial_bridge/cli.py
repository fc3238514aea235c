"""``hallq led-bridge``: hall events -> counter LED screens on one serial line.

    hallq led-bridge --server http://10.0.0.2:8000 --hall H001 --token DEVICE_TOKEN \\
        --port /dev/ttyUSB0 --map 1=0x01,2=0x02,3=0x03
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Sequence

from display_client.serial_bridge.feed import DisplayFeed, run_bridge
from display_client.serial_bridge.led import LedBridge, LedPlanner
from kiosk_server.devices.link import SerialLink


def parse_map(text: str) -> dict[int, int]:
    """``1=0x01,2=0x02`` -> {counter number: screen address}."""
    mapping: dict[int, int] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        counter_s, sep, address_s = item.partition("=")
        if not sep:
            raise ValueError(f"{item!r}: expected COUNTER=ADDRESS, e.g. 3=0x03")
        try:
            counter, address = int(counter_s), int(address_s, 0)
        except ValueError:
            raise ValueError(f"{item!r}: counter and address must be numbers") from None
        if not 1 <= address <= 0xFE:
            raise ValueError(f"{item!r}: screen address must be 0x01-0xFE (0xFF is broadcast)")
        if counter in mapping:
            raise ValueError(f"counter {counter} mapped twice")
        mapping[counter] = address
    if not mapping:
        raise ValueError("the map is empty")
    if len(set(mapping.values())) != len(mapping):
        raise ValueError("two counters mapped to one screen address")
    return mapping


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="hallq led-bridge", description="Drive counter LED screens from the hall's events."
    )
    ap.add_argument("--server", required=True, help="hallq server, e.g. http://10.0.0.2:8000")
    ap.add_argument("--hall", required=True, help="hall code")
    ap.add_argument(
        "--token",
        default=os.environ.get("HALLQ_DEVICE_TOKEN"),
        help="display device token (or HALLQ_DEVICE_TOKEN)",
    )
    ap.add_argument("--port", required=True, help="serial port, e.g. /dev/ttyUSB0")
    ap.add_argument("--map", required=True, help="counter=address list, e.g. 1=0x01,2=0x02")
    ap.add_argument("--baud", type=int, default=9600)
    ap.add_argument("-v", "--verbose", action="store_true")
    return ap


async def serve(args: argparse.Namespace, mapping: dict[int, int]) -> None:
    link = SerialLink(args.port, baudrate=args.baud, name=f"led {args.port}")
    bridge = LedBridge(link, LedPlanner(mapping))
    feed = DisplayFeed(args.server, args.hall, args.token)
    try:
        await run_bridge(feed, bridge, bridge.run_serial())
    finally:
        await link.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        mapping = parse_map(args.map)
    except ValueError as e:
        print(f"--map: {e}", file=sys.stderr)
        return 2
    if not args.token:
        print("--token (or HALLQ_DEVICE_TOKEN) is required", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args, mapping))
    return 0


if __name__ == "__main__":
    sys.exit(main())
