"""Serving times and held tickets: the only queries of the counters package."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.core.states import TicketState
from kiosk_server.core.timing import ServingClock
from kiosk_server.counters.models import ServingTime
from kiosk_server.tickets.models import Ticket


def clock_of(row: ServingTime | None) -> ServingClock:
    if row is None:
        return ServingClock()
    return ServingClock(row.served_seconds, row.running_since, row.segments)


def ticket_clock(clocks: Mapping[int, ServingClock], t: Ticket) -> ServingClock:
    """The ticket's serving clock from ``clocks`` (loaded below).

    A started ticket without a row (rows written straight into the database, as
    history imports and tests do) is timed as one segment from its start.
    """
    found = clocks.get(t.id)
    if found is not None or t.started_at is None:
        return found or ServingClock()
    if t.state == "serving":
        return ServingClock(0.0, t.started_at, 1)
    if t.finished_at is not None:
        return ServingClock(max(0.0, (t.finished_at - t.started_at).total_seconds()), None, 1)
    return ServingClock(segments=1)


async def clock(session: AsyncSession, t: Ticket) -> ServingClock:
    """One ticket's serving clock."""
    row = await session.get(ServingTime, t.id)
    return clock_of(row) if row is not None else ticket_clock({}, t)


async def save_clock(session: AsyncSession, ticket_id: int, clock: ServingClock) -> None:
    row = await session.get(ServingTime, ticket_id)
    if row is None:
        row = ServingTime(ticket_id=ticket_id)
        session.add(row)
    row.served_seconds = clock.closed_seconds
    row.running_since = clock.running_since
    row.segments = clock.segments
    await session.flush()


async def clocks_for(session: AsyncSession, ticket_ids: Collection[int]) -> dict[int, ServingClock]:
    """Serving clocks of a few tickets (the ones at counters, overtime candidates)."""
    if not ticket_ids:
        return {}
    stmt = select(ServingTime).where(ServingTime.ticket_id.in_(list(ticket_ids)))
    return {r.ticket_id: clock_of(r) for r in (await session.execute(stmt)).scalars()}


async def clocks_between(
    session: AsyncSession, hall_ids: Sequence[int], first: date, last: date
) -> dict[int, ServingClock]:
    """Serving clocks of the halls' tickets of those service days (figures, roll-up)."""
    stmt = (
        select(ServingTime)
        .join(Ticket, Ticket.id == ServingTime.ticket_id)
        .where(
            Ticket.hall_id.in_(hall_ids),
            Ticket.service_day >= first,
            Ticket.service_day <= last,
        )
    )
    return {r.ticket_id: clock_of(r) for r in (await session.execute(stmt)).scalars()}


async def held_tickets(session: AsyncSession, hall_id: int, day: date) -> Sequence[Ticket]:
    """The hall's held (挂起) tickets of that service day, oldest hold first."""
    stmt = (
        select(Ticket)
        .where(
            Ticket.hall_id == hall_id,
            Ticket.service_day == day,
            Ticket.state == TicketState.HELD.value,
        )
        .order_by(Ticket.called_at, Ticket.id)
    )
    return (await session.execute(stmt)).scalars().all()
