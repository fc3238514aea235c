from __future__ import annotations

from fastapi import APIRouter

from kiosk_server.counters import service
from kiosk_server.counters.schemas import ActionResult, CallNumber, CounterOut, Finish, Transfer
from kiosk_server.db.uow import unit_of_work
from kiosk_server.deps import Ctx, DbId, Who

router = APIRouter(prefix="/api/v1/counters", tags=["counters"])


@router.get(
    "/{counter_id}",
    response_model=CounterOut,
    summary="A counter's state, current ticket and clock",
)
async def get_counter(ctx: Ctx, who: Who, counter_id: DbId) -> CounterOut:
    async with unit_of_work(ctx.db, write=False) as uow:
        return await service.describe(ctx, uow, who, counter_id)


@router.post(
    "/{counter_id}/call-next",
    response_model=ActionResult,
    summary="叫号: call the next ticket by the hall's policy",
)
async def call_next(ctx: Ctx, who: Who, counter_id: DbId) -> ActionResult:
    async with unit_of_work(ctx.db) as uow:
        return await service.call_next(ctx, uow, who, counter_id)


@router.post(
    "/{counter_id}/call",
    response_model=ActionResult,
    summary="Call a chosen number (also 回呼 a held ticket)",
)
async def call(ctx: Ctx, who: Who, counter_id: DbId, body: CallNumber) -> ActionResult:
    async with unit_of_work(ctx.db) as uow:
        return await service.call_number(ctx, uow, who, counter_id, body.number)


@router.post("/{counter_id}/recall", response_model=ActionResult, summary="重呼 (at most 3 times)")
async def recall(ctx: Ctx, who: Who, counter_id: DbId) -> ActionResult:
    async with unit_of_work(ctx.db) as uow:
        return await service.recall(ctx, uow, who, counter_id)


@router.post(
    "/{counter_id}/start",
    response_model=ActionResult,
    summary="开始办理: start the transaction clock",
)
async def start(ctx: Ctx, who: Who, counter_id: DbId) -> ActionResult:
    async with unit_of_work(ctx.db) as uow:
        return await service.start(ctx, uow, who, counter_id)


@router.post("/{counter_id}/finish", response_model=ActionResult, summary="办结 with an outcome")
async def finish(ctx: Ctx, who: Who, counter_id: DbId, body: Finish) -> ActionResult:
    async with unit_of_work(ctx.db) as uow:
        return await service.finish(ctx, uow, who, counter_id, body)


@router.post("/{counter_id}/no-show", response_model=ActionResult, summary="过号")
async def no_show(ctx: Ctx, who: Who, counter_id: DbId) -> ActionResult:
    async with unit_of_work(ctx.db) as uow:
        return await service.no_show(ctx, uow, who, counter_id)


@router.post(
    "/{counter_id}/hold", response_model=ActionResult, summary="挂起: the resident fetches a paper"
)
async def hold(ctx: Ctx, who: Who, counter_id: DbId) -> ActionResult:
    async with unit_of_work(ctx.db) as uow:
        return await service.hold(ctx, uow, who, counter_id)


@router.post(
    "/{counter_id}/transfer",
    response_model=ActionResult,
    summary="转移 to another item or counter, keeping the place",
)
async def transfer(ctx: Ctx, who: Who, counter_id: DbId, body: Transfer) -> ActionResult:
    async with unit_of_work(ctx.db) as uow:
        return await service.transfer(ctx, uow, who, counter_id, body)


@router.post("/{counter_id}/pause", response_model=ActionResult, summary="暂停服务")
async def pause(ctx: Ctx, who: Who, counter_id: DbId) -> ActionResult:
    async with unit_of_work(ctx.db) as uow:
        return await service.set_state(ctx, uow, who, counter_id, "paused")


@router.post("/{counter_id}/resume", response_model=ActionResult, summary="恢复服务")
async def resume(ctx: Ctx, who: Who, counter_id: DbId) -> ActionResult:
    async with unit_of_work(ctx.db) as uow:
        return await service.set_state(ctx, uow, who, counter_id, "open")


@router.post(
    "/{counter_id}/sign-out",
    response_model=ActionResult,
    summary="Leave the counter free for another staff member",
)
async def sign_out(ctx: Ctx, who: Who, counter_id: DbId) -> ActionResult:
    async with unit_of_work(ctx.db) as uow:
        return await service.sign_out(ctx, uow, who, counter_id)
