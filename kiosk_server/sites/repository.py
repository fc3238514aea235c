"""Database access for the roll-up. Queries live only here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.followups.models import ProxyCase
from kiosk_server.halls.models import Counter, Hall, Service
from kiosk_server.tickets.models import Rating, Ticket

# Cases still on the hall's desk or upstream: not yet handed back to the resident.
OPEN_CASE_STATES = ("accepted", "submitted", "result_returned")


async def halls(session: AsyncSession, ids: frozenset[int] | None) -> Sequence[Hall]:
    stmt = select(Hall).order_by(Hall.kind, Hall.code)
    if ids is not None:
        stmt = stmt.where(Hall.id.in_(ids))
    return (await session.execute(stmt)).scalars().all()


async def services(session: AsyncSession, hall_ids: Sequence[int]) -> Sequence[Service]:
    stmt = select(Service).where(Service.hall_id.in_(hall_ids))
    return (await session.execute(stmt)).scalars().all()


async def counter_counts(session: AsyncSession, hall_ids: Sequence[int]) -> dict[int, int]:
    stmt = (
        select(Counter.hall_id, func.count())
        .where(Counter.hall_id.in_(hall_ids))
        .group_by(Counter.hall_id)
    )
    return {int(h): int(n) for h, n in (await session.execute(stmt)).all()}


async def tickets(
    session: AsyncSession, hall_ids: Sequence[int], first: date, last: date
) -> Sequence[Ticket]:
    stmt = select(Ticket).where(
        Ticket.hall_id.in_(hall_ids), Ticket.service_day >= first, Ticket.service_day <= last
    )
    return (await session.execute(stmt)).scalars().all()


async def ratings(
    session: AsyncSession, hall_ids: Sequence[int], first: date, last: date
) -> Sequence[Rating]:
    """Ratings of the tickets served in the period (a ticket is rated once)."""
    stmt = (
        select(Rating)
        .join(Ticket, Ticket.id == Rating.ticket_id)
        .where(
            Rating.hall_id.in_(hall_ids),
            Ticket.service_day >= first,
            Ticket.service_day <= last,
        )
    )
    return (await session.execute(stmt)).scalars().all()


async def open_cases(
    session: AsyncSession, hall_ids: Sequence[int]
) -> dict[int, list[tuple[str, date]]]:
    """Open proxy cases per hall, as (state, deadline): they count now, not per period."""
    stmt = select(ProxyCase.hall_id, ProxyCase.state, ProxyCase.deadline).where(
        ProxyCase.hall_id.in_(hall_ids), ProxyCase.state.in_(OPEN_CASE_STATES)
    )
    out: dict[int, list[tuple[str, date]]] = {}
    for hall_id, state, deadline in (await session.execute(stmt)).all():
        out.setdefault(int(hall_id), []).append((str(state), deadline))
    return out
