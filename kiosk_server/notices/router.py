from __future__ import annotations

from fastapi import APIRouter

from kiosk_server.db.uow import unit_of_work
from kiosk_server.deps import Ctx, DbId, Who
from kiosk_server.notices import service
from kiosk_server.notices.schemas import NoticeIn, NoticeOut, NoticePatch

router = APIRouter(prefix="/api/v1", tags=["notices"])


@router.get(
    "/halls/{hall}/notices",
    response_model=list[NoticeOut],
    summary="Every notice of the hall, past and future (supervisor)",
)
async def list_notices(ctx: Ctx, who: Who, hall: str) -> list[NoticeOut]:
    async with unit_of_work(ctx.db, write=False) as uow:
        return await service.list_notices(ctx, uow, who, hall)


@router.post(
    "/halls/{hall}/notices",
    response_model=NoticeOut,
    status_code=201,
    summary="Add a scrolling or policy notice with its dates (admin)",
)
async def create_notice(ctx: Ctx, who: Who, hall: str, body: NoticeIn) -> NoticeOut:
    async with unit_of_work(ctx.db) as uow:
        return await service.create_notice(ctx, uow, who, hall, body)


@router.patch("/notices/{notice_id}", response_model=NoticeOut, summary="Edit a notice (admin)")
async def patch_notice(ctx: Ctx, who: Who, notice_id: DbId, body: NoticePatch) -> NoticeOut:
    async with unit_of_work(ctx.db) as uow:
        return await service.patch_notice(ctx, uow, who, notice_id, body)


@router.delete("/notices/{notice_id}", status_code=204, summary="Remove a notice (admin)")
async def delete_notice(ctx: Ctx, who: Who, notice_id: DbId) -> None:
    async with unit_of_work(ctx.db) as uow:
        await service.delete_notice(ctx, uow, who, notice_id)
