"""``hallq plan``: the fewest counters per hour that keep waits under a target.

Found by simulation with the real queue core (``hardware_sim.simulate``): start
with one counter every hour, simulate a few days, and add a counter in the
first hour whose tickets wait too long, until every hour meets the target (the
p90 wait, and the green channel's p90 under a third of it). Counters in a plan
are comprehensive (every counter takes every item), as the standard asks.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from hardware_sim.scenario import CounterSpec, MinuteSpan, Scenario, ScenarioError, load_scenario
from hardware_sim.simulate import SimResult, add_policy_args, percentile, policy_params, run
from kiosk_server.core.policy import PolicyParams
from kiosk_server.errors import DomainError


@dataclass(frozen=True)
class Plan:
    scenario: Scenario
    target_p90: float
    counters_by_hour: dict[int, int]
    met: bool
    figures: dict[str, Any]
    # The plan's own simulation per issue hour: (p90 wait, green p90 wait) in
    # minutes; inf when the hour's tickets never called reach its p90.
    by_hour: Mapping[int, tuple[float | None, float | None]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario.name,
            "wait_p90_target_min": self.target_p90,
            "green_p90_target_min": round(self.target_p90 / 3.0, 2),
            "met": self.met,
            "counters_by_hour": {f"{h:02d}": n for h, n in sorted(self.counters_by_hour.items())},
            "counter_hours": sum(self.counters_by_hour.values()),
            **self.figures,
        }


def counters_for(scenario: Scenario, by_hour: dict[int, int]) -> list[CounterSpec]:
    """Counter k is open in every hour that plans at least k counters."""
    top = max(by_hour.values(), default=0)
    out: list[CounterSpec] = []
    for k in range(1, top + 1):
        spans: list[MinuteSpan] = []
        for h in sorted(by_hour):
            if by_hour[h] < k:
                continue
            start = max(h * 60, scenario.open_minute)
            end = min(h * 60 + 60, scenario.close_minute)
            if spans and spans[-1][1] == start:
                spans[-1] = (spans[-1][0], end)
            else:
                spans.append((start, end))
        if spans:
            out.append(CounterSpec(number=k, hours=tuple(spans), services=None))
    return out


def offered_load(scenario: Scenario, hour: int) -> float:
    """Counter-hours of work arriving in ``hour`` (service + walk-up)."""
    return sum(
        it.rate_at(hour) * (it.service_minutes.mean + scenario.walk_up_minutes) / 60.0
        for it in scenario.items
    )


def _hour_figures(
    result: SimResult, scenario: Scenario
) -> dict[int, tuple[float | None, float | None]]:
    """Per issue hour: (p90 wait, green p90 wait)."""
    by_hour: dict[int, tuple[list[float], list[float]]] = {h: ([], []) for h in scenario.hours()}
    for t in result.tickets:
        # A ticket never called waited "forever": it must fail the target.
        wait = t.wait if t.wait is not None else float("inf")
        bucket = by_hour.setdefault(int(t.issued // 60), ([], []))
        bucket[0].append(wait)
        if t.green:
            bucket[1].append(wait)
    return {h: (percentile(a, 90), percentile(g, 90)) for h, (a, g) in by_hour.items()}


def make_plan(
    scenario: Scenario,
    target_p90: float,
    params: PolicyParams | None = None,
    days: int = 3,
    seed: int = 1,
    max_counters: int = 12,
) -> Plan:
    params = params or PolicyParams()
    green_target = target_p90 / 3.0
    hours = scenario.hours()
    # Start from the offered load: fewer counters than the work arriving in an
    # hour can never keep up, so there is no point simulating them.
    plan = {h: max(1, min(max_counters, math.ceil(offered_load(scenario, h)))) for h in hours}

    def simulate(by_hour: dict[int, int]) -> SimResult:
        return run(scenario.with_counters(counters_for(scenario, by_hour)), params, days, seed)

    met = False
    result = simulate(plan)
    for _ in range(len(hours) * max_counters):
        figures = _hour_figures(result, scenario)
        late = [
            h
            for h in hours
            if (figures[h][0] or 0.0) > target_p90 or (figures[h][1] or 0.0) > green_target
        ]
        if not late:
            met = True
            break
        # The first late hour: add a counter there, or, when it is already
        # full, in the hour before (its backlog is what makes it late).
        h = late[0]
        while plan[h] >= max_counters and h > hours[0]:
            h -= 1
        if plan[h] >= max_counters:
            break
        plan[h] += 1
        result = simulate(plan)
    summary = result.summary()
    keys = (
        "tickets",
        "all_wait_p90_min",
        "elderly_wait_p90_min",
        "normal_wait_max_min",
        "within_15_min_share",
        "estimate_mae_min",
    )
    return Plan(
        scenario,
        target_p90,
        plan,
        met,
        {k: summary[k] for k in keys},
        _hour_figures(result, scenario),
    )


def format_plan(plan: Plan) -> str:
    lines = [
        f"{plan.scenario.name}: p90 wait <= {plan.target_p90:g} min, "
        f"green channel p90 <= {plan.target_p90 / 3:.1f} min",
        "",
        "hour   counters",
        "-----  --------",
    ]
    for h, n in sorted(plan.counters_by_hour.items()):
        lines.append(f"{h:02d}:00  {n:>8}  {'#' * n}")
    f = plan.figures
    lines += [
        "",
        f"counter-hours {sum(plan.counters_by_hour.values())}; simulated p90 wait "
        f"{f['all_wait_p90_min']} min, elderly p90 {f['elderly_wait_p90_min']} min, "
        f"{f['tickets']} tickets",
    ]
    if not plan.met:
        lines.append("target NOT met even at the most counters allowed")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="hallq plan",
        description="Fewest counters per hour that keep the p90 wait under a target, by "
        "simulation; from a scenario file or from a hall's own history.",
    )
    p.add_argument("scenario", nargs="?", help="scenario file or bundled name")
    p.add_argument("--hall", help="plan from this hall's history in the database instead")
    p.add_argument("--from", dest="date_from", type=date.fromisoformat, help="YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", type=date.fromisoformat, help="YYYY-MM-DD")
    p.add_argument("--data-dir", help="the server's data directory (default: HALLQ_DATA_DIR)")
    p.add_argument("--wait-p90", type=float, default=15.0, help="target p90 wait in minutes")
    p.add_argument("--days", type=int, default=3, help="simulated days per trial plan")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--max-counters", type=int, default=12)
    p.add_argument("--save-scenario", help="write the scenario built from history here")
    p.add_argument("--json", action="store_true")
    add_policy_args(p)
    args = p.parse_args(list(sys.argv[1:] if argv is None else argv))
    if (args.scenario is None) == (args.hall is None):
        p.error("give a SCENARIO or --hall (with --from and --to)")
    try:
        if args.hall is not None:
            if args.date_from is None or args.date_to is None:
                p.error("--hall needs --from and --to")
            from hardware_sim.history import scenario_from_history_cli

            scenario = asyncio.run(
                scenario_from_history_cli(args.hall, args.date_from, args.date_to, args.data_dir)
            )
            if args.save_scenario:
                with open(args.save_scenario, "w", encoding="utf-8") as fh:
                    json.dump(scenario.to_json(), fh, ensure_ascii=False, indent=2)
        else:
            scenario = load_scenario(args.scenario)
    except (ScenarioError, LookupError, DomainError) as exc:
        print(f"hallq plan: {exc}", file=sys.stderr)
        return 2
    plan = make_plan(
        scenario,
        args.wait_p90,
        policy_params(args),
        days=args.days,
        seed=args.seed,
        max_counters=args.max_counters,
    )
    print(
        json.dumps(plan.to_json(), ensure_ascii=False, indent=2) if args.json else format_plan(plan)
    )
    return 0 if plan.met else 1


if __name__ == "__main__":
    raise SystemExit(main())
