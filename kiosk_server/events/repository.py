from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.events.models import EventRow
from kiosk_server.halls.models import Hall


async def next_seq(session: AsyncSession, hall_id: int) -> int:
    """Allocate the hall's next event number in the caller's transaction."""
    stmt = (
        update(Hall)
        .where(Hall.id == hall_id)
        .values(event_seq=Hall.event_seq + 1)
        .returning(Hall.event_seq)
    )
    return int((await session.execute(stmt)).scalar_one())


async def current_seq(session: AsyncSession, hall_id: int) -> int:
    stmt = select(Hall.event_seq).where(Hall.id == hall_id)
    return int((await session.execute(stmt)).scalar_one())


async def since(session: AsyncSession, hall_id: int, seq: int, limit: int) -> Sequence[EventRow]:
    stmt = (
        select(EventRow)
        .where(EventRow.hall_id == hall_id, EventRow.seq > seq)
        .order_by(EventRow.seq)
        .limit(limit)
    )
    return (await session.execute(stmt)).scalars().all()


async def oldest_seq(session: AsyncSession, hall_id: int) -> int | None:
    stmt = select(func.min(EventRow.seq)).where(EventRow.hall_id == hall_id)
    value = (await session.execute(stmt)).scalar_one()
    return int(value) if value is not None else None


async def prune(session: AsyncSession, hall_id: int, keep: int) -> None:
    top = await current_seq(session, hall_id)
    await session.execute(
        delete(EventRow).where(EventRow.hall_id == hall_id, EventRow.seq <= top - keep)
    )
