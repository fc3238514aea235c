from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Response

from kiosk_server.db.uow import unit_of_work
from kiosk_server.deps import Ctx, Day, Who
from kiosk_server.errors import BadRequest
from kiosk_server.halls import repository as halls_repo
from kiosk_server.stats import service
from kiosk_server.stats.figures import Report
from kiosk_server.stats.plan import PlanAnswer, plan_for
from kiosk_server.stats.reports import sheets, to_csv, to_xlsx

router = APIRouter(prefix="/api/v1", tags=["supervisor"])

From = Annotated[Day | None, Query(alias="from", description="first day (default today)")]
To = Annotated[Day | None, Query(alias="to", description="last day, inclusive")]
Month = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$", examples=["2026-11"])]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _period(ctx: Ctx, hall: str, day_from: date | None, day_to: date | None,
                  day: date | None = None, month: str | None = None) -> service.Period:  # fmt: skip
    if month and (day or day_from or day_to):
        raise BadRequest("give either month, or date, or from/to")
    if month:
        return service.Period.month(month)
    if day:
        return service.Period.day(day)
    if day_from is None:
        async with unit_of_work(ctx.db, write=False) as uow:
            h = await halls_repo.get_hall(uow.session, hall)
            day_from = service.today(ctx, h)
    return service.Period.range(day_from, day_to or day_from)


@router.get(
    "/halls/{hall}/figures",
    response_model=Report,
    summary="The standard's figures for a period, overall and by item/counter/staff/hour (supervisor)",
)
async def figures(
    ctx: Ctx, who: Who, hall: str, day_from: From = None, day_to: To = None, month: Month = None
) -> Report:
    period = await _period(ctx, hall, day_from, day_to, month=month)
    async with unit_of_work(ctx.db, write=False) as uow:
        _, rep = await service.report(ctx, uow, who, hall, period)
    return rep


@router.get(
    "/halls/{hall}/dashboard",
    summary="Now: waiting per item, counters, overtime, today's bad ratings (supervisor)",
)
async def dashboard(ctx: Ctx, who: Who, hall: str) -> dict[str, Any]:
    async with unit_of_work(ctx.db, write=False) as uow:
        return await service.live(ctx, uow, who, hall)


@router.get(
    "/halls/{hall}/plan",
    response_model=PlanAnswer,
    summary="Counters to open per hour on a coming day (明日窗口安排建议), by simulation (supervisor)",
    description="Built from the hall's own tickets of the last 28 days and simulated with the "
    "queue core; `plan` is null with a `reason` (closed, holiday, no_history) when there is "
    "nothing to plan. Cached in memory for an hour per hall, date and target.",
)
async def plan(
    ctx: Ctx,
    who: Who,
    hall: str,
    day: Annotated[
        date | None, Query(alias="date", description="the day to plan (default tomorrow)")
    ] = None,
    wait_p90: Annotated[
        float, Query(ge=1, le=120, description="target p90 wait in minutes")
    ] = 15.0,
) -> PlanAnswer:
    return await plan_for(ctx, who, hall, day, wait_p90)


@router.get(
    "/halls/{hall}/reports",
    summary="Daily / monthly report (信息上报) as XLSX or CSV (supervisor)",
    response_class=Response,
    responses={200: {"content": {XLSX: {}, "text/csv": {}}}},
)
async def report_file(
    ctx: Ctx,
    who: Who,
    hall: str,
    format: Literal["xlsx", "csv"] = "xlsx",
    day: Annotated[Day | None, Query(alias="date")] = None,
    month: Month = None,
    day_from: From = None,
    day_to: To = None,
) -> Response:
    period = await _period(ctx, hall, day_from, day_to, day=day, month=month)
    async with unit_of_work(ctx.db, write=False) as uow:
        h, rep = await service.report(ctx, uow, who, hall, period)
    body, media = render(rep, h.name, period, format)
    name = f"{h.code}-report-{period.start:%Y%m%d}-{period.end:%Y%m%d}.{format}"
    zh = f"{h.name}医保服务报表{period.label}.{format}"
    return Response(
        body,
        media_type=media,
        headers={
            "Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(zh)}"
        },
    )


def render(rep: Report, hall_name: str, period: service.Period, fmt: str) -> tuple[bytes, str]:
    data = sheets(rep, hall_name, period.label)
    if fmt == "csv":
        return to_csv(data), "text/csv; charset=utf-8"
    return to_xlsx(data), XLSX
