"""Hold (挂起) and call-back (回呼) do not reset the transaction clock: the service
time is the sum of the serving segments, without the time held."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from kiosk_server import ticker
from kiosk_server.clock import FixedClock
from kiosk_server.context import AppContext
from kiosk_server.db.uow import unit_of_work
from kiosk_server.events import repository as events_repo
from tests.factories import HallKit, act, issue

pytestmark = pytest.mark.asyncio


async def _events(ctx: AppContext, hall: HallKit, type_: str) -> list[dict[str, Any]]:
    async with unit_of_work(ctx.db, write=False) as uow:
        rows = await events_repo.since(uow.session, hall.hall_id, 0, 1000)
    return [dict(r.data) for r in rows if r.type == type_]


async def _counter(client: httpx.AsyncClient, hall: HallKit, n: int) -> dict[str, Any]:
    r = await client.get(f"/api/v1/counters/{hall.counter_ids[n]}", headers=hall.auth(f"staff{n}"))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def _hold_and_call_back(
    client: httpx.AsyncClient, hall: HallKit, clock: FixedClock
) -> dict[str, Any]:
    """A001 served 7 min, held 20 min, called back: the clock stands at 7 min."""
    await issue(client, hall, "enrol")  # instant item, target 10 minutes
    await act(client, hall, 1, "call-next")
    started = (await act(client, hall, 1, "start")).json()["ticket"]
    clock.advance(minutes=7)
    r = await act(client, hall, 1, "hold")
    assert r.status_code == 200 and r.json()["ticket"]["state"] == "held"
    clock.advance(minutes=20)
    r = await act(client, hall, 1, "call", number="A001")
    assert r.status_code == 200 and r.json()["ticket"]["state"] == "called"
    return started


async def test_restart_keeps_the_first_start_and_sums_the_segments(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext, clock: FixedClock
) -> None:
    started = await _hold_and_call_back(client, hall, clock)
    # Called back, not started again: the clock is paused at the 7 minutes served.
    called = await _counter(client, hall, 1)
    assert (called["elapsed_seconds"], called["clock"]) == (420, "ok")
    clock.advance(minutes=1)
    assert (await _counter(client, hall, 1))["elapsed_seconds"] == 420
    r = await act(client, hall, 1, "start")
    assert r.json()["ticket"]["started_at"] == started["started_at"]
    clock.advance(minutes=2)
    r = await client.get(f"/api/v1/counters/{hall.counter_ids[1]}", headers=hall.auth("staff1"))
    assert (r.json()["elapsed_seconds"], r.json()["clock"]) == (540, "amber")
    clock.advance(minutes=2)
    assert (await _counter(client, hall, 1))["clock"] == "red"  # 11 min served
    done = (await act(client, hall, 1, "finish", outcome="completed")).json()["ticket"]
    assert done["started_at"] == started["started_at"]
    [finished] = await _events(ctx, hall, "ticket.finished")
    assert finished["service_seconds"] == 660 and finished["over_target"] is True
    r = await client.get(f"/api/v1/halls/{hall.code}/figures", headers=hall.auth("supervisor"))
    o = r.json()["overall"]
    # 7 + 4 minutes served: not 4 (the old restart) and not 34 (with the time held).
    assert (o["service_avg"], o["instant_service_avg"], o["instant_over_target"]) == (11.0, 11.0, 1)
    assert o["busy_minutes"] == 11.0


async def test_holding_cannot_reset_an_overtime_clock(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext, clock: FixedClock
) -> None:
    await issue(client, hall, "enrol")
    await act(client, hall, 1, "call-next")
    await act(client, hall, 1, "start")
    clock.advance(minutes=9)
    await act(client, hall, 1, "hold")
    clock.advance(minutes=30)  # held: 39 minutes since the first start
    assert await ticker.overtime(ctx) == 0
    await act(client, hall, 1, "call", number="A001")
    await act(client, hall, 1, "start")
    clock.advance(seconds=59)
    assert await ticker.overtime(ctx) == 0  # 9:59 served
    clock.advance(seconds=2)
    assert await ticker.overtime(ctx) == 1  # 10:01 served, over the 10 minutes
    [alert] = await _events(ctx, hall, "transaction.overtime")
    assert alert["number"] == "A001" and alert["elapsed_seconds"] == 601


async def test_dashboard_clock_counts_serving_time_only(
    client: httpx.AsyncClient, hall: HallKit, clock: FixedClock
) -> None:
    started = await _hold_and_call_back(client, hall, clock)
    sup = hall.auth("supervisor")
    d = (await client.get(f"/api/v1/halls/{hall.code}/dashboard", headers=sup)).json()
    c1 = next(c for c in d["counters"] if c["counter"] == 1)
    # Called back: the clock stands still, so the page has nothing to tick from.
    assert (c1["ticket_state"], c1["elapsed_seconds"], c1["started_at"]) == ("called", 420, None)
    await act(client, hall, 1, "start")
    clock.advance(minutes=4)
    d = (await client.get(f"/api/v1/halls/{hall.code}/dashboard", headers=sup)).json()
    c1 = next(c for c in d["counters"] if c["counter"] == 1)
    assert c1["elapsed_seconds"] == 660 and c1["overtime"] is True
    assert [o["counter"] for o in d["overtime"]] == [1]
    # The ticking clock counts from now - 11 min; the first start is kept beside it.
    when = datetime.fromisoformat
    assert when(c1["first_started_at"]) == when(started["started_at"])
    assert when(c1["started_at"]) == clock.now() - timedelta(minutes=11)


async def test_transfer_of_a_served_ticket_stops_its_clock(
    client: httpx.AsyncClient, hall: HallKit, clock: FixedClock
) -> None:
    await issue(client, hall, "enrol")
    await act(client, hall, 1, "call-next")
    await act(client, hall, 1, "start")
    clock.advance(minutes=3)
    assert (await act(client, hall, 1, "transfer", service="payment")).status_code == 200
    clock.advance(minutes=2)
    await act(client, hall, 2, "call-next")
    await act(client, hall, 2, "start")
    clock.advance(minutes=5)
    await act(client, hall, 2, "finish", outcome="completed")
    r = await client.get(f"/api/v1/halls/{hall.code}/figures", headers=hall.auth("supervisor"))
    o = r.json()["overall"]
    # The copy at counter 2 has its own clock: 5 minutes, not the 3 before the transfer.
    assert (o["served"], o["service_avg"]) == (1, 5.0)
