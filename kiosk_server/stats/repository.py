"""Loads the rows the figures are computed from (the only DB access of stats)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.auth.models import User
from kiosk_server.tickets.models import Rating, Ticket


async def tickets_between(
    s: AsyncSession, hall_id: int, start: date, end: date
) -> Sequence[Ticket]:
    stmt = select(Ticket).where(
        Ticket.hall_id == hall_id, Ticket.service_day >= start, Ticket.service_day <= end
    )
    return (await s.execute(stmt.order_by(Ticket.id))).scalars().all()


async def ratings_for_days(
    s: AsyncSession, hall_id: int, start: date, end: date
) -> Sequence[Rating]:
    """Ratings of the tickets of those service days (a late rating counts for its ticket's day)."""
    stmt = (
        select(Rating)
        .join(Ticket, Ticket.id == Rating.ticket_id)
        .where(Rating.hall_id == hall_id, Ticket.service_day >= start, Ticket.service_day <= end)
    )
    return (await s.execute(stmt.order_by(Rating.id))).scalars().all()


async def user_names(s: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = (await s.execute(select(User).where(User.id.in_(ids)))).scalars().all()
    return {u.id: u.display_name or u.username for u in rows}
