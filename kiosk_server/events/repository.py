from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.events.models import EventRow
from kiosk_server.halls.models import Hall

# On the table, built once: a plain statement, not the ORM's bulk-update path.
_HALLS: Table = Hall.__table__  # type: ignore[assignment]
_NEXT_SEQ = (
    update(_HALLS)
    .where(_HALLS.c.id == bindparam("hall_id"))
    .values(event_seq=_HALLS.c.event_seq + bindparam("count"))
    .returning(_HALLS.c.event_seq)
)


async def next_seq(session: AsyncSession, hall_id: int, count: int = 1) -> int:
    """Allocate the hall's next ``count`` event numbers in the caller's
    transaction; returns the first of them."""
    params = {"hall_id": hall_id, "count": count}
    return int((await session.execute(_NEXT_SEQ, params)).scalar_one()) - count + 1


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


async def insert_many(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Several events in one statement (their ids are not needed back)."""
    if rows:
        await session.execute(insert(EventRow), rows)
