"""Database queries for print jobs and printer devices."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.auth.models import Device
from kiosk_server.auth.principal import DeviceKind
from kiosk_server.auth.security import token_digest
from kiosk_server.printing.models import PrintJob

#: Name of the Device row that stands for the server's own printer in each hall.
LOCAL_PRINTER_NAME = "本机打印机 (server)"
OPEN_STATES = ("queued", "sent")


async def job(s: AsyncSession, job_id: int) -> PrintJob | None:
    return await s.get(PrintJob, job_id)


async def jobs_for_ticket(s: AsyncSession, ticket_id: int) -> Sequence[PrintJob]:
    rows = await s.execute(
        select(PrintJob).where(PrintJob.ticket_id == ticket_id).order_by(PrintJob.id)
    )
    return rows.scalars().all()


async def hall_jobs(
    s: AsyncSession, hall_id: int, state: str | None, limit: int
) -> Sequence[PrintJob]:
    q = select(PrintJob).where(PrintJob.hall_id == hall_id)
    if state is not None:
        q = q.where(PrintJob.state == state)
    rows = await s.execute(q.order_by(PrintJob.id.desc()).limit(limit))
    return rows.scalars().all()


async def open_jobs(s: AsyncSession, target: str, hall_id: int | None = None) -> Sequence[PrintJob]:
    """Jobs not yet printed or failed, oldest first."""
    q = select(PrintJob).where(PrintJob.target == target, PrintJob.state.in_(OPEN_STATES))
    if hall_id is not None:
        q = q.where(PrintJob.hall_id == hall_id)
    rows = await s.execute(q.order_by(PrintJob.id))
    return rows.scalars().all()


async def local_printer(s: AsyncSession, hall_id: int) -> Device | None:
    rows = await s.execute(
        select(Device).where(
            Device.hall_id == hall_id,
            Device.kind == DeviceKind.PRINTER.value,
            Device.name == LOCAL_PRINTER_NAME,
            Device.revoked_at.is_(None),
        )
    )
    return rows.scalars().first()


async def ensure_local_printer(s: AsyncSession, hall_id: int, now: datetime) -> Device:
    dev = await local_printer(s, hall_id)
    if dev is None:
        # The server's printer never authenticates: its token is thrown away.
        dev = Device(
            hall_id=hall_id,
            kind=DeviceKind.PRINTER.value,
            name=LOCAL_PRINTER_NAME,
            token_hash=token_digest("hqd_local_" + secrets.token_urlsafe(24)),
            created_at=now,
            status={},
        )
        s.add(dev)
        await s.flush()
    return dev


async def agent_devices(s: AsyncSession, hall_id: int) -> Sequence[Device]:
    rows = await s.execute(
        select(Device)
        .where(
            Device.hall_id == hall_id,
            Device.kind == DeviceKind.PRINTER.value,
            Device.name != LOCAL_PRINTER_NAME,
            Device.revoked_at.is_(None),
        )
        .order_by(Device.id)
    )
    return rows.scalars().all()


async def device(s: AsyncSession, device_id: int) -> Device | None:
    return await s.get(Device, device_id)
