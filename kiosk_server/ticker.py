"""Background duties on a timer: overtime alerts, device last-seen, event pruning.

Each duty is a plain coroutine taking the context, so tests call it directly
with a moved clock instead of waiting for the timer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import update

from kiosk_server.auth.models import Device
from kiosk_server.context import AppContext
from kiosk_server.core.timing import over_target
from kiosk_server.counters import repository as counters_repo
from kiosk_server.db.uow import unit_of_work
from kiosk_server.events import repository as events_repo
from kiosk_server.events.service import emit
from kiosk_server.halls import repository as halls_repo
from kiosk_server.tickets import repository as tickets_repo
from kiosk_server.tickets.service import event_data

log = logging.getLogger(__name__)
Duty = Callable[[AppContext], Awaitable[None]]


async def overtime(ctx: AppContext) -> int:
    """Emit ``transaction.overtime`` once for each transaction past its target."""
    now = ctx.clock.now()
    sent = 0
    async with unit_of_work(ctx.db) as uow:
        s = uow.session
        candidates = await tickets_repo.serving_overdue_candidates(s)
        clocks = await counters_repo.clocks_for(s, [t.id for t in candidates])
        for t in candidates:
            svc = await halls_repo.get_service_by_id(s, t.service_id)
            # Serving time over every segment: a hold and call-back does not reset it.
            served = counters_repo.ticket_clock(clocks, t).seconds(now)
            if t.started_at is None or not over_target(served, svc.target_minutes):
                continue
            if not await tickets_repo.mark_overtime_notified(s, t.id):
                continue  # another process announced it
            hall = await halls_repo.get_hall_by_id(s, t.hall_id)
            counter = await halls_repo.get_counter(s, t.counter_id) if t.counter_id else None
            data = event_data(t, svc, counter.number if counter else None)
            data["elapsed_seconds"] = int(served)
            data["target_minutes"] = svc.target_minutes
            await emit(ctx, uow, hall.id, hall.code, "transaction.overtime", data, now)
            sent += 1
    return sent


async def persist_device_seen(ctx: AppContext) -> None:
    seen: dict[int, object] = ctx.extras.get("device_seen", {})
    if not seen:
        return
    ctx.extras["device_seen"] = {}
    async with unit_of_work(ctx.db) as uow:
        for device_id, when in seen.items():
            await uow.session.execute(
                update(Device).where(Device.id == device_id).values(last_seen_at=when)
            )


async def prune_events(ctx: AppContext) -> None:
    async with unit_of_work(ctx.db) as uow:
        for hall in await halls_repo.list_halls(uow.session):
            await events_repo.prune(uow.session, hall.id, ctx.settings.event_retention)


async def _overtime(ctx: AppContext) -> None:
    await overtime(ctx)


DUTIES: list[Duty] = [_overtime, persist_device_seen]
SLOW_DUTIES: list[Duty] = [prune_events]


async def run(ctx: AppContext, extra: list[Duty] | None = None) -> None:
    rounds = 0
    while True:
        await asyncio.sleep(ctx.settings.ticker_seconds)
        rounds += 1
        duties = DUTIES + (extra or []) + (SLOW_DUTIES if rounds % 120 == 1 else [])
        for duty in duties:
            try:
                await duty(ctx)
            except asyncio.CancelledError:
                raise
            except Exception:  # one failing duty must not stop the others
                log.exception("background duty %s failed", getattr(duty, "__name__", duty))
