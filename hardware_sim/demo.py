"""``hallq demo``: the whole demo hall on one laptop, no hardware.

Started pieces, all stopped cleanly on Ctrl-C / SIGTERM or after ``duration``:

- the server (``hallq serve`` in a child process, SQLite in DATA_DIR), printing
  to the ESC/POS printer emulator (tickets as .txt/.png in DATA_DIR/printer-out);
- four counter LED screens on an emulated serial line, driven by the LED bridge
  from the hall's events;
- four rating pads on a second line, driven by the keypad/rating-pad bridge;
- the traffic generator: residents take tickets at the kiosk, staff call, serve
  and finish them at a realistic pace, residents rate on the pads.

``hallq sim status --dir DATA_DIR/sim`` shows every simulated device.
Tuning (environment): HALLQ_DEMO_SPEED (default 20× real time),
HALLQ_DEMO_SCENARIO (default township), HALLQ_DEMO_START (scenario time, 09:00).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from display_client.serial_bridge.cli import serve_leds
from display_client.serial_bridge.counters import serve_devices
from hardware_sim.printer.emulator import PrinterEmulator
from hardware_sim.scenario import load_scenario
from hardware_sim.serial.devices import LedScreen, RatingPad, SimBus
from hardware_sim.serial.status import write_status
from hardware_sim.traffic import Traffic, TrafficConfig
from kiosk_server.settings import DEMO_ADMIN_PASSWORD, Settings

log = logging.getLogger("hallq.demo")

HALL = "demo"
COUNTERS = (1, 2, 3, 4)
LED_ADDRESS = {n: n for n in COUNTERS}
PAD_ADDRESS = {n: 0x20 + n for n in COUNTERS}
NUMBER = re.compile(r"\b[A-Z]\d{3}\b")


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def start_server(
    settings: Settings, host: str, port: int, printer_port: int
) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "HALLQ_DATA_DIR": str(settings.data_dir.resolve()),
        "HALLQ_PRINTER_URL": f"tcp://127.0.0.1:{printer_port}",
        "HALLQ_PUBLIC_BASE_URL": f"http://{host}:{port}",
        # The traffic generator is one kiosk issuing for a whole hall.
        "HALLQ_ISSUE_PER_MINUTE_PER_DEVICE": "6000",
    }
    cmd = [sys.executable, "-m", "kiosk_server.cli", "serve", "--host", host, "--port", str(port)]
    cmd += ["--log-level", "warning"]
    return subprocess.Popen(cmd, env=env)


async def wait_ready(url: str, proc: subprocess.Popen[bytes], within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=2.0, trust_env=False) as client:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited with code {proc.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"{url}/readyz")).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not become ready at {url}")
            await asyncio.sleep(0.1)


def printer_status(emulator: PrinterEmulator, address: str) -> dict[str, Any]:
    tickets = emulator.tickets
    last = None
    if tickets:
        found = NUMBER.search(tickets[-1].text)
        last = found.group(0) if found else f"#{tickets[-1].index}"
    return {
        "name": "printer",
        "kind": "printer",
        "address": address,
        "state": emulator.state,
        "tickets": len(tickets),
        "last_ticket": last,
        "out_dir": str(emulator.out_dir) if emulator.out_dir else None,
    }


class PadRater:
    """Residents pressing the emulated rating pad once it lights up."""

    def __init__(self, bus: SimBus, traffic: Traffic | None = None) -> None:
        self.bus = bus
        self.traffic = traffic

    async def __call__(self, counter: int, ticket: Mapping[str, Any]) -> bool:
        pad = self.bus[PAD_ADDRESS[counter]]
        assert isinstance(pad, RatingPad)
        number = str(ticket.get("number") or "")
        lit = await asyncio.to_thread(
            self.bus.wait_for, lambda: pad.prompting and pad.prompt == number, 3.0
        )
        if not lit:
            return False
        acked = len(pad.acked)
        score = self.traffic.pick_score() if self.traffic else 5
        pad.press(score)
        return await asyncio.to_thread(self.bus.wait_for, lambda: len(pad.acked) > acked, 5.0)


def banner(base: str, tokens: Mapping[str, str], password: str, data_dir: Path) -> str:
    kiosk = tokens.get("kiosk", "")
    display = tokens.get("display", "")
    return "\n".join(
        [
            "",
            "hallq 演示大厅 长江镇医保服务站 已启动 (Ctrl-C 停止)",
            f"  大厅屏 hall screen : {base}/display/demo?device_token={display}",
            f"  取号机 kiosk       : {base}/kiosk/demo?device_token={kiosk}",
            f"  窗口   counter     : {base}/counter  (staff1..staff4)",
            f"  站长   supervisor  : {base}/supervisor/demo  (supervisor)",
            f"  管理   admin       : {base}/admin  (admin)",
            f"  接口   API docs    : {base}/docs",
            f"  密码   password    : {password}",
            f"  打印票 tickets     : {data_dir / 'printer-out'}",
            f"  设备   devices     : hallq sim status --dir {data_dir / 'sim'} --watch",
            "",
        ]
    )


async def _run(
    settings: Settings,
    host: str,
    port: int,
    duration: float | None,
    password: str,
) -> int:
    data_dir = settings.data_dir.resolve()
    sim_dir = data_dir / "sim"
    sim_dir.mkdir(parents=True, exist_ok=True)
    tokens: dict[str, str] = json.loads((data_dir / "demo-tokens.json").read_text("utf-8"))
    base = f"http://{host}:{port}"

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    printer = PrinterEmulator(
        data_dir / "printer-out", state_file=data_dir / "printer-out" / "state"
    )
    _, printer_port = printer.start_tcp("127.0.0.1", 0)
    printer_address = f"tcp://127.0.0.1:{printer_port}"
    led_bus = SimBus(
        [LedScreen(a) for a in LED_ADDRESS.values()],
        link_path=str(sim_dir / "ttyLED"),
        name="led-bus",
        status_dir=sim_dir,
    )
    pad_bus = SimBus(
        [RatingPad(a) for a in PAD_ADDRESS.values()],
        link_path=str(sim_dir / "ttyCOUNTER"),
        name="counter-bus",
        status_dir=sim_dir,
    )
    server = start_server(settings, host, port, printer_port)
    tasks: list[asyncio.Task[Any]] = []
    traffic: Traffic | None = None
    code = 0
    try:
        led_bus.plug()
        pad_bus.plug()
        await wait_ready(base, server)
        scenario = load_scenario(os.environ.get("HALLQ_DEMO_SCENARIO", "township"))
        start = os.environ.get("HALLQ_DEMO_START", "09:00")
        h, _, m = start.partition(":")
        cfg = TrafficConfig(
            server=base,
            hall=HALL,
            kiosk_token=tokens["kiosk"],
            staff={n: (f"staff{n}", password) for n in COUNTERS},
            scenario=scenario,
            speed=_env_float("HALLQ_DEMO_SPEED", 20.0),
            start_minute=int(h) * 60 + int(m or 0),
            status_dir=sim_dir,
        )
        traffic = Traffic(cfg)
        traffic.rater = PadRater(pad_bus, traffic)
        tasks.append(
            asyncio.create_task(
                serve_leds(base, HALL, tokens["led_bridge"], led_bus.path, LED_ADDRESS, 9600)
            )
        )
        tasks.append(
            asyncio.create_task(
                serve_devices(
                    server=base,
                    hall=HALL,
                    port=pad_bus.path,
                    keypads={},
                    rating_pads=PAD_ADDRESS,
                    tokens=tokens,
                )
            )
        )
        tasks.append(asyncio.create_task(traffic.run()))

        async def printer_watch() -> None:
            while True:
                write_status(sim_dir, "printer", printer_status(printer, printer_address))
                await asyncio.sleep(0.5)

        tasks.append(asyncio.create_task(printer_watch()))
        print(banner(base, tokens, password, data_dir), flush=True)
        waiter = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait(
            [waiter, *tasks], timeout=duration, return_when=asyncio.FIRST_COMPLETED
        )
        waiter.cancel()
        for t in done:
            if t is not waiter and not t.cancelled() and t.exception() is not None:
                log.error("demo component failed", exc_info=t.exception())
                code = 1
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if traffic is not None:
            await traffic.aclose()
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(server.wait, 15)
            except subprocess.TimeoutExpired:
                server.kill()
                await asyncio.to_thread(server.wait)
        write_status(sim_dir, "printer", printer_status(printer, printer_address))
        printer.stop()
        led_bus.close()
        pad_bus.close()
    if traffic is not None:
        print(f"hallq demo stopped. {traffic.summary()}", flush=True)
    return code


def run(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8000,
    duration: float | None = None,
    admin_password: str | None = None,
) -> int:
    """Run the living demo hall until Ctrl-C / SIGTERM, or ``duration`` seconds."""
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    password = admin_password or os.environ.get("HALLQ_DEMO_PASSWORD") or DEMO_ADMIN_PASSWORD
    try:
        return asyncio.run(_run(settings, host, port, duration, password))
    except KeyboardInterrupt:
        return 0
