"""Database access for halls, their catalogue and counters."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.errors import NotFound
from kiosk_server.halls.models import Counter, Hall, Service


async def get_hall(session: AsyncSession, code: str, *, lock: bool = False) -> Hall:
    stmt = select(Hall).where(Hall.code == code)
    if lock:
        stmt = stmt.with_for_update()
    hall = (await session.execute(stmt)).scalar_one_or_none()
    if hall is None:
        raise NotFound(f"there is no hall with code {code!r}")
    return hall


async def get_hall_by_id(session: AsyncSession, hall_id: int, *, lock: bool = False) -> Hall:
    stmt = select(Hall).where(Hall.id == hall_id)
    if lock:
        stmt = stmt.with_for_update()
    hall = (await session.execute(stmt)).scalar_one_or_none()
    if hall is None:
        raise NotFound(f"there is no hall with id {hall_id}")
    return hall


async def list_halls(session: AsyncSession) -> Sequence[Hall]:
    return (await session.execute(select(Hall).order_by(Hall.id))).scalars().all()


async def list_services(
    session: AsyncSession, hall_id: int, *, enabled_only: bool = True
) -> Sequence[Service]:
    stmt = select(Service).where(Service.hall_id == hall_id)
    if enabled_only:
        stmt = stmt.where(Service.enabled.is_(True))
    return (await session.execute(stmt.order_by(Service.sort_order, Service.id))).scalars().all()


async def get_service(session: AsyncSession, hall_id: int, code: str) -> Service | None:
    stmt = select(Service).where(Service.hall_id == hall_id, Service.code == code)
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_service_by_id(session: AsyncSession, service_id: int) -> Service:
    svc = await session.get(Service, service_id)
    if svc is None:
        raise NotFound(f"there is no service item with id {service_id}")
    return svc


async def service_with_prefix(session: AsyncSession, hall_id: int, prefix: str) -> Service | None:
    stmt = select(Service).where(Service.hall_id == hall_id, Service.prefix == prefix)
    return (await session.execute(stmt)).scalar_one_or_none()


async def max_sort_order(session: AsyncSession, hall_id: int) -> int:
    stmt = select(func.coalesce(func.max(Service.sort_order), 0)).where(Service.hall_id == hall_id)
    return int((await session.execute(stmt)).scalar_one())


async def list_counters(session: AsyncSession, hall_id: int) -> Sequence[Counter]:
    stmt = select(Counter).where(Counter.hall_id == hall_id).order_by(Counter.number)
    return (await session.execute(stmt)).scalars().all()


async def get_counter(session: AsyncSession, counter_id: int, *, lock: bool = False) -> Counter:
    stmt = select(Counter).where(Counter.id == counter_id)
    if lock:
        stmt = stmt.with_for_update()
    counter = (await session.execute(stmt)).scalar_one_or_none()
    if counter is None:
        raise NotFound(f"there is no counter with id {counter_id}")
    return counter


async def counter_by_number(session: AsyncSession, hall_id: int, number: int) -> Counter | None:
    stmt = select(Counter).where(Counter.hall_id == hall_id, Counter.number == number)
    return (await session.execute(stmt)).scalar_one_or_none()
