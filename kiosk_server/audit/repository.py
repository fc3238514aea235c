"""Reads of the audit log (there are no updates or deletes anywhere)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.audit.models import AuditEntry


async def entries(
    s: AsyncSession,
    hall_id: int,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    actor: str | None = None,
    action: str | None = None,
    before_id: int | None = None,
    limit: int = 1000,
) -> Sequence[AuditEntry]:
    """Newest first; page with ``before_id`` = the last id seen."""
    stmt = select(AuditEntry).where(AuditEntry.hall_id == hall_id)
    if since is not None:
        stmt = stmt.where(AuditEntry.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEntry.at < until)
    if actor:
        stmt = stmt.where(AuditEntry.actor == actor)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if before_id is not None:
        stmt = stmt.where(AuditEntry.id < before_id)
    return (await s.execute(stmt.order_by(AuditEntry.id.desc()).limit(limit))).scalars().all()
