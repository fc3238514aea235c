"""The people's pages: kiosk, counter, hall screen, rating pad and phone status,
plus the few small endpoints only they need (speech audio, a counter's figures
for today, the rating pad's identity)."""

from __future__ import annotations

from collections import Counter as Tally
from typing import Annotated

from fastapi import APIRouter, FastAPI, Path, Query
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel

from display_client import repository as repo
from display_client import tts
from display_client.pages import add_page
from kiosk_server import access
from kiosk_server.auth.principal import DeviceKind, Role
from kiosk_server.context import AppContext
from kiosk_server.core.states import TicketState
from kiosk_server.db.uow import unit_of_work
from kiosk_server.deps import Ctx, DbId, Who
from kiosk_server.errors import BadRequest, Forbidden, NotFound, Unavailable
from kiosk_server.halls import repository as halls_repo
from kiosk_server.halls.config import HallConfig
from kiosk_server.tickets.service import status_url

router = APIRouter(prefix="/api/v1", tags=["pages"])


class TodayOut(BaseModel):
    """One staff member's figures for today (the counter page's footer)."""

    day: str
    served: int
    average_service_seconds: int | None
    over_target: int
    no_show: int
    outcomes: dict[str, int]


class PadOut(BaseModel):
    """What a rating pad shows when idle."""

    hall: str
    hall_name: str
    counter_id: int
    counter: int
    counter_name: str
    staff: str | None
    hotline: str | None


@router.get(
    "/tts",
    summary="A call announcement as WAV audio (offline Mandarin voice)",
    description=(
        "Only the sentence `请 A012 号 到 3 号窗口 办理` (or its spoken form "
        "`请 A 0 1 2 号到 3 号窗口办理`) is accepted. 503 when espeak-ng is not installed "
        "or none of its voices reads Mandarin; the hall screen then uses chime and flash."
    ),
    response_class=FileResponse,
    responses={200: {"content": {"audio/wav": {}}}},
)
async def speech(ctx: Ctx, text: Annotated[str, Query(max_length=40)]) -> FileResponse:
    if not tts.allowed(text):
        raise BadRequest(
            "only call announcements like '请 A012 号 到 3 号窗口 办理' are spoken",
            details={"field": "text"},
        )
    try:
        path = await tts.render(text, ctx.settings.data_dir / "tts-cache")
    except tts.SpeechUnavailable as exc:
        raise Unavailable(
            f"no offline Mandarin speech on this server: {exc}",
            details={"fallback": "chime and flash"},
        ) from None
    return FileResponse(
        path, media_type="audio/wav", headers={"Cache-Control": "public, max-age=86400"}
    )


@router.get(
    "/qr/{token}.svg",
    summary="QR code of a ticket's status link (for the kiosk screen)",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
)
async def status_qr(
    ctx: Ctx, token: Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{8,40}$")]
) -> Response:
    import io

    import qrcode
    import qrcode.image.svg

    # Encodes only our own status link, so it cannot be used to make arbitrary codes.
    img = qrcode.make(status_url(ctx, token), image_factory=qrcode.image.svg.SvgPathImage, border=2)
    buf = io.BytesIO()
    img.save(buf)
    return Response(
        buf.getvalue(), media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"}
    )


@router.get(
    "/counters/{counter_id}/today",
    response_model=TodayOut,
    summary="The logged-in staff member's figures for today (staff)",
)
async def today(ctx: Ctx, who: Who, counter_id: DbId) -> TodayOut:
    async with unit_of_work(ctx.db, write=False) as uow:
        s = uow.session
        counter = await halls_repo.get_counter(s, counter_id)
        who.require_role(Role.STAFF, counter.hall_id)
        hall = await halls_repo.get_hall_by_id(s, counter.hall_id)
        day = HallConfig.of(hall).service_day(ctx.clock.now())
        assert who.user_id is not None  # require_role admits users only
        tickets = await repo.tickets_touched_by(s, hall.id, day, who.user_id)
        targets = {
            svc.id: svc.target_minutes
            for svc in await halls_repo.list_services(s, hall.id, enabled_only=False)
        }
    done = [
        t for t in tickets if t.state == TicketState.DONE.value and t.served_by_id == who.user_id
    ]
    durations = [
        ((t.finished_at - t.started_at).total_seconds(), targets.get(t.service_id, 10))
        for t in done
        if t.started_at is not None and t.finished_at is not None
    ]
    average = round(sum(d for d, _ in durations) / len(durations)) if durations else None
    return TodayOut(
        day=day.isoformat(),
        served=len(done),
        average_service_seconds=average,
        over_target=sum(1 for d, target in durations if d > target * 60),
        no_show=sum(
            1
            for t in tickets
            if t.state == TicketState.NO_SHOW.value and t.called_by_id == who.user_id
        ),
        outcomes=dict(Tally(t.outcome or "completed" for t in done)),
    )


@router.get(
    "/pad",
    response_model=PadOut,
    summary="The rating pad's counter and who is serving there (rating-pad device)",
)
async def pad(ctx: Ctx, who: Who) -> PadOut:
    who.require_device(DeviceKind.RATING_PAD)
    if who.device_counter_id is None:
        raise NotFound("this rating pad is not assigned to a counter; set one in the admin console")
    async with unit_of_work(ctx.db, write=False) as uow:
        s = uow.session
        counter = await halls_repo.get_counter(s, who.device_counter_id)
        if not who.can_see_hall(counter.hall_id):
            raise Forbidden("this device does not belong to that hall")
        hall = await halls_repo.get_hall_by_id(s, counter.hall_id)
        staff = await repo.user_name(s, counter.staff_user_id)
    return PadOut(
        hall=hall.code,
        hall_name=hall.name,
        counter_id=counter.id,
        counter=counter.number,
        counter_name=counter.name,
        staff=staff,
        hotline=hall.hotline,
    )


def install(app: FastAPI, ctx: AppContext) -> None:
    # This package's rows of the access matrix (the table's own entries win).
    access.RULES.setdefault("GET /api/v1/tts", access.PUBLIC)
    access.RULES.setdefault("GET /api/v1/qr/{token}.svg", access.PUBLIC)
    access.RULES.setdefault("GET /api/v1/counters/{counter_id}/today", access.STAFF)
    access.RULES.setdefault(
        "GET /api/v1/pad", access.Access(devices=frozenset({DeviceKind.RATING_PAD}))
    )
    app.include_router(router)
    add_page(app, "/kiosk/{hall}", "kiosk.html")
    add_page(app, "/counter", "counter.html")
    add_page(app, "/display/{hall}", "display.html")
    add_page(app, "/rate/{counter}", "rate.html")
    add_page(app, "/t/{token}", "ticket.html")
