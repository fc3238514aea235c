"""The simulator over the real core: determinism, hand-worked waits, policy
comparison and the estimator's measured target on the shipped scenarios."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest

from hardware_sim.scenario import Scenario, load_scenario, parse_scenario
from hardware_sim.simulate import (
    Arrival,
    SimResult,
    generate_day,
    main,
    percentile,
    run,
)
from kiosk_server.core.policy import PolicyParams
from kiosk_server.core.states import TicketState

REQUIRED_KEYS = {
    "policy",
    "days",
    "tickets",
    "elderly_wait_p90_min",
    "normal_wait_p90_min",
    "normal_wait_max_min",
    "all_wait_p90_min",
    "within_15_min_share",
    "estimate_mae_min",
    "naive_estimate_mae_min",
}


def one_counter(**extra: Any) -> Scenario:
    data: dict[str, Any] = {
        "name": "one counter, fixed times",
        "open": "08:00",
        "close": "12:00",
        "counters": [{"number": 1, "services": "all"}],
        "walk_up_minutes": 0,
        "items": [
            {
                "code": "enrol",
                "prefix": "A",
                "target_minutes": 10,
                "service_minutes": {"mean": 10, "sd": 0},
                "arrivals_per_hour": {"08": 1},
            }
        ],
    }
    data.update(extra)
    return parse_scenario(data)


def fixed(*minutes: float, green: tuple[int, ...] = (), no_show: tuple[int, ...] = ()) -> Any:
    arrivals = [
        Arrival(8 * 60 + m, "enrol", i in green, 10.0, i in no_show) for i, m in enumerate(minutes)
    ]
    return lambda _day: arrivals


def waits(result: SimResult) -> list[float | None]:
    return [t.wait for t in result.tickets]


def test_one_counter_fixed_times_gives_the_waits_worked_out_by_hand() -> None:
    # Arrivals 08:00, 08:01, 08:02, 08:25 at one counter, 10 min each:
    # calls at 08:00, 08:10, 08:20, 08:30 -> waits 0, 9, 18, 5.
    result = run(one_counter(), PolicyParams("fifo"), arrivals=fixed(0, 1, 2, 25))
    assert waits(result) == [0.0, 9.0, 18.0, 5.0]
    assert [t.state for t in result.tickets] == [TicketState.DONE] * 4
    assert [t.number for t in result.tickets] == ["A001", "A002", "A003", "A004"]
    s = result.summary()
    assert s["all_wait_p90_min"] == 18.0 and s["normal_wait_max_min"] == 18.0
    assert s["within_15_min_share"] == 0.75


def test_strict_calls_a_later_green_first_and_no_show_costs_only_the_recalls() -> None:
    sc = one_counter(recall_minutes=1.0, recalls_before_no_show=2)
    # t0 at 0 (served 0-10), t1 normal at 1, t2 green at 2 -> strict calls t2 at 10.
    # t2 is a no-show: call + 2 recalls = 3 min, so t1 is called at 13.
    result = run(sc, PolicyParams("strict"), arrivals=fixed(0, 1, 2, green=(2,), no_show=(2,)))
    assert waits(result) == [0.0, 12.0, 8.0]
    assert result.tickets[2].state is TicketState.NO_SHOW
    fifo = run(sc, PolicyParams("fifo"), arrivals=fixed(0, 1, 2, green=(2,), no_show=(2,)))
    # FIFO: t1 at 10 (till 20), t2 at 20.
    assert waits(fifo) == [0.0, 9.0, 18.0]


def test_estimates_at_issue_follow_the_queue_and_the_history() -> None:
    result = run(one_counter(), PolicyParams("fifo"), days=3, arrivals=fixed(0, 1, 2, 25))
    day1, day2 = result.tickets[:4], result.tickets[8:]
    assert day1[0].estimate == 0.0
    # Without history the item is assumed to take 60 % of its 10 min target.
    assert day1[1].estimate == pytest.approx(5.0)
    # Day 3 knows the item takes 10 min: t1 arrives 1 min into t0 -> 9 min left.
    assert day2[1].estimate == pytest.approx(9.0)
    # t2 arrives 2 min into t0: its 8 min left + t1's 10 + 0.5 handover.
    assert day2[2].estimate == pytest.approx(18.5)
    # The naive figure counts only the waiting: nobody ahead of t1 (t0 is at the
    # counter), so 0; t2 has 1 ahead x 10 min mean / 1 counter.
    assert day2[1].naive == 0.0 and day2[1].ahead == 0
    assert day2[2].naive == pytest.approx(10.0)


def test_arrivals_are_deterministic_per_seed_and_day() -> None:
    peak = load_scenario("peak")
    assert generate_day(peak, 7, 0) == generate_day(peak, 7, 0)
    assert generate_day(peak, 7, 0) != generate_day(peak, 8, 0)
    assert generate_day(peak, 7, 0) != generate_day(peak, 7, 1)
    day = generate_day(peak, 7, 0)
    assert all(peak.open_minute <= a.minute < peak.close_minute for a in day)
    # Roughly the scenario's expected count (Poisson: sd about sqrt(n)).
    expected = peak.arrivals_per_day()
    assert abs(len(day) - expected) < 4 * expected**0.5


def test_the_simulation_is_deterministic_for_a_seed() -> None:
    township = load_scenario("township")
    a = run(township, PolicyParams(), days=2, seed=3).summary()
    b = run(township, PolicyParams(), days=2, seed=3).summary()
    c = run(township, PolicyParams(), days=2, seed=4).summary()
    assert a == b
    assert a != c


def test_percentile_is_nearest_rank() -> None:
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 90) == 5.0
    assert percentile(list(map(float, range(1, 11))), 90) == 9.0
    assert percentile([], 90) is None


@cache
def compare(name: str, days: int = 10) -> dict[str, dict[str, Any]]:
    sc = load_scenario(name)
    return {
        p: run(sc, PolicyParams(name=p), days=days, seed=1).summary()
        for p in ("fifo", "strict", "green_burst")
    }


def test_green_burst_keeps_normal_waits_near_fifo_while_the_elderly_wait_less() -> None:
    r = compare("peak")
    fifo, burst, strict = r["fifo"], r["green_burst"], r["strict"]
    assert burst["normal_wait_max_min"] <= 1.2 * fifo["normal_wait_max_min"]
    assert burst["elderly_wait_p90_min"] < 0.6 * fifo["elderly_wait_p90_min"]
    # Strict green-first starves normal tickets more than the burst limit does.
    assert strict["normal_wait_max_min"] > burst["normal_wait_max_min"]
    # Same seeded arrivals for every policy.
    assert fifo["tickets"] == burst["tickets"] == strict["tickets"]


@pytest.mark.parametrize("name", ["village", "township", "peak"])
def test_the_estimator_meets_its_target_on_the_shipped_scenarios(name: str) -> None:
    for policy in ("green_burst", "fifo"):
        s = compare(name)[policy]
        assert s["estimate_mae_min"] <= 2.5, (policy, s)
        assert s["estimate_mae_min"] <= 0.7 * s["naive_estimate_mae_min"], (policy, s)
        # On the same tickets too (the naive figure has none when no counter is open).
        assert s["estimate_mae_common_min"] <= 0.7 * s["naive_estimate_mae_common_min"]


def test_cli_json_has_the_documented_keys(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["township", "--days", "1", "--seed", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= REQUIRED_KEYS
    assert out["policy"] == "green_burst" and out["days"] == 1 and out["tickets"] > 50


def test_cli_compare_prints_every_policy_side_by_side(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["village", "--days", "2", "--compare"]) == 0
    text = capsys.readouterr().out
    header = next(line for line in text.splitlines() if "fifo" in line)
    assert header.split() == ["fifo", "strict", "green_burst"]
    assert "estimate MAE (min)" in text and "naive estimate MAE (min)" in text
    assert main(["village", "--days", "1", "--compare", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["policy"] for r in data["results"]] == ["fifo", "strict", "green_burst"]


def test_cli_policy_parameters_reach_the_policy(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["peak", "--days", "2", "--json"]
    assert main([*args, "--green-burst", "1", "--max-wait", "10"]) == 0
    tight = json.loads(capsys.readouterr().out)
    assert main([*args, "--green-burst", "6", "--max-wait", "90"]) == 0
    loose = json.loads(capsys.readouterr().out)
    assert tight["normal_wait_max_min"] < loose["normal_wait_max_min"]
    assert tight["elderly_wait_p90_min"] > loose["elderly_wait_p90_min"]


def test_cli_rejects_a_bad_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nowhere"]) == 2
    assert "no such file or bundled scenario" in capsys.readouterr().err
