"""``hallq scanner-bridge``: a serial QR / ID-card scanner for the kiosk page.

Runs on the kiosk PC, next to the browser showing ``/kiosk/{hall}``::

    hallq scanner-bridge --serial /dev/ttyACM0 [--baudrate 9600] [--listen 127.0.0.1:8766]

and the kiosk page is opened once with ``?scanner=ws://127.0.0.1:8766`` (the page
remembers it). Each line the scanner sends is pushed to every connected kiosk
page as ``{"type": "scan", "text": "<the line>"}``; the page handles it exactly
like a keyboard-wedge scan (appointment code -> check-in, ID number -> green
channel by age, anything else -> "QR read").

Privacy: a scanned ID number goes from the serial port straight to the kiosk
page over the loopback interface and nowhere else. The bridge keeps no scans
(a scan with no page connected is dropped, not queued for whoever connects
next), logs only masked values, and never talks to the hall server: the page
sends the ID number in its own ticket request, and the server keeps only a
keyed hash and an age band, not the number, and never puts it in an event.

Also served on the same socket: ``{"type": "status"}`` answers with the port
state and counts of scans by kind (no scanned values, only the last one masked);
the same status is pushed on connect and whenever the port comes or goes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import logging
import signal
import sys
from collections.abc import Sequence
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State
from websockets.typing import Origin

from kiosk_server.devices.bridge import ScannerBridge
from kiosk_server.devices.link import SerialLink
from kiosk_server.devices.scanner import DEFAULT_APPOINTMENT_PATTERN, Scan

log = logging.getLogger(__name__)

# websockets logs every frame at DEBUG, scans included: keep its logger at INFO
# even under --verbose, so a full ID number can never reach a log file.
_ws_log = logging.getLogger(f"{__name__}.ws")
_ws_log.setLevel(logging.INFO)

DEFAULT_LISTEN = "127.0.0.1:8766"
PORT_POLL_SECONDS = 0.5  # how soon the status follows a port that vanished


def parse_listen(text: str) -> tuple[str, int]:
    """``127.0.0.1:8766``, ``localhost:8766``, ``[::1]:8766`` -> (host, port)."""
    host, sep, port_s = text.rpartition(":")
    if not sep or not host:
        raise ValueError(f"{text!r}: expected HOST:PORT, e.g. {DEFAULT_LISTEN}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        port = int(port_s)
    except ValueError:
        raise ValueError(f"{text!r}: the port must be a number") from None
    if not 0 <= port <= 65535:
        raise ValueError(f"{text!r}: the port must be 0-65535")
    return host, port


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def remote_refusal(host: str) -> str:
    return (
        f"refusing to listen on {host}: the scanner bridge hands full ID numbers to "
        "whoever connects, with no login, so it only listens on this PC (127.0.0.1) "
        "where the kiosk browser runs. Pass --allow-remote only if the kiosk browser is "
        "on another machine and the network between them is trusted."
    )


class ScannerRelay:
    """The scanner's lines, as ``{"type": "scan"}`` messages to the connected pages."""

    def __init__(
        self,
        link: SerialLink,
        *,
        origins: Sequence[str] | None = None,
        appointment_pattern: str = DEFAULT_APPOINTMENT_PATTERN,
    ) -> None:
        self.link = link
        self.bridge = ScannerBridge(link, self.deliver, appointment_pattern=appointment_pattern)
        # Browsers always send Origin; tools on this PC (no Origin) may ask for the status.
        self.origins: list[Origin | None] | None = (
            [Origin(o.rstrip("/")) for o in origins] + [None] if origins else None
        )
        self.clients: set[ServerConnection] = set()
        self.delivered = 0  # scans pushed to at least one page
        self.dropped = 0  # scans with no page connected (not kept for later)
        self.last: Scan | None = None
        self.server: Server | None = None
        self._port_open = False
        link.on_open(self._port_changed)

    # ------------------------------------------------------------ pages

    async def start(self, host: str, port: int) -> int:
        """Listen for kiosk pages; returns the port (useful with port 0)."""
        self.server = await serve(
            self._handle,
            host,
            port,
            origins=self.origins,
            logger=_ws_log,
            max_size=4096,  # pages only ever ask for the status
            compression=None,
        )
        bound: int = next(iter(self.server.sockets)).getsockname()[1]
        return bound

    async def _handle(self, ws: ServerConnection) -> None:
        self.clients.add(ws)
        log.info("kiosk page connected (%d connected)", len(self.clients))
        try:
            await ws.send(self._status_message())
            async for message in ws:
                try:
                    request = json.loads(message)
                except ValueError:
                    continue
                if isinstance(request, dict) and request.get("type") == "status":
                    await ws.send(self._status_message())
        except ConnectionClosed:
            pass
        finally:
            self.clients.discard(ws)
            log.info("kiosk page disconnected (%d connected)", len(self.clients))

    def _open_clients(self) -> list[ServerConnection]:
        return [c for c in self.clients if c.state is State.OPEN]

    async def deliver(self, scan: Scan) -> None:
        self.last = scan
        pages = self._open_clients()
        if not pages:
            # Not queued: an ID number must not wait here for whoever connects next.
            self.dropped += 1
            log.warning("no kiosk page connected: %s %s dropped", scan.kind.value, scan.masked)
            return
        message = json.dumps({"type": "scan", "text": scan.value}, ensure_ascii=False)
        broadcast(pages, message)
        self.delivered += 1

    # ------------------------------------------------------------ status

    def status(self) -> dict[str, Any]:
        last = self.last
        return {
            "type": "status",
            "port": {
                "name": self.link.name,
                "state": "open" if self.link.connected else "down",
                "opens": self.link.opens,
                "disconnects": self.link.disconnects,
            },
            "scans": dict(self.bridge.scans),
            "delivered": self.delivered,
            "dropped": self.dropped,
            "pages": len(self.clients),
            "last": {"kind": last.kind.value, "shows": last.masked} if last else None,
        }

    def _status_message(self) -> str:
        return json.dumps(self.status(), ensure_ascii=False)

    async def _port_changed(self) -> None:
        if self.link.connected != self._port_open:
            self._port_open = self.link.connected
            broadcast(self._open_clients(), self._status_message())

    async def _watch_port(self) -> None:
        # SerialLink tells us when the port opens, not when it is lost: look now and then.
        while not self.link.closed:
            await self._port_changed()
            await asyncio.sleep(PORT_POLL_SECONDS)

    # ------------------------------------------------------------ run

    async def run(self) -> None:
        """Read the scanner until ``close()``; a lost port is reopened, never fatal."""
        watcher = asyncio.create_task(self._watch_port())
        try:
            await self.bridge.run()
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    async def close(self) -> None:
        await self.link.close()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


# ---------------------------------------------------------------- command line


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="hallq scanner-bridge",
        description=(
            "Pass a serial QR / ID-card scanner's lines to the kiosk page on this PC "
            "(open the page once with ?scanner=ws://127.0.0.1:8766)."
        ),
    )
    ap.add_argument("--serial", required=True, help="scanner's serial port, e.g. /dev/ttyACM0")
    ap.add_argument("--baudrate", type=int, default=9600)
    ap.add_argument(
        "--listen",
        default=DEFAULT_LISTEN,
        help=f"where kiosk pages connect (default {DEFAULT_LISTEN}; loopback only)",
    )
    ap.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --listen address (scans include full ID numbers)",
    )
    ap.add_argument(
        "--origin",
        action="append",
        default=[],
        help="accept pages from this origin only, e.g. http://10.0.0.2:8000 (repeatable); "
        "default: any page in the kiosk's browser",
    )
    ap.add_argument(
        "--appointment-pattern",
        default=DEFAULT_APPOINTMENT_PATTERN,
        help="regular expression of appointment codes (for the status counts)",
    )
    ap.add_argument("-v", "--verbose", action="store_true")
    return ap


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 2


async def serve_scanner(args: argparse.Namespace, host: str, port: int) -> None:
    link = SerialLink(args.serial, baudrate=args.baudrate, name=f"scanner {args.serial}")
    relay = ScannerRelay(link, origins=args.origin, appointment_pattern=args.appointment_pattern)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    runner: asyncio.Task[None] | None = None
    try:
        bound = await relay.start(host, port)
        shown = f"[{host}]" if ":" in host else host
        log.info("listening on ws://%s:%d for kiosk pages; scanner on %s", shown, bound, link.url)
        if not args.origin:
            log.info("any page in this PC's browser may connect (narrow it with --origin)")
        runner = asyncio.create_task(relay.run())
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({runner, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
    finally:
        await relay.close()
        if runner is not None:
            await runner  # ends once the link is closed; re-raises a crash
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        host, port = parse_listen(args.listen)
    except ValueError as e:
        return _fail(f"--listen: {e}")
    if not is_loopback(host) and not args.allow_remote:
        return _fail(remote_refusal(host))
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        asyncio.run(serve_scanner(args, host, port))
    except OSError as e:
        return _fail(f"cannot listen on {args.listen}: {e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
