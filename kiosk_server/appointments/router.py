from __future__ import annotations

from typing import Annotated

import qrcode
import qrcode.image.svg
from fastapi import APIRouter, Header, Query, Request, Response
from sqlalchemy.exc import IntegrityError

from kiosk_server.appointments import service
from kiosk_server.appointments.schemas import (
    AppointmentOut,
    BookRequest,
    CloseOut,
    CloseRequest,
    ConfigIn,
    ConfigOut,
    FindRequest,
    OfferOut,
    RevealOut,
    SlotsOut,
    StatsOut,
)
from kiosk_server.auth.service import limiter
from kiosk_server.context import AppContext
from kiosk_server.db.uow import unit_of_work
from kiosk_server.deps import Ctx, Day, MaybeWho, Who
from kiosk_server.tickets import service as tickets_service
from kiosk_server.tickets.batch import issue_batcher
from kiosk_server.tickets.schemas import IssueRequest, TicketOut

router = APIRouter(prefix="/api/v1", tags=["appointments"])

# Public endpoints are limited per client address: booking codes must not be
# guessable by brute force, and one phone should not book out a day.
BOOKINGS_PER_MINUTE = 20
LOOKUPS_PER_MINUTE = 60


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _limit(ctx: AppContext, request: Request, name: str, per_minute: int, what: str) -> None:
    await limiter(ctx, f"appointments.{name}", per_minute).hit(_client(request), what)


@router.get(
    "/halls/{hall}/appointment-offer",
    response_model=OfferOut,
    summary="What can be booked: items with materials, days in the horizon (public)",
)
async def get_offer(ctx: Ctx, hall: str) -> OfferOut:
    async with unit_of_work(ctx.db, write=False) as uow:
        return await service.offer(ctx, uow, hall)


@router.get(
    "/halls/{hall}/slots",
    response_model=SlotsOut,
    summary="Slots of one item on one day, with free places (public)",
)
async def get_slots(
    ctx: Ctx,
    hall: str,
    service_code: Annotated[str, Query(alias="service", min_length=1, max_length=40)],
    day: Annotated[Day, Query(alias="date")],
) -> SlotsOut:
    async with unit_of_work(ctx.db, write=False) as uow:
        return await service.slots(ctx, uow, hall, service_code, day)


@router.post(
    "/halls/{hall}/appointments",
    response_model=AppointmentOut,
    status_code=201,
    summary="Book a slot (public from a phone; staff token for 帮办, kiosk token at the kiosk)",
    description="Capacity is taken with one conditional UPDATE: the last place goes to one booking only.",
)
async def book(
    ctx: Ctx, who: MaybeWho, request: Request, hall: str, body: BookRequest
) -> AppointmentOut:
    if who is None:
        await _limit(ctx, request, "book", BOOKINGS_PER_MINUTE, "bookings from this address")
    try:
        async with unit_of_work(ctx.db) as uow:
            return await service.book(ctx, uow, who, hall, body)
    except IntegrityError:
        # The same person booked the same item and day in a concurrent request
        # (the partial unique index caught it on PostgreSQL).
        raise service.AlreadyBooked(
            "this person already has a booking for this item on that day (您当天已预约该事项)"
        ) from None


@router.post(
    "/halls/{hall}/appointments/find",
    response_model=list[AppointmentOut],
    summary="Find one's bookings from today on with name + mobile number (public)",
)
async def find(ctx: Ctx, request: Request, hall: str, body: FindRequest) -> list[AppointmentOut]:
    await _limit(ctx, request, "lookup", LOOKUPS_PER_MINUTE, "look-ups from this address")
    async with unit_of_work(ctx.db, write=False) as uow:
        return await service.find(ctx, uow, hall, body)


@router.get(
    "/halls/{hall}/appointments",
    response_model=list[AppointmentOut],
    summary="The bookings of one day (staff)",
)
async def day_list(
    ctx: Ctx, who: Who, hall: str, day: Annotated[Day, Query(alias="date")]
) -> list[AppointmentOut]:
    async with unit_of_work(ctx.db, write=False) as uow:
        return await service.day_list(ctx, uow, who, hall, day)


@router.get(
    "/halls/{hall}/appointments/stats",
    response_model=StatsOut,
    summary="Bookings, check-ins and no-shows per appointment day (supervisor)",
)
async def stats(
    ctx: Ctx,
    who: Who,
    hall: str,
    first: Annotated[Day, Query(alias="from")],
    last: Annotated[Day, Query(alias="to")],
) -> StatsOut:
    async with unit_of_work(ctx.db, write=False) as uow:
        return await service.stats(ctx, uow, who, hall, first, last)


@router.post(
    "/halls/{hall}/appointments/{code}/check-in",
    response_model=TicketOut,
    status_code=201,
    summary="Check in at the kiosk: issues a ticket on the appointment channel",
    description=(
        "From 30 minutes before the slot to 15 minutes after its start. Too early: 409 "
        "`check_in_too_early` with `details.opens_at`; too late: 409 `check_in_too_late` "
        "with `details.offer = normal_ticket`. The same as POST /halls/{hall}/tickets with "
        "`appointment_code`."
    ),
)
async def check_in(
    ctx: Ctx,
    who: Who,
    hall: str,
    code: str,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=80)] = None,
) -> TicketOut:
    # The booking names the service; the check-in runs in the ticket's transaction.
    # Not validated: a code of any length is simply one no booking has (404).
    req = IssueRequest.model_construct(appointment_code=code)
    command = tickets_service.IssueCommand(who, hall, req, idempotency_key or None)
    return await issue_batcher(ctx).issue(command)


@router.post(
    "/halls/{hall}/appointments/close",
    response_model=CloseOut,
    summary="Close a slot or a whole day; lists the bookings cancelled (admin)",
)
async def close(ctx: Ctx, who: Who, hall: str, body: CloseRequest) -> CloseOut:
    async with unit_of_work(ctx.db) as uow:
        return await service.close(ctx, uow, who, hall, body)


@router.get(
    "/halls/{hall}/appointment-config",
    response_model=ConfigOut,
    summary="Appointment settings of a hall (supervisor)",
)
async def get_config(ctx: Ctx, who: Who, hall: str) -> ConfigOut:
    async with unit_of_work(ctx.db, write=False) as uow:
        return await service.get_config(ctx, uow, who, hall)


@router.put(
    "/halls/{hall}/appointment-config",
    response_model=ConfigOut,
    summary="Change the appointment settings of a hall (admin)",
)
async def put_config(ctx: Ctx, who: Who, hall: str, body: ConfigIn) -> ConfigOut:
    async with unit_of_work(ctx.db) as uow:
        return await service.put_config(ctx, uow, who, hall, body)


@router.get(
    "/appointments/{code}",
    response_model=AppointmentOut,
    summary="A booking by its code, masked (public)",
)
async def get_one(ctx: Ctx, request: Request, code: str) -> AppointmentOut:
    await _limit(ctx, request, "lookup", LOOKUPS_PER_MINUTE, "look-ups from this address")
    async with unit_of_work(ctx.db, write=False) as uow:
        return await service.get(ctx, uow, code)


@router.delete(
    "/appointments/{code}",
    response_model=AppointmentOut,
    summary="Cancel a booking with its code (public; staff token also accepted)",
)
async def cancel(ctx: Ctx, who: MaybeWho, request: Request, code: str) -> AppointmentOut:
    if who is None:
        await _limit(ctx, request, "lookup", LOOKUPS_PER_MINUTE, "look-ups from this address")
    async with unit_of_work(ctx.db) as uow:
        return await service.cancel(ctx, uow, who, code)


@router.get(
    "/appointments/{code}/phone",
    response_model=RevealOut,
    summary="Reveal the full mobile number to telephone the resident (supervisor; audited)",
)
async def reveal_phone(ctx: Ctx, who: Who, code: str) -> RevealOut:
    async with unit_of_work(ctx.db) as uow:
        return await service.reveal_phone(ctx, uow, who, code)


@router.get(
    "/appointments/{code}/qr.svg",
    summary="The booking code as a QR code (SVG) for the kiosk scanner",
    response_class=Response,
)
async def qr(ctx: Ctx, request: Request, code: str) -> Response:
    await _limit(ctx, request, "lookup", LOOKUPS_PER_MINUTE, "look-ups from this address")
    async with unit_of_work(ctx.db, write=False) as uow:
        a = await service.get(ctx, uow, code)
    img = qrcode.make(a.code, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    return Response(
        img.to_string(encoding="unicode"),
        media_type="image/svg+xml",
        headers={"Cache-Control": "no-store"},
    )
