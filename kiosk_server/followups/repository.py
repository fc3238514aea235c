"""Database access for follow-ups and proxy cases."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.auth.models import User
from kiosk_server.followups.models import FollowUp, ProxyCase


async def followup_for_ticket(s: AsyncSession, ticket_id: int) -> FollowUp | None:
    stmt = select(FollowUp).where(FollowUp.ticket_id == ticket_id)
    return (await s.execute(stmt)).scalar_one_or_none()


async def case_for_ticket(s: AsyncSession, ticket_id: int) -> ProxyCase | None:
    stmt = select(ProxyCase).where(ProxyCase.ticket_id == ticket_id)
    return (await s.execute(stmt)).scalar_one_or_none()


async def get_followup(s: AsyncSession, followup_id: int) -> FollowUp | None:
    return await s.get(FollowUp, followup_id)


async def get_case(s: AsyncSession, case_id: int) -> ProxyCase | None:
    return await s.get(ProxyCase, case_id)


async def list_followups(
    s: AsyncSession,
    hall_id: int,
    *,
    state: str | None = None,
) -> Sequence[FollowUp]:
    stmt = select(FollowUp).where(FollowUp.hall_id == hall_id)
    if state:
        stmt = stmt.where(FollowUp.state == state)
    return (await s.execute(stmt.order_by(FollowUp.id.desc()))).scalars().all()


async def list_cases(
    s: AsyncSession,
    hall_id: int,
    *,
    state: str | None = None,
    service: str | None = None,
    day_from: date | None = None,
    day_to: date | None = None,
) -> Sequence[ProxyCase]:
    stmt = select(ProxyCase).where(ProxyCase.hall_id == hall_id)
    if state:
        stmt = stmt.where(ProxyCase.state == state)
    if service:
        stmt = stmt.where(ProxyCase.service_code == service)
    if day_from:
        stmt = stmt.where(ProxyCase.service_day >= day_from)
    if day_to:
        stmt = stmt.where(ProxyCase.service_day <= day_to)
    return (await s.execute(stmt.order_by(ProxyCase.id.desc()))).scalars().all()


async def user_name(s: AsyncSession, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    user = await s.get(User, user_id)
    return (user.display_name or user.username) if user else None
