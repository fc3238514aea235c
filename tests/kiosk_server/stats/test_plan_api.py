"""GET /api/v1/halls/{hall}/plan: the counters to open per hour tomorrow (明日窗口安排建议),
planned by simulation from the hall's own history."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

import httpx
import pytest

from hardware_sim.history import build_scenario, ticket_facts
from hardware_sim.plan import _hour_figures, counters_for
from hardware_sim.simulate import run
from kiosk_server.clock import FixedClock
from kiosk_server.context import AppContext
from kiosk_server.halls import repository as halls_repo
from kiosk_server.halls.config import HallConfig
from kiosk_server.stats import plan as stats_plan
from tests.factories import SHANGHAI, HallKit, add_history_day, issue, login_all, make_hall

pytestmark = pytest.mark.asyncio

# The clock stands on Wednesday 2026-11-25; tomorrow is Thursday 2026-11-26 and
# the history window is 2026-10-28 .. 2026-11-24.
THURSDAYS = [date(2026, 10, 29), date(2026, 11, 5), date(2026, 11, 12), date(2026, 11, 19)]
MONDAYS = [date(2026, 11, 16), date(2026, 11, 23)]
BUSY = {9: 24, 10: 24, 14: 12, 15: 12}
QUIET = {9: 4, 10: 4, 14: 2, 15: 2}
OPEN_HOURS = [8, 9, 10, 11, 13, 14, 15, 16]  # 08:30-12:00, 13:30-17:00: 12:00 drops out


async def get_plan(
    client: httpx.AsyncClient, kit: HallKit, who: str = "supervisor", hall: str | None = None,
    **params: Any,
) -> httpx.Response:  # fmt: skip
    return await client.get(
        f"/api/v1/halls/{hall or kit.code}/plan", params=params, headers=kit.auth(who)
    )


async def seed(ctx: AppContext, kit: HallKit, days: list[date], per_hour: dict[int, int]) -> int:
    n = 0
    for d in days:
        n += await add_history_day(ctx, kit, d, per_hour, minutes=6.0, green_every=4)
    return n


async def test_plan_for_tomorrow_from_the_same_weekdays_meets_its_target(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext
) -> None:
    busy = await seed(ctx, hall, THURSDAYS, BUSY)
    await seed(ctx, hall, MONDAYS, QUIET)
    r = await get_plan(client, hall)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["date"] == "2026-11-26" and body["open"] is True
    assert body["opening_hours"] == ["08:30-12:00", "13:30-17:00"]
    assert body["counters_available"] == 4
    assert (body["wait_p90_target_min"], body["green_p90_target_min"]) == (15.0, 5.0)
    assert body["reason"] is None
    assert body["history"] == {
        "start": "2026-10-28",
        "end": "2026-11-24",
        "basis": "same_weekday",
        "days": 4,
        "tickets": busy,
    }
    plan = body["plan"]
    assert plan["met"] is True
    assert [h["hour"] for h in plan["hours"]] == OPEN_HOURS
    labels = {h["hour"]: h["label"] for h in plan["hours"]}
    assert (labels[8], labels[9], labels[11], labels[13]) == (
        "08:30-09:00",
        "09:00-10:00",
        "11:00-12:00",
        "13:30-14:00",
    )
    assert plan["counters_by_hour"] == {f"{h['hour']:02d}": h["counters"] for h in plan["hours"]}
    assert plan["counter_hours"] == sum(plan["counters_by_hour"].values())
    by_hour = {h["hour"]: h for h in plan["hours"]}
    # 24 residents an hour at 6.5 minutes each is 2.6 counters of work at 09:00;
    # nobody comes at 08:00 or 11:00 in this history.
    assert 3 <= by_hour[9]["counters"] <= 4 and by_hour[8]["counters"] == 1
    assert plan["peak_counters"] == max(h["counters"] for h in plan["hours"])
    for h in plan["hours"]:
        assert not h["late"], h
        assert h["wait_p90_min"] is None or h["wait_p90_min"] <= 15.0, h
        assert h["green_wait_p90_min"] is None or h["green_wait_p90_min"] <= 5.0, h
    assert plan["tickets_per_day"] == pytest.approx(sum(BUSY.values()), rel=0.25)

    # Simulated independently, the counters shown (none over lunch) keep the target.
    async with ctx.db.read_sessions() as s:
        h = await halls_repo.get_hall(s, hall.code)
        facts = [
            f
            for f in await ticket_facts(s, h, date(2026, 10, 28), date(2026, 11, 24))
            if f.day in THURSDAYS
        ]
        services = list(await halls_repo.list_services(s, h.id, enabled_only=False))
        sc = build_scenario(h, services, facts, date(2026, 10, 28), date(2026, 11, 24))
        params = HallConfig.of(h).params
    sc = replace(sc, open_minute=8 * 60 + 30, close_minute=17 * 60)
    shown = {int(k): v for k, v in plan["counters_by_hour"].items()}
    staffed = sc.with_counters(counters_for(sc, shown))
    result = run(staffed, params, days=stats_plan.SIM_DAYS, seed=7)
    for hour, (p90, green) in _hour_figures(result, staffed).items():
        assert p90 is None or p90 <= 15.0, (hour, p90)
        assert green is None or green <= 5.0, (hour, green)


async def test_busier_history_plans_more_counters_and_other_weekdays_use_working_days(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext
) -> None:
    quiet = await make_hall(ctx, "quiet")
    await login_all(client, quiet)
    busy_n = await seed(ctx, hall, THURSDAYS, BUSY)
    quiet_n = await seed(ctx, hall, MONDAYS, QUIET)
    await seed(ctx, quiet, THURSDAYS, QUIET)
    busy = (await get_plan(client, hall)).json()["plan"]
    calm = (await get_plan(client, quiet)).json()["plan"]
    assert calm["met"] is True and calm["counters_by_hour"]["09"] <= 2
    assert busy["counters_by_hour"]["09"] > calm["counters_by_hour"]["09"]
    assert busy["counter_hours"] > calm["counter_hours"]

    # Friday: no Fridays in the history, so every working day with tickets counts,
    # and the quiet Mondays lower the average.
    r = await get_plan(client, hall, date="2026-11-27")
    body = r.json()
    assert body["date"] == "2026-11-27"
    assert body["history"]["basis"] == "working_days"
    assert body["history"]["days"] == 6 and body["history"]["tickets"] == busy_n + quiet_n
    assert body["plan"]["counters_by_hour"]["09"] <= busy["counters_by_hour"]["09"]
    assert body["plan"]["tickets_per_day"] < busy["tickets_per_day"]


async def test_no_history_is_a_plain_answer_not_an_error(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    # Today's tickets are not history: the day is still running.
    await issue(client, hall, "enrol")
    r = await get_plan(client, hall)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["open"] is True and body["plan"] is None
    assert body["reason"] == "no_history" and "history" in body["message"]
    assert body["history"]["days"] == 0 and body["history"]["basis"] is None


async def test_closed_days_are_said_not_planned(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext, clock: FixedClock
) -> None:
    await seed(ctx, hall, THURSDAYS, BUSY)
    r = await get_plan(client, hall, date="2026-11-28")  # a Saturday
    body = r.json()
    assert r.status_code == 200
    assert (body["open"], body["reason"], body["plan"]) == (False, "closed", None)
    assert body["opening_hours"] == [] and body["history"] is None
    # 2026-10-01 is a Thursday, open by the weekly hours, but National Day.
    clock.set(datetime(2026, 9, 30, 16, 0, tzinfo=SHANGHAI))
    await login_all(client, hall)  # tokens from November are not yet valid
    body = (await get_plan(client, hall)).json()
    assert body["date"] == "2026-10-01"
    assert (body["open"], body["reason"], body["plan"]) == (False, "holiday", None)


async def test_only_this_halls_supervisors_and_sensible_values(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext
) -> None:
    other = await make_hall(ctx, "other", counters=2)
    await login_all(client, other)
    for who in ("supervisor", "admin", "staff"):
        r = await get_plan(client, other, who, hall=hall.code)
        assert r.status_code == 403, (who, r.text)
    assert (await get_plan(client, hall, "staff")).status_code == 403
    assert (await get_plan(client, hall, "admin")).status_code == 200
    assert (await get_plan(client, hall, date="2026-11-24")).status_code == 422  # the past
    assert (await get_plan(client, hall, date="2027-01-30")).status_code == 422  # too far
    assert (await get_plan(client, hall, wait_p90="0")).status_code == 422


async def test_the_plan_is_kept_for_an_hour_and_recomputed_when_settings_change(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext, clock: FixedClock
) -> None:
    await seed(ctx, hall, THURSDAYS, BUSY)
    first = (await get_plan(client, hall)).json()
    clock.advance(minutes=30)
    again = (await get_plan(client, hall)).json()
    assert again == first  # the same answer, computed_at included
    other_target = (await get_plan(client, hall, wait_p90="30")).json()
    assert other_target["computed_at"] != first["computed_at"]
    assert other_target["plan"]["counter_hours"] <= first["plan"]["counter_hours"]
    # A new counter changes the plan's limits: planned again at once.
    r = await client.post(
        f"/api/v1/halls/{hall.code}/counters", json={"number": 5}, headers=hall.auth("admin")
    )
    assert r.status_code in (200, 201), r.text
    fresh = (await get_plan(client, hall)).json()
    assert fresh["counters_available"] == 5 and fresh["computed_at"] != first["computed_at"]
    # And after an hour, in any case.
    computed = fresh["computed_at"]
    clock.advance(minutes=61)
    assert (await get_plan(client, hall)).json()["computed_at"] != computed
