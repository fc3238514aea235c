from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response

from kiosk_server.auth.principal import DeviceKind
from kiosk_server.auth.service import limiter
from kiosk_server.db.uow import unit_of_work
from kiosk_server.deps import Ctx, DbId, MaybeWho, Who
from kiosk_server.tickets import service
from kiosk_server.tickets.batch import issue_batcher
from kiosk_server.tickets.schemas import (
    IssueRequest,
    PublicTicketOut,
    RatingOut,
    RatingRequest,
    TicketOut,
)

router = APIRouter(prefix="/api/v1", tags=["tickets"])

IdemKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=80)]


@router.post(
    "/halls/{hall}/tickets",
    response_model=TicketOut,
    status_code=201,
    summary="Issue a ticket (kiosk device or staff)",
    description="The same Idempotency-Key returns the same ticket: a double tap prints once.",
)
async def issue(
    ctx: Ctx,
    who: Who,
    hall: str,
    body: IssueRequest,
    response: Response,
    idempotency_key: IdemKey = None,
) -> TicketOut:
    if who.kind == "device" and who.device_kind is DeviceKind.KIOSK:
        # Counted in Redis when the deployment has it, so N workers share one limit.
        await limiter(ctx, "issue", ctx.settings.issue_per_minute_per_device).hit(
            f"device:{who.id}", "tickets from this kiosk"
        )
    command = service.IssueCommand(who, hall, body, idempotency_key or None)
    out = await issue_batcher(ctx).issue(command)
    if out.replayed:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return out


@router.get(
    "/tickets/{token}",
    response_model=PublicTicketOut,
    summary="A resident's ticket status (public, by the link's token)",
)
async def status(ctx: Ctx, token: str) -> PublicTicketOut:
    async with unit_of_work(ctx.db, write=False) as uow:
        return await service.public_status(ctx, uow, token)


@router.get(
    "/tickets/by-id/{ticket_id}",
    response_model=TicketOut,
    summary="A ticket with its timings (staff)",
)
async def by_id(ctx: Ctx, who: Who, ticket_id: DbId) -> TicketOut:
    async with unit_of_work(ctx.db, write=False) as uow:
        return await service.get_ticket(ctx, uow, who, ticket_id)


@router.post(
    "/tickets/by-id/{ticket_id}/cancel",
    response_model=TicketOut,
    summary="Cancel a waiting or held ticket (staff)",
)
async def cancel(ctx: Ctx, who: Who, ticket_id: DbId) -> TicketOut:
    async with unit_of_work(ctx.db) as uow:
        return await service.cancel(ctx, uow, who, ticket_id)


@router.post(
    "/tickets/{ticket}/rating",
    response_model=RatingOut,
    status_code=201,
    summary="Rate a finished transaction (好差评)",
    description="`ticket` is the ticket id (rating-pad device token) or the public token from the status link (no login).",
)
async def rate(ctx: Ctx, who: MaybeWho, ticket: str, body: RatingRequest) -> RatingOut:
    async with unit_of_work(ctx.db) as uow:
        return await service.rate(ctx, uow, who, ticket, body)
