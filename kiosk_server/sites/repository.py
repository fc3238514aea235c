"""Database access for the roll-up. Queries live only here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import func, or_, select
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


async def open_cases(session: AsyncSession, hall_ids: Sequence[int]) -> Sequence[ProxyCase]:
    """Proxy cases open now: not yet handed back to the resident nor returned."""
    stmt = select(ProxyCase).where(
        ProxyCase.hall_id.in_(hall_ids), ProxyCase.state.in_(OPEN_CASE_STATES)
    )
    return (await session.execute(stmt)).scalars().all()


async def cases_maybe_open_on(
    session: AsyncSession, hall_ids: Sequence[int], day: date, closed_since: datetime
) -> Sequence[ProxyCase]:
    """Cases that may have been open at the end of a past ``day``: opened by then and
    not closed before ``closed_since``. A superset; each case's history decides."""
    stmt = select(ProxyCase).where(
        ProxyCase.hall_id.in_(hall_ids),
        ProxyCase.service_day <= day,
        or_(ProxyCase.closed_at.is_(None), ProxyCase.closed_at >= closed_since),
    )
    return (await session.execute(stmt)).scalars().all()
