"""Print agent: prints a hall's tickets on the kiosk PC's own printer.

Kiosks often sit far from the server, with the printer on USB or serial at
the kiosk PC. The agent runs there::

    hallq printer-agent --server http://10.0.0.5:8000 --token hqd_... --printer usb://0416:5011

(the token may come from ``HALLQ_AGENT_TOKEN`` instead, so it stays out of
the process list). It keeps a WebSocket to ``/ws/printer?token=`` open and
speaks JSON:

* server -> agent ``{"type": "hello", "hall": "demo", "device_id": 7}`` on connect,
  then every job of the hall not yet printed, oldest first;
* server -> agent ``{"type": "job", "job_id": 12, "ticket_id": 3, "number": "A012",
  "data": "<base64 ESC/POS>", "view": {TicketView fields}}``. The agent prints
  ``data`` as it is (rendered by the server for ``paper_mm``), or, with
  ``--paper``, ``--text-mode`` or ``--qr-mode``, renders ``view`` itself: for its
  own paper width, and as bitmaps (``image``) for a printer without a Chinese
  font or without the QR command;
* agent -> server ``{"type": "ack", "job_id": 12, "ok": true|false, "code": ...,
  "reason": ..., "attempts": n, "status": {PrinterStatus.to_dict()}}`` after each
  job, and ``{"type": "status", "status": {...}}`` on connect and on a timer.

A job sent twice (the ack was lost in a disconnect) is acknowledged again
without printing it twice. The agent reconnects with a growing, jittered
delay; a handshake the server refuses with HTTP 401/403/409 (unknown token,
not a printer token, server not in agent mode) stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import logging
import os
import random
import signal
import sys
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from ticket_printer.layout import Layout, render_ticket
from ticket_printer.spool import deliver
from ticket_printer.transports import open_printer
from ticket_printer.view import TicketView

log = logging.getLogger("hallq.printer_agent")

#: HTTP statuses with which the server refuses the handshake: retrying will not help.
REJECT_STATUSES = {
    401: "the token is unknown or revoked",
    403: "not a printer device token",
    409: "the server prints itself (its printer_url is not agent://)",
}
#: How many finished jobs to remember for answering a repeated job.
REMEMBER = 500


class AgentRejected(Exception):
    """The server refused the agent (bad token, wrong device kind, no agent mode)."""


def ws_url(server: str, token: str) -> str:
    """``http(s)://host[:port][/prefix]`` -> ``ws(s)://host[:port][/prefix]/ws/printer?token=``."""
    parts = urlsplit(server.strip())
    scheme = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}.get(parts.scheme.lower())
    if scheme is None or not parts.netloc:
        raise ValueError(f"--server must be http://HOST:PORT or https://HOST, not {server!r}")
    path = parts.path.rstrip("/") + "/ws/printer"
    return urlunsplit((scheme, parts.netloc, path, f"token={quote(token, safe='')}", ""))


def _message(exc: InvalidStatus) -> str:
    """The server's error message from a refused handshake's JSON body, if any."""
    try:
        body = json.loads(exc.response.body or b"{}")
        return str(body["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return f"HTTP {exc.response.status_code}"


def view_from_json(data: dict[str, Any]) -> TicketView:
    fields = dict(data)
    fields["issued_at"] = datetime.fromisoformat(str(fields["issued_at"]))
    return TicketView(**fields)


class PrintAgent:
    def __init__(
        self,
        server: str,
        token: str,
        printer_url: str,
        *,
        paper_mm: int | None = None,
        text_mode: str | None = None,
        qr_mode: str | None = None,
        status_seconds: float = 30.0,
        timeout: float = 10.0,
        attempts: int = 2,
        max_backoff: float = 10.0,
    ) -> None:
        if not token:
            raise ValueError("a printer device token is needed (--token or HALLQ_AGENT_TOKEN)")
        self.url = ws_url(server, token)
        self.printer = open_printer(printer_url)
        self.layout: Layout | None = None
        self.paper_fixed = paper_mm is not None
        if paper_mm or text_mode or qr_mode:
            # Validated here, so a bad flag stops the agent before it takes any job.
            self.layout = Layout(
                paper_mm=paper_mm or 80,  # type: ignore[arg-type]
                text_mode=text_mode or "native",  # type: ignore[arg-type]
                qr_mode=qr_mode or "native",  # type: ignore[arg-type]
            )
        self.status_seconds = status_seconds
        self.timeout = timeout
        self.attempts = attempts
        self.max_backoff = max_backoff
        self._acks: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self._send_lock = asyncio.Lock()
        #: Set while a session is up (after the server's hello); for tests and logs.
        self.ready = asyncio.Event()
        self.sessions = 0
        self.printed = 0

    async def run(self) -> None:
        """Serve until cancelled; raises :class:`AgentRejected` if the server refuses us."""
        delay = 0.2
        while True:
            try:
                async with connect(
                    self.url, open_timeout=10, ping_interval=20, max_size=2**23, proxy=None
                ) as ws:
                    delay = 0.2
                    await self._session(ws)
            except InvalidStatus as exc:
                status = exc.response.status_code
                if status in REJECT_STATUSES:
                    raise AgentRejected(f"{REJECT_STATUSES[status]} ({_message(exc)})") from None
                log.warning("the server refused the connection: HTTP %s", status)
            except (OSError, TimeoutError, WebSocketException) as exc:
                log.warning("connection to the server lost or refused: %s", exc)
            finally:
                self.ready.clear()
            # Jitter keeps a hall's agents from reconnecting in lockstep after a restart.
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, self.max_backoff)

    async def _session(self, ws: ClientConnection) -> None:
        status_task: asyncio.Task[None] | None = None
        try:
            async for raw in ws:
                try:
                    msg = json.loads(raw)
                except ValueError:
                    log.warning("ignored a message that is not JSON")
                    continue
                if not isinstance(msg, dict):
                    continue
                if msg.get("type") == "hello":
                    self.sessions += 1
                    log.info("connected: hall %s, device %s", msg.get("hall"), msg.get("device_id"))
                    self.ready.set()
                    if status_task is None:
                        status_task = asyncio.create_task(self._report_status(ws))
                elif msg.get("type") == "job":
                    ack = await self.handle_job(msg)
                    await self._send(ws, ack)
        except ConnectionClosed:
            pass
        finally:
            if status_task is not None:
                status_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await status_task
        log.warning("the server closed the connection (code %s)", ws.close_code)

    async def _send(self, ws: ClientConnection, message: dict[str, Any]) -> None:
        async with self._send_lock:
            await ws.send(json.dumps(message, ensure_ascii=False))

    async def _report_status(self, ws: ClientConnection) -> None:
        while True:
            st = await asyncio.to_thread(self.printer.status, min(2.0, self.timeout))
            with contextlib.suppress(ConnectionClosed):
                await self._send(ws, {"type": "status", "status": st.to_dict()})
            await asyncio.sleep(self.status_seconds)

    async def handle_job(self, msg: dict[str, Any]) -> dict[str, Any]:
        """Print one job message; the ack to send back."""
        job_id = msg.get("job_id")
        if not isinstance(job_id, int):
            return {"type": "ack", "job_id": job_id, "ok": False, "code": "bad_job",
                    "reason": "任务格式错误 / job without an id", "attempts": 0}  # fmt: skip
        if job_id in self._acks:
            log.info("job %s again: already done, acknowledging without printing", job_id)
            return self._acks[job_id]
        try:
            if self.layout is not None and isinstance(msg.get("view"), dict):
                layout = self.layout
                if not self.paper_fixed and msg.get("paper_mm") in (58, 80):
                    layout = replace(layout, paper_mm=msg["paper_mm"])  # the server's paper
                data = render_ticket(view_from_json(msg["view"]), layout)
            else:
                data = base64.b64decode(str(msg.get("data", "")), validate=True)
        except (ValueError, TypeError) as exc:
            ack = {"type": "ack", "job_id": job_id, "ok": False, "code": "bad_job",
                   "reason": f"任务无法解析 / {exc}", "attempts": 0}  # fmt: skip
            return self._remember(job_id, ack)
        result = await asyncio.to_thread(
            deliver, self.printer, data, timeout=self.timeout, attempts=self.attempts, backoff=0.5
        )
        status = result.attempts[-1].status if result.attempts else None
        status = status or self.printer.last_status
        if status is None and result.error is not None:
            status = result.error.status
        if result.ok:
            self.printed += 1
            log.info("job %s (%s) printed", job_id, msg.get("number"))
        else:
            log.warning("job %s (%s) failed: %s", job_id, msg.get("number"), result.reason)
        ack = {
            "type": "ack",
            "job_id": job_id,
            "ok": result.ok,
            "code": result.code,
            "reason": result.reason,
            "attempts": len(result.attempts),
            "status": status.to_dict() if status is not None else None,
        }
        return self._remember(job_id, ack)

    def _remember(self, job_id: int, ack: dict[str, Any]) -> dict[str, Any]:
        self._acks[job_id] = ack
        while len(self._acks) > REMEMBER:
            self._acks.popitem(last=False)
        return ack


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hallq printer-agent",
        description="Print a hall's tickets on this PC's printer; jobs come from the server.",
    )
    p.add_argument("--server", required=True, help="the hallq server, e.g. http://10.0.0.5:8000")
    p.add_argument(
        "--token",
        default=os.environ.get("HALLQ_AGENT_TOKEN", ""),
        help="printer device token (hqd_...); default: $HALLQ_AGENT_TOKEN",
    )
    p.add_argument(
        "--printer",
        required=True,
        help="tcp://HOST:9100, serial:///dev/ttyUSB0?baudrate=9600, usb://VID:PID, "
        "file:///dev/usb/lp0 or dummy://",
    )
    p.add_argument(
        "--paper",
        type=int,
        choices=(58, 80),
        help="render tickets here for this paper width (default: print the server's bytes)",
    )
    p.add_argument(
        "--text-mode",
        choices=("native", "image"),
        help="image: draw the text as a bitmap, for a printer without a Chinese font "
        "(renders here; default: the server's bytes)",
    )
    p.add_argument(
        "--qr-mode",
        choices=("native", "image"),
        help="image: draw the QR code as a bitmap, for a printer without the QR command",
    )
    p.add_argument("--status-seconds", type=float, default=30.0, help="status report period")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per print try")
    p.add_argument("--attempts", type=int, default=2, help="tries per job (offline, timeout)")
    p.add_argument("-v", "--verbose", action="store_true")
    return p


async def _serve(agent: PrintAgent) -> None:
    task = asyncio.create_task(agent.run())
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    try:
        agent = PrintAgent(
            args.server,
            args.token,
            args.printer,
            paper_mm=args.paper,
            text_mode=args.text_mode,
            qr_mode=args.qr_mode,
            status_seconds=max(1.0, args.status_seconds),
            timeout=max(0.5, args.timeout),
            attempts=max(1, args.attempts),
        )
    except ValueError as exc:
        print(f"hallq printer-agent: {exc}", file=sys.stderr)
        return 2
    print(f"hallq printer-agent: printing on {agent.printer.target}", file=sys.stderr)
    try:
        asyncio.run(_serve(agent))
    except AgentRejected as exc:
        print(f"hallq printer-agent: the server refused this agent: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
