"""``hallq sim printer``: run the printer emulator until interrupted."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from hardware_sim.printer.emulator import STATES, PrinterEmulator


def _host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    try:
        number = int(port)
    except ValueError:
        raise argparse.ArgumentTypeError(f"port must be a number, got {port!r}") from None
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError("port must be 0..65535")
    return host.strip("[]"), number


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hallq sim printer",
        description="ESC/POS receipt printer emulator: writes each cut ticket as .txt and .png.",
    )
    p.add_argument(
        "--listen",
        type=_host_port,
        metavar="HOST:PORT",
        help="TCP address to accept jobs on (default 127.0.0.1:9100 unless only --pty is given; "
        "port 0 picks a free one)",
    )
    p.add_argument("--pty", action="store_true", help="also serve a pseudo-terminal (serial mode)")
    p.add_argument("--out", type=Path, default=Path("printer-out"), help="output directory")
    p.add_argument("--paper", type=int, choices=(58, 80), default=80, help="paper width in mm")
    p.add_argument("--state", choices=STATES, default="ok", help="initial printer state")
    p.add_argument(
        "--state-file",
        type=Path,
        help="file holding a state word, re-read on every request (default OUT/state); "
        "e.g. `echo paper_out > OUT/state`",
    )
    p.add_argument(
        "--chinese-default",
        action="store_true",
        help="start in Chinese mode, as printers set up by DIP switch do (default: needs FS &)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log every ticket and warning")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    emulator = PrinterEmulator(
        args.out,
        paper_mm=args.paper,
        state=args.state,
        state_file=args.state_file or args.out / "state",
        chinese_default=args.chinese_default,
    )
    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    previous: dict[signal.Signals, Any] = {}
    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, on_signal)
    except ValueError:  # not the main thread: the caller stops us by other means
        pass
    try:
        listen = args.listen or (None if args.pty else ("127.0.0.1", 9100))
        if listen is not None:
            try:
                host, port = emulator.start_tcp(*listen)
            except OSError as e:
                print(f"cannot listen on {listen[0]}:{listen[1]}: {e}", file=sys.stderr)
                return 2
            shown = f"[{host}]" if ":" in host else host
            print(f"listening on tcp://{shown}:{port}", flush=True)
        if args.pty:
            print(f"pty: {emulator.start_pty()}", flush=True)
        print(f"writing tickets to {args.out.resolve()}", flush=True)
        done.wait()
    finally:
        emulator.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print(f"stopped after {len(emulator.tickets)} ticket(s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
