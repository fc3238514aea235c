"""The staffing planner: its plan, simulated, meets its own target; plans from history."""

from __future__ import annotations

import asyncio
import functools
import json
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from hardware_sim.history import scenario_from_history
from hardware_sim.plan import (
    RISK,
    Plan,
    counters_for,
    group_misses,
    judged_groups,
    main,
    make_plan,
    simulate_waits,
)
from hardware_sim.scenario import load_scenario
from hardware_sim.simulate import generate_day, run
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


@functools.cache
def _plan(name: str) -> Plan:
    plan = make_plan(load_scenario(name), 15.0)
    assert plan.met
    return plan


def _misses(name: str, days: int, seed: int) -> dict[tuple[int, ...], tuple[bool, bool]]:
    """Groups of hours where the 15-minute plan, re-simulated with the real
    simulator on (days, seed), misses its target (p90 > 15 min, or green p90 >
    5 min), judged as the planner judges: waits by issue hour, quiet hours with
    their neighbours. No slack allowed."""
    sc = load_scenario(name)
    staffed = sc.with_counters(counters_for(sc, _plan(name).counters_by_hour))
    result = run(staffed, PolicyParams(), days=days, seed=seed)
    return {g: m for g, m in group_misses(result.tickets, staffed, 15.0, 5.0).items() if any(m)}


def test_the_waits_only_simulation_is_the_simulation() -> None:
    # The planner skips the wait estimate at issue; calls must not change.
    sc = load_scenario("peak")
    staffed = sc.with_counters(counters_for(sc, {h: 3 for h in sc.hours()}))
    real = run(staffed, PolicyParams(), days=2, seed=3).tickets
    fast = simulate_waits(staffed, PolicyParams(), [generate_day(staffed, 3, d) for d in range(2)])
    assert [(t.issued, t.called, t.counter) for t in real] == [
        (t.issued, t.called, t.counter) for t in fast
    ]


def test_quiet_hours_are_judged_with_their_neighbours() -> None:
    township = load_scenario("township")
    # 12:00 and 16:00 have too few greens per fortnight to judge alone.
    assert judged_groups(township, 0) == [(h,) for h in township.hours()]
    assert (12, 13) in judged_groups(township, 1) and (15, 16) in judged_groups(township, 1)
    village = judged_groups(load_scenario("village"), 1)
    assert [h for g in village for h in g] == list(range(8, 17)) and len(village) < 9


@pytest.mark.parametrize("name", ["township", "peak"])
def test_the_plan_simulated_meets_its_own_target(name: str) -> None:
    # On the planner's own days the pooled per-hour figures it reports keep the
    # target everywhere (they are its long-run figures, judged with a margin).
    plan = _plan(name)
    for hour, (p90, green) in plan.by_hour.items():
        assert (p90 or 0.0) <= 15.0 and (green or 0.0) <= 5.0, (hour, p90, green)
    assert all(r <= RISK for r in plan.risk_by_group.values())


def test_the_busier_day_needs_more_counter_hours() -> None:
    peak = _plan("peak")
    ordinary = _plan("township")
    assert sum(peak.counters_by_hour.values()) > sum(ordinary.counters_by_hour.values())


# Days the planner did not see (it plans on seed 1): a fortnight (10 days) on
# seed 2, and three more on seeds 3-5, keep the target in every judged group.
# Before, fitted to 3 days, the township plan missed by up to 38 min here.
@pytest.mark.parametrize("name", ["township", "peak"])
def test_the_plan_meets_its_target_on_other_days(name: str) -> None:
    assert _misses(name, days=10, seed=2) == {}


@pytest.mark.parametrize("name", ["township", "peak"])
@pytest.mark.parametrize("seed", [3, 4, 5])
def test_the_plan_meets_its_target_on_more_held_out_fortnights(name: str, seed: int) -> None:
    assert _misses(name, days=10, seed=seed) == {}


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
