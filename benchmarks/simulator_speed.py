"""Simulator speed: simulated hall days per second on each shipped scenario.

python -m benchmarks.simulator_speed [--days 20]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from benchmarks import machine, print_table, write_result
from hardware_sim.scenario import bundled, load_scenario
from hardware_sim.simulate import run
from kiosk_server.core.policy import PolicyParams


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.simulator_speed")
    p.add_argument("--days", type=int, default=20)
    args = p.parse_args(argv)
    rows: list[dict[str, Any]] = []
    for name in bundled():
        sc = load_scenario(name)
        began = time.perf_counter()
        result = run(sc, PolicyParams(), days=args.days, seed=1)
        elapsed = time.perf_counter() - began
        rows.append(
            {
                "scenario": name,
                "days": args.days,
                "tickets_per_day": round(len(result.tickets) / args.days),
                "days_per_s": round(args.days / elapsed, 1),
                "ms_per_day": round(1000 * elapsed / args.days, 1),
            }
        )
    print_table("Simulator speed (green_burst, real core)", rows)
    write_result("simulator_speed", {"rows": rows, "machine": machine()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
