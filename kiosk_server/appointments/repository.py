"""Database access for appointments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, case, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.appointments.models import (
    ACTIVE_STATES,
    Appointment,
    AppointmentConfig,
    AppointmentSlot,
)


async def get_config(s: AsyncSession, hall_id: int) -> AppointmentConfig | None:
    return await s.get(AppointmentConfig, hall_id)


async def slots_of_day(
    s: AsyncSession, hall_id: int, service_id: int | None, day: date
) -> Sequence[AppointmentSlot]:
    stmt = select(AppointmentSlot).where(
        AppointmentSlot.hall_id == hall_id, AppointmentSlot.day == day
    )
    if service_id is not None:
        stmt = stmt.where(AppointmentSlot.service_id == service_id)
    return (await s.execute(stmt)).scalars().all()


async def ensure_slot(
    s: AsyncSession,
    *,
    hall_id: int,
    service_id: int,
    day: date,
    start: datetime,
    end: datetime,
    capacity: int,
) -> AppointmentSlot:
    """The slot row, created if missing. INSERT … ON CONFLICT DO NOTHING so two
    first bookings of a slot do not both create it (PostgreSQL; SQLite writers
    are serialised anyway)."""
    values = {
        "hall_id": hall_id,
        "service_id": service_id,
        "day": day,
        "start_at": start,
        "end_at": end,
        "capacity": capacity,
        "booked": 0,
        "closed": False,
    }
    bind = s.get_bind()
    if bind.dialect.name == "postgresql":
        await s.execute(pg_insert(AppointmentSlot).values(values).on_conflict_do_nothing())
    else:
        await s.execute(sqlite_insert(AppointmentSlot).values(values).on_conflict_do_nothing())
    stmt = select(AppointmentSlot).where(
        AppointmentSlot.hall_id == hall_id,
        AppointmentSlot.service_id == service_id,
        AppointmentSlot.start_at == start,
    )
    slot = (await s.execute(stmt.execution_options(populate_existing=True))).scalar_one()
    return slot


async def take_place(s: AsyncSession, slot_id: int) -> bool:
    """Raise ``booked`` by one unless the slot is full or closed: one conditional
    UPDATE, so the check and the increment cannot be split by a concurrent booking."""
    result = await s.execute(
        update(AppointmentSlot)
        .where(
            AppointmentSlot.id == slot_id,
            AppointmentSlot.booked < AppointmentSlot.capacity,
            AppointmentSlot.closed.is_(False),
        )
        .values(booked=AppointmentSlot.booked + 1)
        .execution_options(synchronize_session=False)
    )
    return (result.rowcount or 0) == 1  # type: ignore[attr-defined]


async def give_back_place(s: AsyncSession, slot_id: int) -> None:
    await s.execute(
        update(AppointmentSlot)
        .where(AppointmentSlot.id == slot_id, AppointmentSlot.booked > 0)
        .values(booked=AppointmentSlot.booked - 1)
        .execution_options(synchronize_session=False)
    )


async def by_code(s: AsyncSession, code: str, *, lock: bool = False) -> Appointment | None:
    stmt = select(Appointment).where(Appointment.code == code)
    if lock:
        stmt = stmt.with_for_update()
    return (await s.execute(stmt)).scalar_one_or_none()


async def code_taken(s: AsyncSession, code: str) -> bool:
    stmt = select(func.count()).select_from(Appointment).where(Appointment.code == code)
    return int((await s.execute(stmt)).scalar_one()) > 0


async def active_for_person(
    s: AsyncSession, hall_id: int, service_id: int, day: date, person_hash: str
) -> Appointment | None:
    stmt = select(Appointment).where(
        Appointment.hall_id == hall_id,
        Appointment.service_id == service_id,
        Appointment.day == day,
        Appointment.person_hash == person_hash,
        Appointment.state.in_(ACTIVE_STATES),
    )
    return (await s.execute(stmt)).scalars().first()


async def for_person(
    s: AsyncSession, hall_id: int, person_hash: str, since: date
) -> Sequence[Appointment]:
    stmt = (
        select(Appointment)
        .where(
            Appointment.hall_id == hall_id,
            Appointment.person_hash == person_hash,
            Appointment.day >= since,
        )
        .order_by(Appointment.slot_start)
    )
    return (await s.execute(stmt)).scalars().all()


async def booked_in_slots(s: AsyncSession, slot_ids: Sequence[int]) -> Sequence[Appointment]:
    if not slot_ids:
        return []
    stmt = (
        select(Appointment)
        .where(Appointment.slot_id.in_(slot_ids), Appointment.state == "booked")
        .order_by(Appointment.slot_start, Appointment.id)
    )
    return (await s.execute(stmt)).scalars().all()


async def list_for_day(s: AsyncSession, hall_id: int, day: date) -> Sequence[Appointment]:
    stmt = (
        select(Appointment)
        .where(Appointment.hall_id == hall_id, Appointment.day == day)
        .order_by(Appointment.slot_start, Appointment.id)
    )
    return (await s.execute(stmt)).scalars().all()


async def overdue(s: AsyncSession, now: datetime) -> Sequence[Appointment]:
    stmt = select(Appointment).where(Appointment.state == "booked", Appointment.no_show_at <= now)
    return (await s.execute(stmt)).scalars().all()


async def by_ticket_code(s: AsyncSession, hall_id: int, code: str) -> Appointment | None:
    stmt = select(Appointment).where(Appointment.hall_id == hall_id, Appointment.code == code)
    return (await s.execute(stmt)).scalar_one_or_none()


async def day_counts(
    s: AsyncSession, hall_id: int, first: date, last: date
) -> list[tuple[date, int, int, int, int, int]]:
    """Per appointment day: all bookings, checked in, no-shows, cancelled, cancelled by the hall."""

    def n(state: str) -> ColumnElement[int]:
        return func.sum(case((Appointment.state == state, 1), else_=0))

    stmt = (
        select(
            Appointment.day,
            func.count(),
            n("checked_in"),
            n("no_show"),
            n("cancelled"),
            n("cancelled_by_hall"),
        )
        .where(and_(Appointment.hall_id == hall_id, Appointment.day.between(first, last)))
        .group_by(Appointment.day)
        .order_by(Appointment.day)
    )
    rows = (await s.execute(stmt)).all()
    return [(r[0], int(r[1]), int(r[2]), int(r[3]), int(r[4]), int(r[5])) for r in rows]
