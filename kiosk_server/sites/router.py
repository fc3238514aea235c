"""Roll-up across sites and adding sites (county/town accounts)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from kiosk_server.db.uow import unit_of_work
from kiosk_server.deps import Ctx, Day, Who
from kiosk_server.sites import service
from kiosk_server.sites.schemas import Rollup, SiteCreate, SiteOut

router = APIRouter(prefix="/api/v1", tags=["sites"])


@router.get(
    "/rollup",
    response_model=Rollup,
    summary="Every site's figures side by side (supervisor or admin; only the sites "
    "the account belongs to, all of them for a county account)",
)
async def get_rollup(
    ctx: Ctx,
    who: Who,
    first: Annotated[Day | None, Query(alias="from", description="first local day")] = None,
    last: Annotated[Day | None, Query(alias="to", description="last local day")] = None,
    kind: Annotated[Literal["township", "village"] | None, Query()] = None,
) -> Rollup:
    async with unit_of_work(ctx.db, write=False) as uow:
        return await service.rollup(ctx, uow, who, first, last, kind)


@router.post(
    "/sites",
    response_model=SiteOut,
    status_code=201,
    summary="Add a township hall or a village point with its default catalogue and "
    "counters (county admin)",
)
async def create_site(ctx: Ctx, who: Who, body: SiteCreate) -> SiteOut:
    async with unit_of_work(ctx.db) as uow:
        return await service.create_site(ctx, uow, who, body)
