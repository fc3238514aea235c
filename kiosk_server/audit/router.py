"""Read and export the audit log (supervisor). There is deliberately no write route."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from kiosk_server.audit import repository as repo
from kiosk_server.auth.principal import Role
from kiosk_server.db.uow import unit_of_work
from kiosk_server.deps import Ctx, Day, Who
from kiosk_server.halls import repository as halls_repo
from kiosk_server.halls.config import HallConfig

router = APIRouter(prefix="/api/v1", tags=["supervisor"])

MAX_ROWS = 5000
From = Annotated[Day | None, Query(alias="from", description="first local day")]
To = Annotated[Day | None, Query(alias="to", description="last local day (inclusive)")]
Text = Annotated[str | None, Query(max_length=80)]


class AuditRow(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    target: str | None
    detail: dict[str, Any]


class AuditPage(BaseModel):
    hall: str
    entries: list[AuditRow]
    next_before_id: int | None


CSV_HEADER = ["编号", "时间", "操作人", "操作", "对象", "详情"]


@router.get(
    "/halls/{hall}/audit",
    response_model=AuditPage,
    summary="The audit log: who did what and when, newest first (supervisor; read-only)",
    responses={200: {"content": {"text/csv": {}}}},
)
async def audit_log(
    ctx: Ctx,
    who: Who,
    hall: str,
    day_from: From = None,
    day_to: To = None,
    actor: Text = None,
    action: Text = None,
    before_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_ROWS)] = 200,
    format: Literal["json", "csv"] = "json",
) -> Any:
    async with unit_of_work(ctx.db, write=False) as uow:
        h = await halls_repo.get_hall(uow.session, hall)
        who.require_role(Role.SUPERVISOR, h.id)
        tz = HallConfig.of(h).tz
        since = datetime.combine(day_from, time(), tz) if day_from else None
        until = datetime.combine(day_to + timedelta(days=1), time(), tz) if day_to else None
        rows = await repo.entries(
            uow.session,
            h.id,
            since=since,
            until=until,
            actor=actor,
            action=action,
            before_id=before_id,
            limit=MAX_ROWS if format == "csv" else limit,
        )
    items = [
        AuditRow(
            id=r.id,
            at=r.at.astimezone(tz),
            actor=r.actor,
            action=r.action,
            target=r.target,
            detail=r.detail or {},
        )
        for r in rows
    ]
    if format == "csv":
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(CSV_HEADER)
        for i in items:
            detail = "; ".join(f"{k}={v}" for k, v in i.detail.items())
            w.writerow(
                [
                    i.id,
                    i.at.strftime("%Y-%m-%d %H:%M:%S"),
                    i.actor,
                    i.action,
                    i.target or "",
                    detail,
                ]
            )
        # BOM: Excel opens UTF-8 CSV with Chinese correctly only with it.
        return Response(
            "\ufeff" + buf.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="audit-{h.code}.csv"'},
        )
    next_id = items[-1].id if len(items) == limit else None
    return AuditPage(hall=h.code, entries=items, next_before_id=next_id)
