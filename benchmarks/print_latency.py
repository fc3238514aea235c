"""Issue request -> last byte at the printer: how long a resident waits for paper.

Runs the real server (uvicorn on a local port, SQLite in a temp dir), a kiosk
client over HTTP, and the ESC/POS emulator over TCP as the server's printer.
Each ticket is issued one after another, as at a single kiosk. For each it
records the time from sending the issue request to the arrival of the job's
last byte at the emulator, and to the HTTP response (which waits for the
print outcome). Usage::

    python -m benchmarks.print_latency [--tickets 200] [--paper 80]

Writes benchmarks/results/print_latency.json. Target: p99 <= 300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from benchmarks import machine, print_table, summary_ms, write_result
from hardware_sim.printer import PrinterEmulator
from hardware_sim.printer.decoder import EscPosDecoder

TARGET_P99_MS = 300.0
SERVICES = ["enrol", "record_query", "payment", "chronic_disease", "reimbursement"]


class TimedEmulator(PrinterEmulator):
    """The emulator, noting when each chunk of bytes arrived."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.last_byte_at = 0.0
        self._lock = threading.Lock()

    def _process(
        self, decoder: EscPosDecoder, data: bytes, reply: Callable[[bytes], None], source: str
    ) -> None:
        with self._lock:
            self.last_byte_at = time.perf_counter()
        super()._process(decoder, data, reply, source)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _setup_hall(app: Any) -> str:
    from kiosk_server.auth.principal import DeviceKind
    from kiosk_server.auth.service import create_device
    from kiosk_server.bootstrap import create_hall
    from kiosk_server.db.uow import unit_of_work

    ctx = app.state.ctx
    async with unit_of_work(ctx.db) as uow:
        hall = await create_hall(uow.session, "bench", "长江镇医保服务站", always_open=True)
        token, _ = await create_device(uow.session, hall.id, DeviceKind.KIOSK, "bench-kiosk")
    return token


async def run(tickets: int, paper: int, workdir: Path) -> dict[str, Any]:
    from kiosk_server.app import create_app
    from kiosk_server.settings import Settings

    emu = TimedEmulator(None, paper_mm=paper)
    host, port = emu.start_tcp()
    settings = Settings(
        environment="development",
        data_dir=workdir,
        printer_url=f"tcp://{host}:{port}",
        paper_mm=paper,  # type: ignore[arg-type]
        print_wait_seconds=5.0,
        ticker_seconds=3600,
        issue_per_minute_per_device=1_000_000,
        public_base_url="http://hall.example",
    )
    app = create_app(settings)
    http_port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=http_port, log_level="warning", lifespan="on")
    )
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if serving.done():
                serving.result()
            await asyncio.sleep(0.01)
        token = await _setup_hall(app)
        headers = {"Authorization": f"Bearer {token}"}
        to_paper: list[float] = []
        to_response: list[float] = []
        not_printed = 0
        printed = 0
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}", timeout=30) as c:
            warm = 5
            for i in range(warm + tickets):
                body = {"service": SERVICES[i % len(SERVICES)]}
                started = time.perf_counter()
                r = await c.post("/api/v1/halls/bench/tickets", json=body, headers=headers)
                answered = time.perf_counter()
                r.raise_for_status()
                if r.json().get("printed") is not True:
                    not_printed += 1
                    continue
                printed += 1
                await asyncio.to_thread(emu.wait_for_tickets, printed, 10.0)
                if i >= warm:
                    to_paper.append(emu.last_byte_at - started)
                    to_response.append(answered - started)
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await serving
        emu.stop()
    paper_stats = summary_ms(to_paper)
    return {
        "benchmark": "print_latency",
        "tickets": tickets,
        "paper_mm": paper,
        "not_printed": not_printed,
        "issue_to_last_byte": paper_stats,
        "issue_to_response": summary_ms(to_response),
        "target_p99_ms": TARGET_P99_MS,
        "meets_target": paper_stats["p99_ms"] <= TARGET_P99_MS and not_printed == 0,
        "machine": machine(),
        "setup": "uvicorn + SQLite (temp dir) + httpx kiosk client + TCP ESC/POS emulator, "
        "one process, tickets issued one after another",
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.print_latency")
    p.add_argument("--tickets", type=int, default=200)
    p.add_argument("--paper", type=int, choices=(58, 80), default=80)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hallq-bench-") as tmp:
        result = asyncio.run(run(args.tickets, args.paper, Path(tmp)))
    rows = [
        {"measure": name, **result[name]} for name in ("issue_to_last_byte", "issue_to_response")
    ]
    print_table(
        f"Print latency, {result['tickets']} tickets, {result['paper_mm']} mm "
        f"(target p99 <= {TARGET_P99_MS:.0f} ms; not printed: {result['not_printed']})",
        rows,
    )
    path = write_result("print_latency", result)
    print(f"  -> {path}  meets target: {result['meets_target']}")
    return 0 if result["meets_target"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
