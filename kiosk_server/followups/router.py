from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from kiosk_server.db.uow import unit_of_work
from kiosk_server.deps import Ctx, Day, DbId, Who
from kiosk_server.followups import service
from kiosk_server.followups.schemas import (
    CaseOut,
    CasePatch,
    CaseState,
    FollowUpOut,
    FollowUpPatch,
    FollowUpState,
)

From = Annotated[Day | None, Query(alias="from")]
To = Annotated[Day | None, Query(alias="to")]
ServiceCode = Annotated[str | None, Query(alias="service", max_length=40)]

router = APIRouter(prefix="/api/v1", tags=["supervisor"])


@router.get(
    "/halls/{hall}/followups",
    response_model=list[FollowUpOut],
    summary="Bad-rating follow-ups (差评整改), overdue flagged (supervisor)",
)
async def list_followups(
    ctx: Ctx,
    who: Who,
    hall: str,
    state: FollowUpState | None = None,
    overdue: bool | None = None,
    day_from: From = None,
    day_to: To = None,
) -> list[FollowUpOut]:
    async with unit_of_work(ctx.db, write=False) as uow:
        return await service.list_followups(
            ctx, uow, who, hall, state=state, overdue=overdue, day_from=day_from, day_to=day_to
        )


@router.patch(
    "/followups/{followup_id}",
    response_model=FollowUpOut,
    summary="Record the call-back, cause, action and second opinion (supervisor)",
)
async def update_followup(
    ctx: Ctx, who: Who, followup_id: DbId, body: FollowUpPatch
) -> FollowUpOut:
    async with unit_of_work(ctx.db) as uow:
        return await service.update_followup(ctx, uow, who, followup_id, body)


@router.get(
    "/halls/{hall}/cases",
    response_model=list[CaseOut],
    summary="Proxy cases (帮办代办) with working-day deadlines (staff)",
)
async def list_cases(
    ctx: Ctx,
    who: Who,
    hall: str,
    state: CaseState | None = None,
    service_code: ServiceCode = None,
    overdue: bool | None = None,
    day_from: From = None,
    day_to: To = None,
) -> list[CaseOut]:
    async with unit_of_work(ctx.db, write=False) as uow:
        return await service.list_cases(
            ctx, uow, who, hall, state=state, service=service_code, overdue=overdue,
            day_from=day_from, day_to=day_to,
        )  # fmt: skip


@router.patch(
    "/cases/{case_id}",
    response_model=CaseOut,
    summary="Move a proxy case on: submitted, result returned, handed over (staff)",
    description="`materials_complete_on` (the 3 working days count from it) may only be set "
    "between the case's service day and today, and only before the case is submitted; any "
    "other date is refused with 422 `invalid_value`. A change is audited with the old and "
    "new date and deadline.",
)
async def update_case(ctx: Ctx, who: Who, case_id: DbId, body: CasePatch) -> CaseOut:
    async with unit_of_work(ctx.db) as uow:
        return await service.update_case(ctx, uow, who, case_id, body)
