"""Notices: CRUD by hall admins, the active set for a hall's local date, live updates.

A change emits ``hall.updated`` (the event the hall screen already follows) with
the combined scrolling line and the active list, so screens update without a reload.
A date boundary changes the active set without any write; the ticker duty
``announce_date_changes`` notices that and emits the same event.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from kiosk_server.audit.service import record
from kiosk_server.auth.principal import Principal, Role
from kiosk_server.context import AppContext
from kiosk_server.db.uow import UnitOfWork, unit_of_work
from kiosk_server.errors import NotFound, ValidationFailed
from kiosk_server.events.service import emit
from kiosk_server.halls import repository as halls_repo
from kiosk_server.halls.config import HallConfig
from kiosk_server.halls.models import Hall
from kiosk_server.halls.refusals import refusal
from kiosk_server.halls.schemas import DisplayNotice
from kiosk_server.notices import repository as repo
from kiosk_server.notices.models import Notice
from kiosk_server.notices.schemas import NoticeIn, NoticeOut, NoticePatch

# Shown on screens between the parts of the scrolling line.
SEPARATOR = " · "


def hall_day(ctx: AppContext, hall: Hall) -> date:
    return HallConfig.of(hall).service_day(ctx.clock.now())


def notice_out(n: Notice, hall_code: str, today: date) -> NoticeOut:
    if today < n.start_date:
        status = "scheduled"
    elif today > n.end_date:
        status = "expired"
    else:
        status = "active"
    return NoticeOut(
        id=n.id,
        hall=hall_code,
        kind=n.kind,  # type: ignore[arg-type]
        title=n.title,
        text=n.text,
        start_date=n.start_date,
        end_date=n.end_date,
        sort_order=n.sort_order,
        active=status == "active",
        status=status,  # type: ignore[arg-type]
    )


def combined_line(hall: Hall, active: list[Notice]) -> str | None:
    """The scrolling line: the hall's standing notice, then each active scroll notice."""
    parts = [hall.notice] if hall.notice else []
    parts += [n.text for n in active if n.kind == "scroll"]
    return SEPARATOR.join(parts) if parts else None


def display_notice(n: Notice) -> DisplayNotice:
    return DisplayNotice(
        id=n.id,
        kind=n.kind,
        title=n.title,
        text=n.text,
        start_date=n.start_date,
        end_date=n.end_date,
    )


async def for_display(
    ctx: AppContext, uow: UnitOfWork, hall: Hall, day: date
) -> tuple[str | None, list[DisplayNotice]]:
    """The snapshot's ``notice`` line and ``notices`` list for ``day``."""
    active = list(await repo.active(uow.session, hall.id, day))
    return combined_line(hall, active), [display_notice(n) for n in active]


async def _announce(ctx: AppContext, uow: UnitOfWork, hall: Hall, change: str) -> None:
    line, items = await for_display(ctx, uow, hall, hall_day(ctx, hall))
    ctx.extras.setdefault("notices_active", {})[hall.id] = [n.id for n in items]
    await emit(
        ctx,
        uow,
        hall.id,
        hall.code,
        "hall.updated",
        {
            "changed": ["notices"],
            "change": change,
            "notice": line,
            "notices": [n.model_dump(mode="json") for n in items],
            "name": hall.name,
        },
    )


def _check_dates(start: date, end: date) -> None:
    if end < start:
        raise refusal(
            ValidationFailed,
            "dates",
            "the end date must be on or after the start date",
            "结束日期不能早于开始日期",
            field="end_date",
        )


async def list_notices(
    ctx: AppContext, uow: UnitOfWork, who: Principal, code: str
) -> list[NoticeOut]:
    hall = await halls_repo.get_hall(uow.session, code)
    who.require_role(Role.SUPERVISOR, hall.id)
    today = hall_day(ctx, hall)
    return [notice_out(n, hall.code, today) for n in await repo.list_for_hall(uow.session, hall.id)]


async def create_notice(
    ctx: AppContext, uow: UnitOfWork, who: Principal, code: str, body: NoticeIn
) -> NoticeOut:
    s = uow.session
    hall = await halls_repo.get_hall(s, code)
    who.require_role(Role.ADMIN, hall.id)
    _check_dates(body.start_date, body.end_date)
    now = ctx.clock.now()
    n = Notice(
        hall_id=hall.id,
        created_by=who.actor,
        created_at=now,
        updated_at=now,
        **body.model_dump(),
    )
    s.add(n)
    await s.flush()
    record(
        ctx,
        uow,
        who,
        "notice.create",
        hall_id=hall.id,
        target=f"notice {n.id}",
        detail=body.model_dump(mode="json"),
    )
    await _announce(ctx, uow, hall, "created")
    return notice_out(n, hall.code, hall_day(ctx, hall))


async def _load(uow: UnitOfWork, who: Principal, notice_id: int) -> tuple[Notice, Hall]:
    n = await repo.get(uow.session, notice_id)
    if n is None:
        raise NotFound(f"there is no notice with id {notice_id}")
    who.require_role(Role.ADMIN, n.hall_id)
    return n, await halls_repo.get_hall_by_id(uow.session, n.hall_id)


async def patch_notice(
    ctx: AppContext, uow: UnitOfWork, who: Principal, notice_id: int, body: NoticePatch
) -> NoticeOut:
    n, hall = await _load(uow, who, notice_id)
    data: dict[str, Any] = {
        k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None
    }
    _check_dates(data.get("start_date", n.start_date), data.get("end_date", n.end_date))
    for key, value in data.items():
        setattr(n, key, value)
    n.updated_at = ctx.clock.now()
    await uow.session.flush()
    record(
        ctx,
        uow,
        who,
        "notice.update",
        hall_id=hall.id,
        target=f"notice {n.id}",
        detail=body.model_dump(exclude_unset=True, mode="json"),
    )
    await _announce(ctx, uow, hall, "updated")
    return notice_out(n, hall.code, hall_day(ctx, hall))


async def delete_notice(ctx: AppContext, uow: UnitOfWork, who: Principal, notice_id: int) -> None:
    n, hall = await _load(uow, who, notice_id)
    detail = {"kind": n.kind, "title": n.title, "text": n.text}
    await repo.delete(uow.session, n)
    await uow.session.flush()
    record(
        ctx, uow, who, "notice.delete", hall_id=hall.id, target=f"notice {notice_id}", detail=detail
    )
    await _announce(ctx, uow, hall, "deleted")


async def announce_date_changes(ctx: AppContext) -> int:
    """Ticker duty: emit ``hall.updated`` for halls whose active set changed with the date.

    The first run only records the current sets (a restart must not flood screens).
    """
    known: dict[int, list[int]] | None = ctx.extras.get("notices_active")
    first = known is None
    known = ctx.extras.setdefault("notices_active", {})
    changed: list[int] = []
    async with unit_of_work(ctx.db, write=False) as uow:
        for hall in await halls_repo.list_halls(uow.session):
            ids = [n.id for n in await repo.active(uow.session, hall.id, hall_day(ctx, hall))]
            before = known.get(hall.id)
            known[hall.id] = ids
            if not first and before is not None and before != ids:
                changed.append(hall.id)
    if changed:
        # Only a day that actually changed something takes the write lock.
        async with unit_of_work(ctx.db) as uow:
            for hall_id in changed:
                hall = await halls_repo.get_hall_by_id(uow.session, hall_id)
                await _announce(ctx, uow, hall, "date")
    return len(changed)
