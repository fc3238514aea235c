"""Database access for notices."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.notices.models import Notice


async def list_for_hall(session: AsyncSession, hall_id: int) -> Sequence[Notice]:
    stmt = (
        select(Notice)
        .where(Notice.hall_id == hall_id)
        .order_by(Notice.start_date.desc(), Notice.sort_order, Notice.id)
    )
    return (await session.execute(stmt)).scalars().all()


async def active(session: AsyncSession, hall_id: int, day: date) -> Sequence[Notice]:
    stmt = (
        select(Notice)
        .where(Notice.hall_id == hall_id, Notice.start_date <= day, Notice.end_date >= day)
        .order_by(Notice.sort_order, Notice.start_date, Notice.id)
    )
    return (await session.execute(stmt)).scalars().all()


async def get(session: AsyncSession, notice_id: int) -> Notice | None:
    return await session.get(Notice, notice_id)


async def delete(session: AsyncSession, notice: Notice) -> None:
    await session.delete(notice)
