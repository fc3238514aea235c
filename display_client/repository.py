"""Database reads for the people's pages (counter figures, rating-pad identity)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.auth.models import User
from kiosk_server.tickets.models import Ticket


async def tickets_touched_by(
    session: AsyncSession, hall_id: int, day: date, user_id: int
) -> Sequence[Ticket]:
    """Today's tickets this staff member served or called (for their own figures)."""
    rows = await session.execute(
        select(Ticket).where(
            Ticket.hall_id == hall_id,
            Ticket.service_day == day,
            or_(Ticket.served_by_id == user_id, Ticket.called_by_id == user_id),
        )
    )
    return rows.scalars().all()


async def user_name(session: AsyncSession, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    user = await session.get(User, user_id)
    if user is None:
        return None
    return user.display_name or user.username
