"""``hallq sim``: the hardware simulators.

hallq sim printer ...   ESC/POS printer emulator (hardware_sim.printer.cli)
hallq sim serial ...    LED screens, keypads, rating pads, scanner on ptys
hallq sim status ...    what every simulated device shows (serial devices,
                        the demo's printer and its traffic generator)
hallq sim traffic ...   residents and staff driving a running server
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

USAGE = "usage: hallq sim {printer,serial,status,traffic} ..."


def render_extra(s: dict[str, Any]) -> str | None:
    """Status lines for the printer and the traffic generator (the demo writes them)."""
    if s.get("kind") == "printer":
        last = s.get("last_ticket") or "（未打印）"
        return (
            f"打印机 {s.get('name')}  {s.get('address')}  状态 {s.get('state')}  "
            f"已打印 {s.get('tickets', 0)} 张  最近 {last}"
        )
    if s.get("kind") == "traffic":
        c = s.get("counts") or {}
        at = "  ".join(f"{k}号窗口 {v}" for k, v in (s.get("counters") or {}).items())
        return (
            f"客流 {s.get('scenario')}  模拟时间 {s.get('sim_time')} ({s.get('speed')}×)  "
            f"取号 {c.get('issued', 0)}  叫号 {c.get('called', 0)}  办结 {c.get('finished', 0)}  "
            f"过号 {c.get('no_show', 0)}  评价 {c.get('rated', 0)}" + (f"\n  {at}" if at else "")
        )
    return None


def render_all(statuses: list[dict[str, Any]], directory: Path) -> str:
    from hardware_sim.serial.cli import render

    serial = [s for s in statuses if s.get("kind") not in ("printer", "traffic")]
    lines = [render(serial, directory)] if serial or not statuses else []
    if not serial and statuses:
        lines.append(f"hallq 模拟设备  {directory}")
    lines += [x for s in statuses if (x := render_extra(s)) is not None]
    return "\n".join(lines)


def cmd_status(argv: Sequence[str], out: TextIO) -> int:
    from hardware_sim.serial.cli import DEFAULT_DIR
    from hardware_sim.serial.status import read_statuses

    ap = argparse.ArgumentParser(
        prog="hallq sim status", description="What every simulated device shows."
    )
    ap.add_argument("--dir", default=DEFAULT_DIR, help="status directory (the demo's DATA_DIR/sim)")
    ap.add_argument("--watch", action="store_true", help="refresh until Ctrl-C")
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    directory = Path(args.dir)
    with contextlib.suppress(KeyboardInterrupt):
        while True:
            statuses = read_statuses(directory) if directory.is_dir() else []
            if args.json:
                out.write(json.dumps(statuses, ensure_ascii=False, indent=1) + "\n")
            else:
                if args.watch:
                    out.write("\x1b[H\x1b[2J")
                out.write(render_all(statuses, directory) + "\n")
            out.flush()
            if not args.watch:
                break
            time.sleep(args.interval)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        print(__doc__)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "printer":
        from hardware_sim.printer.cli import main as printer_main

        return printer_main(rest)
    if command == "serial":
        from hardware_sim.serial.cli import main as serial_main

        return serial_main(["serial", *rest])
    if command == "status":
        return cmd_status(rest, sys.stdout)
    if command == "traffic":
        from hardware_sim.traffic import main as traffic_main

        return traffic_main(rest)
    print(f"{USAGE}\nunknown simulator {command!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
