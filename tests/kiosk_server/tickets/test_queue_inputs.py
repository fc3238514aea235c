"""What the server feeds the wait estimator: the inputs of the simulator whose
accuracy is measured (counters closing with the hall's hours, greens arriving
until the kiosk stops issuing, the transaction clock without the time a ticket
was held)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from hardware_sim.scenario import Scenario, parse_scenario
from hardware_sim.simulate import DaySimulation, History, default_estimator
from kiosk_server.clock import FixedClock
from kiosk_server.context import AppContext
from kiosk_server.core.estimate import CounterLoad, DispatchEstimator
from kiosk_server.core.policy import PolicyParams, make_policy
from kiosk_server.db.uow import unit_of_work
from kiosk_server.halls import repository as halls_repo
from kiosk_server.halls.config import HallConfig
from kiosk_server.tickets.queue import (
    QueueView,
    green_outlook,
    issuing_ends_in,
    load_queue,
    service_times,
)
from tests.factories import ID_ELDERLY_1949, HallKit, act, issue, login_all, make_hall

pytestmark = pytest.mark.asyncio

# The test hall's default hours are 08:30-12:00 and 13:30-17:00 on weekdays;
# the clock starts on a Wednesday at 10:00 local time.
LUNCH_IN_20 = 100  # minutes from 10:00 to 11:40
CLOSE_IN_20 = 400  # to 16:40


async def _queue(ctx: AppContext, kit: HallKit, now: datetime) -> QueueView:
    async with unit_of_work(ctx.db, write=False) as uow:
        hall = await halls_repo.get_hall(uow.session, kit.code)
        return await load_queue(ctx, uow.session, hall, now)


def _scenario(counters: int) -> Scenario:
    """A simulated hall with the test hall's hours, counters and enrolment item
    (target 10 minutes, as in the catalogue)."""
    return parse_scenario(
        {
            "name": "the test hall",
            "open": "08:30",
            "close": "17:00",
            "counters": [
                {"number": n, "hours": ["08:30-12:00", "13:30-17:00"], "services": "all"}
                for n in range(1, counters + 1)
            ],
            "items": [
                {
                    "code": "enrol",
                    "prefix": "A",
                    "target_minutes": 10,
                    "service_minutes": {"mean": 6, "sd": 2},
                    "arrivals_per_hour": {},
                }
            ],
        }
    )


def _simulator_loads(scenario: Scenario, minute: float) -> list[CounterLoad]:
    """The simulator's loads for its idle counters at ``minute`` after midnight."""
    policy = make_policy(PolicyParams(name="fifo"), lambda now: now.time())
    day = DaySimulation(scenario, policy, [], 0, History(), default_estimator)
    return day.loads(minute)


async def test_a_lunch_closing_pushes_late_tickets_past_the_break_as_in_the_simulator(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext, clock: FixedClock
) -> None:
    clock.advance(minutes=LUNCH_IN_20)
    tickets = [await issue(client, hall, "enrol") for _ in range(40)]
    q = await _queue(ctx, hall, clock.now())

    scenario = _scenario(4)
    sim_loads = _simulator_loads(scenario, 11 * 60 + 40)
    # Per counter: the morning shift closing in 20 minutes, the afternoon from 13:30.
    assert [(c.available_in_minutes, c.closes_in_minutes) for c in sim_loads[:2]] == [
        (0.0, 20.0),
        (110.0, None),
    ]
    assert q.loads == sim_loads
    # No history yet: both fall back to 60 % of the 10-minute target.
    times = History().service_times(scenario)
    assert q.estimates == DispatchEstimator(times).estimate(q.ordered, sim_loads)
    assert q.ordered[-1].ticket_id == tickets[-1]["id"]

    # Four counters get through about a dozen 6.5-minute tickets before noon:
    # the first are served this morning, the last only after 13:30.
    first, last = q.estimates[0], q.estimates[-1]
    assert first is not None and first < 20
    assert last is not None and last >= 110
    assert tickets[-1]["estimated_wait_minutes"] >= 110
    # Had the counters been taken to work on, the queue would look done by 13:00.
    on_and_on = [replace(c, closes_in_minutes=None) for c in sim_loads[::2]]
    blind = DispatchEstimator(times).estimate(q.ordered, on_and_on)[-1]
    assert blind is not None and blind < 80


async def test_at_the_days_close_counters_serve_the_queue_out_as_in_the_simulator(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext, clock: FixedClock
) -> None:
    clock.advance(minutes=CLOSE_IN_20)
    for _ in range(40):
        await issue(client, hall, "enrol")
    q = await _queue(ctx, hall, clock.now())
    # The last span's counters take every ticket issued before closing.
    assert q.loads == _simulator_loads(_scenario(4), 16 * 60 + 40)
    assert all(c.closes_in_minutes is None and c.available_in_minutes == 0 for c in q.loads)
    last = q.estimates[-1]
    assert last is not None and last > 20


async def test_greens_to_come_stop_when_the_kiosk_stops_issuing(
    client: httpx.AsyncClient, ctx: AppContext, clock: FixedClock
) -> None:
    kit = await make_hall(ctx, "strict", policy={"name": "strict"})
    await login_all(client, kit)
    clock.advance(minutes=LUNCH_IN_20)
    await issue(client, kit, "enrol", id_number=ID_ELDERLY_1949)
    async with unit_of_work(ctx.db, write=False) as uow:
        hall = await halls_repo.get_hall(uow.session, kit.code)
        config = HallConfig.of(hall)
        services = {
            s.id: s
            for s in await halls_repo.list_services(uow.session, hall.id, enabled_only=False)
        }
        now = clock.now()
        times = await service_times(ctx, uow.session, hall.id, list(services.values()), now)
        outlook = await green_outlook(ctx, uow.session, hall, config, services, times, now)
    assert outlook is not None and outlook.until_minutes == 20.0
    # At lunch the kiosk issues nothing, after closing nothing more.
    assert issuing_ends_in(config, now.replace(hour=now.hour + 1)) == 0.0
    assert issuing_ends_in(config, now.replace(hour=now.hour + 5)) == 20.0
    assert issuing_ends_in(config, now.replace(hour=now.hour + 6)) == 0.0


class _Statements:
    """Counts the SQL statements the app runs (to show none is per ticket)."""

    def __init__(self, ctx: AppContext) -> None:
        self.n = 0
        self.engine = ctx.db.engine.sync_engine
        event.listen(self.engine, "before_cursor_execute", self._count)

    def _count(self, *_: Any) -> None:
        self.n += 1

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)


async def test_a_called_back_transaction_counts_its_served_time_not_the_time_held(
    client: httpx.AsyncClient, ctx: AppContext, clock: FixedClock
) -> None:
    kit = await make_hall(ctx, "solo", counters=1)
    await login_all(client, kit)
    first = await issue(client, kit, "enrol")
    await issue(client, kit, "enrol")
    assert (await act(client, kit, 1, "call-next")).json()["ticket"]["id"] == first["id"]
    assert (await act(client, kit, 1, "start")).status_code == 200
    clock.advance(minutes=2)
    assert (await act(client, kit, 1, "hold")).json()["ticket"]["state"] == "held"
    clock.advance(minutes=30)
    assert (await act(client, kit, 1, "call", number=first["number"])).status_code == 200
    clock.advance(minutes=1)
    # Called back, not started again: the clock stands at the 2 minutes served.
    # (The counter's afternoon shift is a second load, idle.)
    load, afternoon = (await _queue(ctx, kit, clock.now())).loads
    assert (load.busy_service, load.busy_elapsed_minutes) == ("enrol", 2.0)
    assert (afternoon.busy_service, afternoon.closes_in_minutes) == (None, None)
    assert (await act(client, kit, 1, "start")).status_code == 200
    clock.advance(minutes=1)

    q = await _queue(ctx, kit, clock.now())
    load = q.loads[0]
    assert load.busy_elapsed_minutes == 3.0  # 2 + 1 served; the 30 held and 1 called not
    # The waiting ticket starts when the 6-minute (fallback) transaction is over:
    # in 3 minutes, not at once as for one 34 minutes in.
    assert q.estimates == [3.0]

    # The serving clocks come with the open tickets: more tickets, no more queries.
    counted = _Statements(ctx)
    try:
        await _queue(ctx, kit, clock.now())
        few = counted.n
        for _ in range(5):
            await issue(client, kit, "enrol")
        counted.n = 0
        more = await _queue(ctx, kit, clock.now())
    finally:
        counted.close()
    assert len(more.ordered) == 6
    assert few > 0 and counted.n == few
