"""``hallq led-bridge``: the hall's serial counter hardware.

Counter LED screens on one line (hall events -> screens)::

    hallq led-bridge --server http://10.0.0.2:8000 --token DEVICE_TOKEN \\
        --port /dev/ttyUSB0 --map 1=0x01,2=0x02,3=0x03

The hall is the one the device token was paired with (``--hall`` may name it
anyway). The bridge reports its port (``ok`` / ``reconnecting`` / ``port_gone``)
as its device status, shown on ``GET /api/v1/halls/{hall}/devices``.

Caller keypads and rating pads on another line (key presses -> the counter
page's requests, finished tickets -> rating prompts), each device with its own
token from a JSON file (``keypad_N`` / ``rating_pad_N``)::

    hallq led-bridge --server http://10.0.0.2:8000 --hall H001 --tokens tokens.json \\
        --devices-port /dev/ttyUSB1 --keypads 1=0x11,2=0x12 --rating-pads 1=0x21,2=0x22

Both can run in one process.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import os
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import httpx

from display_client.serial_bridge.counters import TokenError, load_tokens, serve_devices
from display_client.serial_bridge.device import HallUnknown, PortStatusReporter, learn_hall
from display_client.serial_bridge.feed import DisplayFeed, run_bridge
from display_client.serial_bridge.led import LedBridge, LedPlanner
from kiosk_server.devices.link import SerialLink

log = logging.getLogger(__name__)


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
        prog="hallq led-bridge",
        description="Drive counter LED screens, caller keypads and rating pads over serial lines.",
    )
    ap.add_argument("--server", required=True, help="hallq server, e.g. http://10.0.0.2:8000")
    ap.add_argument("--hall", help="hall code (default: the hall of the device token)")
    ap.add_argument(
        "--token",
        default=os.environ.get("HALLQ_DEVICE_TOKEN"),
        help="LED bridge / display device token (or HALLQ_DEVICE_TOKEN)",
    )
    ap.add_argument("--port", help="LED screens' serial port, e.g. /dev/ttyUSB0")
    ap.add_argument("--map", help="counter=address list of LED screens, e.g. 1=0x01,2=0x02")
    ap.add_argument("--devices-port", help="serial port of the caller keypads and rating pads")
    ap.add_argument("--keypads", help="counter=address list of caller keypads, e.g. 1=0x11")
    ap.add_argument("--rating-pads", help="counter=address list of rating pads, e.g. 1=0x21")
    ap.add_argument(
        "--tokens",
        help="JSON file of device tokens: keypad_N, rating_pad_N (and led_bridge for --port)",
    )
    ap.add_argument("--baud", type=int, default=9600)
    ap.add_argument("-v", "--verbose", action="store_true")
    return ap


async def run_leds(
    client: httpx.AsyncClient,
    server: str,
    hall: str | None,
    token: str,
    link: SerialLink,
    mapping: dict[int, int],
    *,
    status_poll: float = 0.5,
    status_every: float = 60.0,
) -> None:
    """Drive the screens on ``link`` from the hall's events until cancelled."""
    if hall is None:
        hall = await learn_hall(client, server, token)
        log.info("device token belongs to hall %s", hall)
    bridge = LedBridge(link, LedPlanner(mapping))
    feed = DisplayFeed(server, hall, token)
    reporter = PortStatusReporter(link, client, server, token, poll=status_poll, every=status_every)
    await run_bridge(feed, bridge, bridge.run_serial(), reporter.run())


async def serve_leds(
    server: str, hall: str | None, token: str, port: str, mapping: dict[int, int], baud: int
) -> None:
    link = SerialLink(port, baudrate=baud, name=f"led {port}")
    try:
        # Hall LAN: never route through a proxy from the environment.
        async with httpx.AsyncClient(timeout=10.0, trust_env=False) as client:
            await run_leds(client, server, hall, token, link, mapping)
    finally:
        await link.close()


async def serve(args: argparse.Namespace, mapping: dict[int, int]) -> None:
    """LED line only (kept for callers of the phase-1 entry point)."""
    await serve_leds(args.server, args.hall, args.token, args.port, mapping, args.baud)


async def _serve_all(jobs: list[Callable[[], Coroutine[Any, Any, None]]]) -> None:
    tasks = [asyncio.ensure_future(j()) for j in jobs]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for t in done:
            t.result()
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    jobs: list[Callable[[], Coroutine[Any, Any, None]]] = []
    tokens: dict[str, str] = {}
    if args.tokens:
        try:
            tokens = load_tokens(args.tokens)
        except (OSError, ValueError) as e:
            return _fail(f"--tokens: {e}")
    if args.port or args.map:
        if not (args.port and args.map):
            return _fail("--port and --map go together (the LED line)")
        try:
            mapping = parse_map(args.map)
        except ValueError as e:
            return _fail(f"--map: {e}")
        token = args.token or tokens.get("led_bridge")
        if not token:
            return _fail("--token (or HALLQ_DEVICE_TOKEN) is required")
        jobs.append(
            functools.partial(
                serve_leds, args.server, args.hall, token, args.port, mapping, args.baud
            )
        )
    if args.devices_port or args.keypads or args.rating_pads:
        if not args.devices_port:
            return _fail("--keypads/--rating-pads need --devices-port")
        try:
            keypads = parse_map(args.keypads) if args.keypads else {}
            pads = parse_map(args.rating_pads) if args.rating_pads else {}
        except ValueError as e:
            return _fail(f"--keypads/--rating-pads: {e}")
        if not keypads and not pads:
            return _fail("--devices-port needs --keypads and/or --rating-pads")
        if set(keypads.values()) & set(pads.values()):
            return _fail("a keypad and a rating pad share an address on the devices line")
        jobs.append(
            functools.partial(
                serve_devices,
                server=args.server,
                hall=args.hall,
                port=args.devices_port,
                keypads=keypads,
                rating_pads=pads,
                tokens=tokens,
                baudrate=args.baud,
            )
        )
    if not jobs:
        return _fail("nothing to drive: give --port/--map and/or --devices-port")
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )

    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # same clean stop as Ctrl-C: ports closed

    signal.signal(signal.SIGTERM, on_term)
    try:
        asyncio.run(_serve_all(jobs))
    except KeyboardInterrupt:
        pass
    except TokenError as e:
        return _fail(f"device tokens: {e}")
    except HallUnknown as e:
        return _fail(f"--token: {e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
