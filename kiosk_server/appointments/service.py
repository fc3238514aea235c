"""Appointments: the offer, slots, booking, cancelling, check-in, closures, no-shows."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kiosk_server.appointments import repository as repo
from kiosk_server.appointments.models import Appointment, AppointmentSlot
from kiosk_server.appointments.schemas import (
    AffectedBooking,
    AppointmentOut,
    BookRequest,
    CloseOut,
    CloseRequest,
    ConfigIn,
    ConfigOut,
    DayStats,
    FindRequest,
    OfferDay,
    OfferItem,
    OfferOut,
    RevealOut,
    SlotOut,
    SlotsOut,
    StatsOut,
)
from kiosk_server.audit.service import record
from kiosk_server.auth.principal import DeviceKind, Principal, Role
from kiosk_server.context import AppContext
from kiosk_server.core import slots as core
from kiosk_server.core.idnumber import keyed_hash
from kiosk_server.db.uow import UnitOfWork, unit_of_work
from kiosk_server.errors import Conflict, NotFound, ValidationFailed
from kiosk_server.halls import repository as halls_repo
from kiosk_server.halls.config import HallConfig
from kiosk_server.halls.models import Hall, Service
from kiosk_server.tickets import service as tickets_service
from kiosk_server.tickets.models import Ticket

STATE_LABELS = {
    "booked": "已预约",
    "checked_in": "已签到",
    "cancelled": "已取消",
    "cancelled_by_hall": "服务厅已取消",
    "no_show": "已过期（未签到）",
}


class SlotFull(Conflict):
    code = "slot_full"


class SlotClosed(Conflict):
    code = "slot_closed"


class SlotPast(ValidationFailed):
    code = "slot_past"


class AlreadyBooked(Conflict):
    code = "already_booked"


class TooEarly(Conflict):
    code = "check_in_too_early"


class TooLate(Conflict):
    code = "check_in_too_late"


@dataclass(frozen=True)
class Offer:
    """A hall's appointment settings (its config row, or the defaults)."""

    enabled: bool = True
    slot_minutes: int = core.DEFAULT_SLOT_MINUTES
    capacity: int = core.DEFAULT_CAPACITY
    horizon_days: int = core.DEFAULT_HORIZON_DAYS
    services: tuple[str, ...] | None = None
    capacities: tuple[tuple[str, int], ...] = ()

    def capacity_of(self, code: str) -> int:
        return dict(self.capacities).get(code, self.capacity)

    def offers(self, code: str) -> bool:
        return self.services is None or code in self.services


async def load_offer(uow: UnitOfWork, hall_id: int) -> Offer:
    row = await repo.get_config(uow.session, hall_id)
    if row is None:
        return Offer()
    return Offer(
        enabled=row.enabled,
        slot_minutes=row.slot_minutes,
        capacity=row.capacity,
        horizon_days=row.horizon_days,
        services=tuple(str(x) for x in row.services) if row.services is not None else None,
        capacities=tuple((str(k), int(v)) for k, v in (row.capacities or {}).items()),
    )


# --- personal data ----------------------------------------------------------------


def person_hash(ctx: AppContext, name: str, phone: str) -> str:
    return keyed_hash(ctx.settings.secret_key, f"appointment:{name}|{phone}")


def _phone_key(ctx: AppContext) -> bytes:
    # A key of its own, derived from the server secret: rotating the secret makes
    # old phone numbers unreadable, which is acceptable for bookings a week ahead.
    return hashlib.sha256(
        b"hallq/appointments/phone\x00" + ctx.settings.secret_key.encode()
    ).digest()


def encrypt_phone(ctx: AppContext, phone: str, code: str) -> str:
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_phone_key(ctx)).encrypt(nonce, phone.encode(), code.encode())
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt_phone(ctx: AppContext, blob: str, code: str) -> str:
    raw = base64.urlsafe_b64decode(blob.encode())
    return AESGCM(_phone_key(ctx)).decrypt(raw[:12], raw[12:], code.encode()).decode()


def _clean_person(name: str, phone: str) -> tuple[str, str]:
    clean_phone = core.normalise_phone(phone)
    if clean_phone is None:
        raise ValidationFailed(
            "the mobile number must be 11 digits starting with 1 (请输入11位手机号码)",
            details={"field": "phone"},
        )
    clean_name = core.normalise_name(name)
    if not clean_name or len(clean_name) > 20 or any(c.isdigit() for c in clean_name):
        raise ValidationFailed(
            "please give the name as on the ID card (请填写身份证上的姓名)",
            details={"field": "name"},
        )
    return clean_name, clean_phone


# --- reading ------------------------------------------------------------------------


async def _hall_and_offer(uow: UnitOfWork, hall_code: str) -> tuple[Hall, HallConfig, Offer]:
    hall = await halls_repo.get_hall(uow.session, hall_code)
    return hall, HallConfig.of(hall), await load_offer(uow, hall.id)


async def _offered_service(uow: UnitOfWork, hall: Hall, offer: Offer, code: str) -> Service:
    svc = await halls_repo.get_service(uow.session, hall.id, code)
    if svc is None or not svc.enabled or not offer.offers(svc.code):
        names = ", ".join(s.code for s in await _offered_services(uow, hall, offer))
        raise NotFound(
            f"this hall takes no appointments for item {code!r}; available: {names} "
            "(该事项不可预约)",
            details={"field": "service"},
        )
    return svc


async def _offered_services(uow: UnitOfWork, hall: Hall, offer: Offer) -> list[Service]:
    return [s for s in await halls_repo.list_services(uow.session, hall.id) if offer.offers(s.code)]


def _require_enabled(offer: Offer) -> None:
    if not offer.enabled:
        raise NotFound("this hall does not take appointments (本服务厅暂未开放预约)")


async def offer(ctx: AppContext, uow: UnitOfWork, hall_code: str) -> OfferOut:
    hall, config, off = await _hall_and_offer(uow, hall_code)
    now = ctx.clock.now()
    today = config.service_day(now)
    items = [
        OfferItem(
            code=s.code,
            name_zh=s.name_zh,
            name_en=s.name_en,
            materials=[str(m) for m in s.materials or []],
            guide=s.guide,
            capacity=off.capacity_of(s.code),
        )
        for s in await _offered_services(uow, hall, off)
    ]
    days = []
    for d in core.bookable_days(today, off.horizon_days):
        times = core.slots_on(config.hours, d, config.tz, off.slot_minutes)
        days.append(
            OfferDay(
                date=d,
                weekday=d.weekday(),
                kind=core.day_kind(config.hours, d),
                open=any(core.is_bookable(t.start, now) for t in times),
            )
        )
    return OfferOut(
        hall=hall.code,
        hall_name=hall.name,
        hotline=hall.hotline,
        enabled=off.enabled,
        slot_minutes=off.slot_minutes,
        horizon_days=off.horizon_days,
        check_in_early_minutes=core.CHECK_IN_EARLY_MINUTES,
        check_in_late_minutes=core.CHECK_IN_LATE_MINUTES,
        today=today,
        items=items if off.enabled else [],
        days=days,
    )


def _check_day(day: date, today: date, off: Offer) -> None:
    if day < today:
        raise SlotPast(f"{day.isoformat()} is in the past (该日期已过)", details={"field": "date"})
    if not core.in_horizon(day, today, off.horizon_days):
        last = today + timedelta(days=off.horizon_days)
        raise ValidationFailed(
            f"appointments can be made up to {last.isoformat()} "
            f"(只能预约{off.horizon_days}天内的时段)",
            details={"field": "date", "last_day": last.isoformat()},
        )


async def slots(
    ctx: AppContext, uow: UnitOfWork, hall_code: str, service_code: str, day: date
) -> SlotsOut:
    hall, config, off = await _hall_and_offer(uow, hall_code)
    _require_enabled(off)
    svc = await _offered_service(uow, hall, off, service_code)
    now = ctx.clock.now()
    _check_day(day, config.service_day(now), off)
    rows = {r.start_at: r for r in await repo.slots_of_day(uow.session, hall.id, svc.id, day)}
    out = []
    cap = off.capacity_of(svc.code)
    for st in core.slots_on(config.hours, day, config.tz, off.slot_minutes):
        row = rows.get(st.start)
        capacity = row.capacity if row else cap
        booked = row.booked if row else 0
        closed = bool(row and row.closed)
        free = max(0, capacity - booked)
        out.append(
            SlotOut(
                start=st.start,
                end=st.end,
                label=st.label,
                capacity=capacity,
                booked=booked,
                free=free,
                closed=closed,
                closed_reason=row.closed_reason if row and row.closed else None,
                bookable=not closed and free > 0 and core.is_bookable(st.start, now),
            )
        )
    return SlotsOut(
        hall=hall.code,
        service=svc.code,
        service_name=svc.name_zh,
        date=day,
        day_kind=core.day_kind(config.hours, day),
        slots=out,
    )


def appointment_out(
    ctx: AppContext,
    a: Appointment,
    hall: Hall,
    svc: Service,
    ticket_number: str | None = None,
) -> AppointmentOut:
    tz = HallConfig.of(hall).tz
    window = core.check_in_window(a.slot_start)
    start, end = a.slot_start.astimezone(tz), a.slot_end.astimezone(tz)
    return AppointmentOut(
        code=a.code,
        hall=hall.code,
        hall_name=hall.name,
        service=svc.code,
        service_name=svc.name_zh,
        service_name_en=svc.name_en,
        materials=[str(m) for m in svc.materials or []],
        slot_start=start,
        slot_end=end,
        slot_label=f"{start:%H:%M}-{end:%H:%M}",
        date=a.day,
        state=a.state,  # type: ignore[arg-type]
        state_label=STATE_LABELS[a.state],
        name_masked=a.name_masked,
        phone_masked=a.phone_masked,
        source=a.source,
        check_in_opens=window.opens.astimezone(tz),
        check_in_closes=window.closes.astimezone(tz),
        created_at=a.created_at,
        checked_in_at=a.checked_in_at,
        cancelled_at=a.cancelled_at,
        cancel_reason=a.cancel_reason,
        ticket_number=ticket_number,
        hotline=hall.hotline,
        qr_url=f"/api/v1/appointments/{a.code}/qr.svg",
    )


async def _out(ctx: AppContext, uow: UnitOfWork, a: Appointment) -> AppointmentOut:
    s = uow.session
    hall = await halls_repo.get_hall_by_id(s, a.hall_id)
    svc = await halls_repo.get_service_by_id(s, a.service_id)
    number = None
    if a.ticket_id is not None:
        ticket = await s.get(Ticket, a.ticket_id)
        number = ticket.number if ticket else None
    return appointment_out(ctx, a, hall, svc, number)


async def _by_code(uow: UnitOfWork, raw: str, *, lock: bool = False) -> Appointment:
    code = core.normalise_code(raw)
    a = await repo.by_code(uow.session, code, lock=lock) if core.valid_code(code) else None
    if a is None:
        raise NotFound(
            "no booking has this code; please check it (预约码不存在，请核对)",
            details={"field": "code"},
        )
    return a


async def get(ctx: AppContext, uow: UnitOfWork, code: str) -> AppointmentOut:
    return await _out(ctx, uow, await _by_code(uow, code))


async def find(
    ctx: AppContext, uow: UnitOfWork, hall_code: str, req: FindRequest
) -> list[AppointmentOut]:
    """A resident who lost the code finds their bookings with name + mobile number."""
    hall, config, _off = await _hall_and_offer(uow, hall_code)
    name, phone = _clean_person(req.name, req.phone)
    today = config.service_day(ctx.clock.now())
    rows = await repo.for_person(uow.session, hall.id, person_hash(ctx, name, phone), today)
    return [await _out(ctx, uow, a) for a in rows]


# --- booking ------------------------------------------------------------------------


def _source(who: Principal | None, hall: Hall) -> str:
    if who is None:
        return "phone"
    if who.kind == "device":
        who.require_device(DeviceKind.KIOSK, hall_id=hall.id)
        return "kiosk"
    who.require_role(Role.STAFF, hall.id)
    return "staff"


async def _new_code(uow: UnitOfWork) -> str:
    for _ in range(8):
        code = core.CODE_PREFIX + "".join(
            secrets.choice(core.CODE_ALPHABET) for _ in range(core.CODE_LENGTH)
        )
        if not await repo.code_taken(uow.session, code):
            return code
    raise Conflict("could not allocate a booking code; try again")


async def book(
    ctx: AppContext, uow: UnitOfWork, who: Principal | None, hall_code: str, req: BookRequest
) -> AppointmentOut:
    s = uow.session
    hall, config, off = await _hall_and_offer(uow, hall_code)
    source = _source(who, hall)
    _require_enabled(off)
    svc = await _offered_service(uow, hall, off, req.service)
    name, phone = _clean_person(req.name, req.phone)
    now = ctx.clock.now()
    if req.slot_start.tzinfo is None:
        raise ValidationFailed(
            "slot_start needs a time zone, as listed by GET /slots", details={"field": "slot_start"}
        )
    local_start = req.slot_start.astimezone(config.tz)
    day = local_start.date()
    _check_day(day, config.service_day(now), off)
    match = [
        t
        for t in core.slots_on(config.hours, day, config.tz, off.slot_minutes)
        if t.start == local_start
    ]
    if not match:
        raise NotFound(
            f"there is no slot starting at {local_start:%Y-%m-%d %H:%M} for {svc.name_zh} "
            "(该时段不可预约)",
            details={"field": "slot_start"},
        )
    st = match[0]
    if not core.is_bookable(st.start, now):
        raise SlotPast(
            f"the slot {st.label} has already started (该时段已过，请选择其他时段)",
            details={"field": "slot_start"},
        )
    p_hash = person_hash(ctx, name, phone)
    existing = await repo.active_for_person(s, hall.id, svc.id, day, p_hash)
    if existing is not None:
        raise AlreadyBooked(
            f"this person already has a booking for {svc.name_zh} on {day.isoformat()} "
            f"(您当天已预约该事项，预约码 {existing.code})",
            details={"code": existing.code},
        )
    slot = await repo.ensure_slot(
        s,
        hall_id=hall.id,
        service_id=svc.id,
        day=day,
        start=st.start,
        end=st.end,
        capacity=off.capacity_of(svc.code),
    )
    if slot.closed:
        raise SlotClosed(
            f"the hall has closed this slot: {slot.closed_reason} (该时段已停止预约)",
            details={"reason": slot.closed_reason},
        )
    if not await repo.take_place(s, slot.id):
        raise SlotFull(
            f"the slot {st.label} is full; please choose another (该时段已约满，请选择其他时段)",
            details={"field": "slot_start"},
        )
    code = await _new_code(uow)
    a = Appointment(
        code=code,
        hall_id=hall.id,
        service_id=svc.id,
        slot_id=slot.id,
        day=day,
        slot_start=st.start,
        slot_end=st.end,
        no_show_at=core.no_show_after(st.start, st.end),
        state="booked",
        name_masked=core.mask_name(name),
        phone_masked=core.mask_phone(phone),
        person_hash=p_hash,
        phone_enc=encrypt_phone(ctx, phone, code),
        source=source,
        created_at=now,
        created_by_user_id=who.user_id if who else None,
    )
    s.add(a)
    await s.flush()
    if who is not None and who.kind == "user":
        record(ctx, uow, who, "appointment.book", hall_id=hall.id, target=code)
    return appointment_out(ctx, a, hall, svc)


async def cancel(
    ctx: AppContext, uow: UnitOfWork, who: Principal | None, code: str
) -> AppointmentOut:
    a = await _by_code(uow, code, lock=True)
    if who is not None and who.kind == "user":
        who.require_role(Role.STAFF, a.hall_id)
    if a.state in ("cancelled", "cancelled_by_hall"):
        return await _out(ctx, uow, a)  # cancelling twice is not an error
    if a.state != "booked":
        raise Conflict(
            f"this booking is {a.state} and can no longer be cancelled "
            f"(预约{STATE_LABELS[a.state]}，不能取消)",
            details={"state": a.state},
        )
    a.state = "cancelled"
    a.cancelled_at = ctx.clock.now()
    a.cancel_reason = "本人取消" if who is None else "工作人员取消"
    await repo.give_back_place(uow.session, a.slot_id)
    if who is not None and who.kind == "user":
        record(ctx, uow, who, "appointment.cancel", hall_id=a.hall_id, target=a.code)
    return await _out(ctx, uow, a)


# --- check-in -----------------------------------------------------------------------


async def resolve(
    ctx: AppContext, uow: UnitOfWork, who: Principal, hall_code: str, code: str
) -> tickets_service.AppointmentSlot:
    """Validate a check-in and mark the booking checked in, in the caller's
    transaction (the ticket is issued in the same one)."""
    hall = await halls_repo.get_hall(uow.session, hall_code)
    if who.kind == "device":
        who.require_device(DeviceKind.KIOSK, hall_id=hall.id)
    else:
        who.require_role(Role.STAFF, hall.id)
    a = await _by_code(uow, code, lock=True)
    if a.hall_id != hall.id:
        raise NotFound(
            "this booking is for another hall (该预约不属于本服务厅)", details={"field": "code"}
        )
    svc = await halls_repo.get_service_by_id(uow.session, a.service_id)
    tz = HallConfig.of(hall).tz
    if a.state == "checked_in":
        number = None
        if a.ticket_id is not None:
            ticket = await uow.session.get(Ticket, a.ticket_id)
            number = ticket.number if ticket else None
        raise Conflict(
            f"this booking has already been checked in (已签到，号码 {number or '-'})",
            details={"number": number},
        )
    if a.state in ("cancelled", "cancelled_by_hall"):
        raise Conflict(
            f"this booking was cancelled (预约已取消{'：' + a.cancel_reason if a.cancel_reason else ''})",
            details={"state": a.state},
        )
    now = ctx.clock.now()
    window = core.check_in_window(a.slot_start)
    verdict = window.verdict(now) if a.state == "booked" else core.CheckIn.LATE
    if verdict is core.CheckIn.EARLY:
        opens = window.opens.astimezone(tz)
        raise TooEarly(
            f"too early: check in from {opens:%Y-%m-%d %H:%M} "
            f"(签到时间未到，请于{opens:%m月%d日 %H:%M}后再来签到)",
            details={"opens_at": opens.isoformat(), "come_back_at": f"{opens:%H:%M}"},
        )
    if verdict is core.CheckIn.LATE:
        closes = window.closes.astimezone(tz)
        raise TooLate(
            f"too late: check-in closed at {closes:%H:%M}; please take a normal ticket "
            f"(已超过签到时间{closes:%H:%M}，请取普通号办理)",
            details={
                "closed_at": closes.isoformat(),
                "offer": "normal_ticket",
                "service": svc.code,
            },
        )
    a.state = "checked_in"
    a.checked_in_at = now
    return tickets_service.AppointmentSlot(
        code=a.code, service_code=svc.code, slot_start=a.slot_start, slot_end=a.slot_end
    )


async def link_ticket(uow: UnitOfWork, ticket: Ticket) -> None:
    if not ticket.appointment_code:
        return
    a = await repo.by_ticket_code(uow.session, ticket.hall_id, ticket.appointment_code)
    if a is not None:
        a.ticket_id = ticket.id


# --- the hall's side ----------------------------------------------------------------


def _affected(a: Appointment, svc: Service, tz_hall: Hall) -> AffectedBooking:
    tz = HallConfig.of(tz_hall).tz
    start, end = a.slot_start.astimezone(tz), a.slot_end.astimezone(tz)
    return AffectedBooking(
        code=a.code,
        service=svc.code,
        service_name=svc.name_zh,
        slot_start=start,
        slot_label=f"{start:%H:%M}-{end:%H:%M}",
        name_masked=a.name_masked,
        phone_masked=a.phone_masked,
        source=a.source,
    )


async def close(
    ctx: AppContext, uow: UnitOfWork, who: Principal, hall_code: str, req: CloseRequest
) -> CloseOut:
    """Close one slot or a whole day (training, power cut): no more bookings, and
    the bookings already made are cancelled by the hall and listed so staff can
    telephone the residents (their booking page shows the reason too)."""
    s = uow.session
    hall, config, off = await _hall_and_offer(uow, hall_code)
    who.require_role(Role.ADMIN, hall.id)
    services = (
        [await _offered_service(uow, hall, off, req.service)]
        if req.service
        else await _offered_services(uow, hall, off)
    )
    times = core.slots_on(config.hours, req.date, config.tz, off.slot_minutes)
    if req.slot_start is not None:
        if req.slot_start.tzinfo is None:
            raise ValidationFailed("slot_start needs a time zone", details={"field": "slot_start"})
        wanted = req.slot_start.astimezone(config.tz)
        times = [t for t in times if t.start == wanted]
        if not times or wanted.date() != req.date:
            raise NotFound(
                f"there is no slot starting at {wanted:%Y-%m-%d %H:%M}",
                details={"field": "slot_start"},
            )
    rows: list[AppointmentSlot] = []
    by_id: dict[int, Service] = {}
    for svc in services:
        by_id[svc.id] = svc
        for t in times:
            row = await repo.ensure_slot(
                s,
                hall_id=hall.id,
                service_id=svc.id,
                day=req.date,
                start=t.start,
                end=t.end,
                capacity=off.capacity_of(svc.code),
            )
            row.closed = True
            row.closed_reason = req.reason
            rows.append(row)
    now = ctx.clock.now()
    affected = []
    for a in await repo.booked_in_slots(s, [r.id for r in rows]):
        a.state = "cancelled_by_hall"
        a.cancelled_at = now
        a.cancel_reason = req.reason
        affected.append(_affected(a, by_id[a.service_id], hall))
    for r in rows:
        r.booked = 0
    record(
        ctx,
        uow,
        who,
        "appointment.close",
        hall_id=hall.id,
        target=req.date.isoformat(),
        detail={
            "service": req.service,
            "slot_start": req.slot_start.isoformat() if req.slot_start else None,
            "reason": req.reason,
            "cancelled": [x.code for x in affected],
        },
    )
    return CloseOut(closed_slots=len(rows), cancelled=affected)


async def reveal_phone(ctx: AppContext, uow: UnitOfWork, who: Principal, code: str) -> RevealOut:
    """The full mobile number, for a supervisor who must telephone the resident;
    every reveal is audited."""
    a = await _by_code(uow, code)
    who.require_role(Role.SUPERVISOR, a.hall_id)
    record(ctx, uow, who, "appointment.reveal_phone", hall_id=a.hall_id, target=a.code)
    return RevealOut(
        code=a.code, name_masked=a.name_masked, phone=decrypt_phone(ctx, a.phone_enc, a.code)
    )


async def day_list(
    ctx: AppContext, uow: UnitOfWork, who: Principal, hall_code: str, day: date
) -> list[AppointmentOut]:
    hall = await halls_repo.get_hall(uow.session, hall_code)
    who.require_role(Role.STAFF, hall.id)
    return [await _out(ctx, uow, a) for a in await repo.list_for_day(uow.session, hall.id, day)]


async def get_config(ctx: AppContext, uow: UnitOfWork, who: Principal, hall_code: str) -> ConfigOut:
    hall = await halls_repo.get_hall(uow.session, hall_code)
    who.require_role(Role.SUPERVISOR, hall.id)
    off = await load_offer(uow, hall.id)
    return ConfigOut(
        enabled=off.enabled,
        slot_minutes=off.slot_minutes,
        capacity=off.capacity,
        horizon_days=off.horizon_days,
        services=list(off.services) if off.services is not None else None,
        capacities=dict(off.capacities),
    )


async def put_config(
    ctx: AppContext, uow: UnitOfWork, who: Principal, hall_code: str, body: ConfigIn
) -> ConfigOut:
    from kiosk_server.appointments.models import AppointmentConfig

    s = uow.session
    hall = await halls_repo.get_hall(s, hall_code)
    who.require_role(Role.ADMIN, hall.id)
    known = {x.code for x in await halls_repo.list_services(s, hall.id, enabled_only=False)}
    unknown = sorted((set(body.services or []) | set(body.capacities)) - known)
    if unknown:
        raise ValidationFailed(
            f"unknown item codes: {', '.join(unknown)}", details={"field": "services"}
        )
    if any(v < 0 or v > 100 for v in body.capacities.values()):
        raise ValidationFailed("capacities are 0-100", details={"field": "capacities"})
    row = await repo.get_config(s, hall.id)
    if row is None:
        row = AppointmentConfig(hall_id=hall.id)
        s.add(row)
    row.enabled = body.enabled
    row.slot_minutes = body.slot_minutes
    row.capacity = body.capacity
    row.horizon_days = body.horizon_days
    row.services = body.services
    row.capacities = dict(body.capacities)
    record(ctx, uow, who, "appointment.config", hall_id=hall.id, detail=body.model_dump())
    return ConfigOut(**body.model_dump())


async def stats(
    ctx: AppContext, uow: UnitOfWork, who: Principal, hall_code: str, first: date, last: date
) -> StatsOut:
    hall = await halls_repo.get_hall(uow.session, hall_code)
    who.require_role(Role.SUPERVISOR, hall.id)
    if last < first:
        raise ValidationFailed("'to' is before 'from'", details={"field": "to"})
    if (last - first).days > 366:
        raise ValidationFailed("at most one year at a time", details={"field": "to"})
    days = [
        DayStats(date=d, booked=b, checked_in=c, no_show=n, cancelled=x, cancelled_by_hall=h)
        for d, b, c, n, x, h in await repo.day_counts(uow.session, hall.id, first, last)
    ]
    keys: Sequence[str] = ("booked", "checked_in", "no_show", "cancelled", "cancelled_by_hall")
    totals = {k: sum(int(getattr(d, k)) for d in days) for k in keys}
    return StatsOut(hall=hall.code, days=days, totals=totals)


# --- background -----------------------------------------------------------------------


async def mark_no_shows(ctx: AppContext) -> int:
    """Bookings past the end of their slot without a check-in become no-shows."""
    now = ctx.clock.now()
    async with unit_of_work(ctx.db) as uow:
        rows = await repo.overdue(uow.session, now)
        for a in rows:
            a.state = "no_show"
        return len(rows)


# --- supervisor figures -----------------------------------------------------------------


async def figures(
    ctx: AppContext, uow: UnitOfWork, hall: Hall, start: date, end: date
) -> tuple[str, dict[str, object]]:
    """The supervisor's figures extension: bookings per appointment day. The
    Chinese keys are what the daily/monthly reports print; ``totals`` and
    ``days`` carry the same numbers for the API and the dashboard."""
    rows = await repo.day_counts(uow.session, hall.id, start, end)
    keys = ("booked", "checked_in", "no_show", "cancelled", "cancelled_by_hall")
    days = [dict(zip(("date", *keys), (d.isoformat(), *rest), strict=True)) for d, *rest in rows]
    totals = {k: sum(int(str(x[k])) for x in days) for k in keys}
    # Check-in rate over the bookings that were still due (not cancelled).
    due = totals["checked_in"] + totals["no_show"]
    rate = round(totals["checked_in"] / due, 4) if due else None
    return "appointments", {
        "预约数": totals["booked"],
        "预约签到数": totals["checked_in"],
        "预约未到数": totals["no_show"],
        "预约取消数": totals["cancelled"] + totals["cancelled_by_hall"],
        "预约签到率": rate,
        "totals": {**totals, "check_in_rate": rate},
        "days": days,
    }
