"""The staffing planner: its plan, simulated, meets its own target; plans from history."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from hardware_sim.history import scenario_from_history
from hardware_sim.plan import _hour_figures, counters_for, main, make_plan
from hardware_sim.scenario import load_scenario
from hardware_sim.simulate import run
from kiosk_server.clock import FixedClock
from kiosk_server.context import AppContext
from kiosk_server.core.policy import PolicyParams
from kiosk_server.settings import Settings
from tests.factories import issue, make_id, serve


def test_counters_for_opens_counter_k_in_hours_planning_k_or_more() -> None:
    sc = load_scenario("township")
    counters = counters_for(sc, {8: 2, 9: 3, 10: 1, 11: 3, 12: 0, 13: 1})
    assert [c.number for c in counters] == [1, 2, 3]
    # 08:30 opening, hours merge into spans, 12:00 has nobody.
    assert counters[0].hours == ((510, 720), (780, 840))
    assert counters[1].hours == ((510, 600), (660, 720))
    assert counters[2].hours == ((540, 600), (660, 720))


def _misses(name: str, days: int, seed: int) -> dict[int, tuple[float | None, float | None]]:
    """Hours where the 15-minute plan, simulated on (days, seed), misses its
    target (p90 > 15 min, or green p90 > 5 min): no slack allowed."""
    sc = load_scenario(name)
    plan = make_plan(sc, 15.0, days=3, seed=1)
    assert plan.met
    staffed = sc.with_counters(counters_for(sc, plan.counters_by_hour))
    result = run(staffed, PolicyParams(), days=days, seed=seed)
    return {
        hour: (p90, green_p90)
        for hour, (p90, green_p90) in _hour_figures(result, staffed).items()
        if (p90 or 0.0) > 15.0 or (green_p90 or 0.0) > 5.0
    }


@pytest.mark.parametrize("name", ["township", "peak"])
def test_the_plan_simulated_meets_its_own_target(name: str) -> None:
    # On the planner's own days (seed 1, 3 days): the plan it reports as met is
    # what counters_for and the simulator make of it.
    assert _misses(name, days=3, seed=1) == {}


def test_the_busier_day_needs_more_counter_hours() -> None:
    peak = make_plan(load_scenario("peak"), 15.0, days=3, seed=1)
    ordinary = make_plan(load_scenario("township"), 15.0, days=3, seed=1)
    assert sum(peak.counters_by_hour.values()) > sum(ordinary.counters_by_hour.values())


# Known to fail: on days the planner did not see, its plan misses the target,
# and not narrowly. Seed 2, 10 days: township 14:00 p90 21.5 min, green p90
# 21.5 (target 15 / 5); peak 12:00 green p90 8.6. Other seeds, worst hour
# (p90 / green p90, seeds 2-7, 10 days each): township 15.9-38.3 / 5.2-38.0,
# peak 9.6-35.1 / 5.8-36.0. Planning over 10 days instead of 3 does not close
# the gap (township 8.6-19.4 / 4.0-10.9). The target is the planner's promise,
# so no miss is allowed here; strict, so the test turns red once it holds and
# the mark must go.
@pytest.mark.xfail(strict=True, reason="the plan is fitted to the days it simulated")
@pytest.mark.parametrize("name", ["township", "peak"])
def test_the_plan_meets_its_target_on_other_days(name: str) -> None:
    assert _misses(name, days=10, seed=2) == {}


def test_a_looser_target_needs_no_more_counters() -> None:
    sc = load_scenario("township")
    tight = make_plan(sc, 10.0)
    loose = make_plan(sc, 30.0)
    assert sum(loose.counters_by_hour.values()) <= sum(tight.counters_by_hour.values())
    assert all(loose.counters_by_hour[h] >= 1 for h in sc.hours())


def test_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["village", "--wait-p90", "15", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["met"] is True and out["wait_p90_target_min"] == 15.0
    assert set(out["counters_by_hour"]) == {f"{h:02d}" for h in range(8, 17)}
    with pytest.raises(SystemExit):
        main([])  # neither a scenario nor --hall


@pytest.mark.asyncio
async def test_plan_from_the_halls_own_history(
    client: httpx.AsyncClient,
    hall: Any,
    ctx: AppContext,
    clock: FixedClock,
    settings: Settings,
    tmp_path: Path,
) -> None:
    # Ten residents between 10:00 and 10:45, four of them elderly; 6 minutes each.
    for i in range(10):
        body = {"id_number": make_id("19491231", f"{i:03d}")} if i % 3 == 0 else {}
        await issue(client, hall, "enrol" if i % 2 else "payment", **body)
        clock.advance(minutes=1)
    for _ in range(10):
        await serve(client, hall, 1, clock=clock, minutes=6)
    async with ctx.db.read_sessions() as session:
        sc = await scenario_from_history(session, "demo", date(2026, 11, 1), date(2026, 11, 30))
    assert {it.code for it in sc.items} == {"enrol", "payment"}
    assert sc.item("enrol").arrivals_per_hour == {10: 5.0}
    assert sc.item("enrol").service_minutes.mean == pytest.approx(6.0)
    assert sc.elderly_share(10) == pytest.approx(0.4)
    assert sc.no_show_rate == 0.0
    plan = make_plan(sc, 15.0, days=2)
    assert plan.met and plan.counters_by_hour[10] >= 1
    # The command line reads the same database through --data-dir.
    out = tmp_path / "history.json"
    args = ["--hall", "demo", "--from", "2026-11-01", "--to", "2026-11-30"]
    args += ["--data-dir", str(settings.data_dir), "--json", "--save-scenario", str(out)]
    code = await asyncio.to_thread(main, args)
    assert code == 0
    assert load_scenario(out).item("payment").arrivals_per_hour == {10: 5.0}
    # No tickets in the range: a clear refusal.
    code = await asyncio.to_thread(
        main,
        ["--hall", "demo", "--from", "2026-01-01", "--to", "2026-01-31"]
        + ["--data-dir", str(settings.data_dir)],
    )
    assert code == 2
