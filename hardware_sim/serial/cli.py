"""``hallq sim status`` (what every simulated serial device shows) and
``hallq sim serial`` (start the emulators on ptys and script them from stdin).

    hallq sim serial --dir /tmp/hallq-sim --led 1,2,3 --keypad 0x11,0x12 --rating 0x21 --scanner
    hallq sim status --dir /tmp/hallq-sim [--watch] [--json]

The emulators write one JSON status file per line into ``--dir``
(``HALLQ_SIM_DIR``); the status view only reads those files, so it works from
any terminal while bridges and tests drive the devices.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from hardware_sim.serial.devices import Keypad, LedScreen, RatingPad, SimBus, SimDevice, fit
from hardware_sim.serial.scanner import ScannerSim
from hardware_sim.serial.status import SUFFIX, read_statuses
from kiosk_server.devices.protocol import Key

DEFAULT_DIR = os.environ.get("HALLQ_SIM_DIR", "/tmp/hallq-sim")
KEY_NAMES = {k.name.lower(): k for k in Key}


def _plugged(s: dict[str, Any]) -> str:
    return "已接入" if s.get("plugged") else "已断开"


def render_device(d: dict[str, Any], now: float) -> str:
    label = d.get("label", d.get("type", "?"))
    head = f"  0x{int(d.get('address', 0)):02X} {label}"
    if d.get("type") == "led":
        until = d.get("flash_until_epoch")
        flashing = isinstance(until, int | float) and until > now
        text = str(d.get("shows", ""))
        width = int(d.get("width", 16))
        return f"{head} ┃{fit(text, width)}┃{' 闪烁' if flashing else ''}"
    shows = d.get("shows") or "（空）"
    extra = ""
    if d.get("type") == "rating_pad":
        extra = " 待评价" if d.get("prompting") else ""
    return f"{head} {shows}{extra}"


def render(statuses: list[dict[str, Any]], directory: Path, now: float | None = None) -> str:
    now = time.time() if now is None else now
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now))
    lines = [f"hallq 模拟串口设备  {directory}  {stamp}"]
    if not statuses:
        lines.append("（没有正在运行的模拟设备）")
    for s in statuses:
        path = s.get("path") or "-"
        if s.get("kind") == "scanner":
            last = s.get("last") or {}
            shown = f"{last.get('kind')} {last.get('shows')}" if last.get("kind") else "（未扫码）"
            lines.append(
                f"扫码器 {s.get('name')}  {path}  {_plugged(s)}  扫码 {s.get('scanned', 0)}  最近 {shown}"
            )
            continue
        rejected = s.get("rejected") or {}
        bad = sum(rejected.values())
        detail = f" ({', '.join(f'{k} {v}' for k, v in sorted(rejected.items()))})" if bad else ""
        lines.append(
            f"总线 {s.get('name')}  {path}  {_plugged(s)}  帧 {s.get('frames', 0)}  拒收 {bad}{detail}"
        )
        lines += [render_device(d, now) for d in s.get("devices", [])]
    return "\n".join(lines)


def cmd_status(args: argparse.Namespace, out: TextIO) -> int:
    directory = Path(args.dir)
    while True:
        statuses = read_statuses(directory) if directory.is_dir() else []
        if args.json:
            out.write(json.dumps(statuses, ensure_ascii=False, indent=1) + "\n")
        else:
            if args.watch:
                out.write("\x1b[H\x1b[2J")  # home + clear: a steady full-screen view
            out.write(render(statuses, directory) + "\n")
        out.flush()
        if not args.watch:
            return 0
        time.sleep(args.interval)


def _addresses(text: str | None) -> list[int]:
    return [int(a, 0) for a in (text or "").split(",") if a.strip()]


class SimSet:
    """The emulators started by ``hallq sim serial``."""

    def __init__(self, directory: Path, args: argparse.Namespace) -> None:
        self.directory = directory
        self.buses: dict[str, SimBus] = {}
        self.scanner: ScannerSim | None = None
        leds: list[SimDevice] = [LedScreen(a) for a in _addresses(args.led)]
        counter: list[SimDevice] = [Keypad(a) for a in _addresses(args.keypad)]
        counter += [RatingPad(a) for a in _addresses(args.rating)]
        if leds:
            self.buses["led-bus"] = SimBus(
                leds, link_path=str(directory / "ttyLED"), name="led-bus", status_dir=directory
            )
        if counter:
            self.buses["counter-bus"] = SimBus(
                counter,
                link_path=str(directory / "ttyCOUNTER"),
                name="counter-bus",
                status_dir=directory,
            )
        if args.scanner:
            self.scanner = ScannerSim(
                link_path=str(directory / "ttySCAN"), name="scanner", status_dir=directory
            )

    def start(self) -> list[str]:
        lines = [f"{name}: {bus.plug()}" for name, bus in self.buses.items()]
        if self.scanner is not None:
            lines.append(f"scanner: {self.scanner.plug()}")
        return lines

    def stop(self) -> None:
        for bus in self.buses.values():
            bus.close()
        if self.scanner is not None:
            self.scanner.close()
        for f in self.directory.glob(f"*{SUFFIX}"):
            with contextlib.suppress(FileNotFoundError):
                f.unlink()

    def device(self, address: int) -> SimDevice:
        for bus in self.buses.values():
            if address in bus.devices:
                return bus.devices[address]
        raise KeyError(f"no device at 0x{address:02X}")

    def command(self, line: str) -> str:
        """One stdin command; returns what to print."""
        words = shlex.split(line)
        if not words:
            return ""
        cmd, rest = words[0], words[1:]
        if cmd == "press" and len(rest) in (2, 3):
            dev = self.device(int(rest[0], 0))
            if not isinstance(dev, Keypad):
                return "not a keypad"
            key = KEY_NAMES.get(rest[1])
            if key is None:
                return f"keys: {', '.join(KEY_NAMES)}"
            return f"seq {dev.press(key, rest[2] if len(rest) == 3 else '')}"
        if cmd == "rate" and len(rest) == 2:
            dev = self.device(int(rest[0], 0))
            if not isinstance(dev, RatingPad):
                return "not a rating pad"
            return f"seq {dev.press(int(rest[1]))}"
        if cmd == "scan" and rest and self.scanner is not None:
            self.scanner.scan(" ".join(rest))
            return "scanned"
        if cmd in ("unplug", "plug") and len(rest) == 1 and rest[0] in self.buses:
            bus = self.buses[rest[0]]
            if cmd == "unplug":
                bus.unplug(power_loss=True)
                return "unplugged"
            return f"plugged at {bus.plug()}"
        if cmd == "show":
            return render(read_statuses(self.directory), self.directory)
        return (
            "commands: press ADDR KEY [ARG] | rate ADDR 1-5 | scan TEXT | "
            "unplug BUS | plug BUS | show | quit"
        )


def cmd_serial(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    directory = Path(args.dir)
    directory.mkdir(parents=True, exist_ok=True)
    sims = SimSet(directory, args)

    def on_term(signum: int, frame: object) -> None:
        raise SystemExit(0)  # run the finally below: ptys closed, status files removed

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        for line in sims.start():
            out.write(line + "\n")
        out.flush()
        for line in stdin:
            if line.strip() in ("quit", "exit"):
                break
            try:
                reply = sims.command(line)
            except (KeyError, ValueError) as e:
                reply = f"error: {e}"
            if reply:
                out.write(reply + "\n")
                out.flush()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        sims.stop()
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="hallq sim", description="Serial hardware simulators.")
    sub = ap.add_subparsers(dest="command", required=True)
    st = sub.add_parser("status", help="what every simulated device shows")
    st.add_argument("--dir", default=DEFAULT_DIR)
    st.add_argument("--watch", action="store_true", help="refresh until Ctrl-C")
    st.add_argument("--interval", type=float, default=1.0)
    st.add_argument("--json", action="store_true")
    se = sub.add_parser("serial", help="run emulators on ptys, script them from stdin")
    se.add_argument("--dir", default=DEFAULT_DIR)
    se.add_argument("--led", help="LED screen addresses, e.g. 1,2,3")
    se.add_argument("--keypad", help="caller keypad addresses, e.g. 0x11,0x12")
    se.add_argument("--rating", help="rating pad addresses, e.g. 0x21,0x22")
    se.add_argument("--scanner", action="store_true", help="also a QR/ID scanner")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "status":
        with contextlib.suppress(KeyboardInterrupt):
            return cmd_status(args, sys.stdout)
        return 0
    return cmd_serial(args, sys.stdout, sys.stdin)


if __name__ == "__main__":
    sys.exit(main())
