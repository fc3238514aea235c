"""Issuing tickets, reading their status, rating them."""

from __future__ import annotations

import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from kiosk_server.audit.service import record
from kiosk_server.auth.models import User
from kiosk_server.auth.principal import DeviceKind, Principal, Role
from kiosk_server.context import AppContext
from kiosk_server.core.idnumber import InvalidIdNumber, age_band, keyed_hash, parse_id_number
from kiosk_server.core.numbering import MAX_NUMBER, NumbersExhausted, format_number
from kiosk_server.core.states import STATE_LABELS_ZH, Channel, TicketState
from kiosk_server.db.uow import UnitOfWork
from kiosk_server.errors import Conflict, Forbidden, HallClosed, NotFound, ValidationFailed
from kiosk_server.events.service import emit, reserve_seqs, store_rows
from kiosk_server.halls import repository as halls_repo
from kiosk_server.halls.config import HallConfig
from kiosk_server.halls.models import Hall, Service
from kiosk_server.tickets import repository as repo
from kiosk_server.tickets.models import Rating, Ticket
from kiosk_server.tickets.queue import QueueView, load_queue
from kiosk_server.tickets.repository import OpenTicket
from kiosk_server.tickets.schemas import (
    IssueRequest,
    PublicTicketOut,
    RatingOut,
    RatingRequest,
    TicketOut,
)

RATING_LABELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}


@dataclass(frozen=True)
class AppointmentSlot:
    """What the appointments package hands back on check-in."""

    code: str
    service_code: str
    slot_start: datetime
    slot_end: datetime
    id_hash: str | None = None


def status_url(ctx: AppContext, token: str) -> str:
    return f"{ctx.settings.public_base_url.rstrip('/')}/t/{token}"


def minutes(value: float | None) -> int | None:
    return None if value is None else int(math.ceil(value))


def event_data(t: Ticket, service: Service, counter_number: int | None = None) -> dict[str, object]:
    """Display-safe description of a ticket for events: number and counter, nothing personal."""
    return {
        "ticket_id": t.id,
        "number": t.number,
        "service": service.code,
        "service_name": service.name_zh,
        "service_name_en": service.name_en,
        "channel": t.channel,
        "state": t.state,
        "counter": counter_number,
        "recall_count": t.recall_count,
    }


def ticket_out(
    ctx: AppContext,
    t: Ticket,
    service: Service,
    *,
    queue: QueueView | None = None,
    counter_number: int | None = None,
    counter_name: str | None = None,
) -> TicketOut:
    ahead = est = None
    if queue is not None and t.state == TicketState.WAITING.value:
        pos = queue.position(t.id)
        if pos is not None:
            ahead = queue.ahead_of(pos)
            est = minutes(queue.estimates[pos])
    return TicketOut(
        id=t.id,
        number=t.number,
        service=service.code,
        service_name=service.name_zh,
        service_name_en=service.name_en,
        channel=Channel(t.channel),
        state=t.state,
        ahead=ahead,
        estimated_wait_minutes=est,
        issued_at=t.issued_at,
        status_url=status_url(ctx, t.public_token),
        counter=counter_number,
        counter_name=counter_name,
        called_at=t.called_at,
        started_at=t.started_at,
        finished_at=t.finished_at,
        recall_count=t.recall_count,
        outcome=t.outcome,  # type: ignore[arg-type]
        age_band=t.age_band,
        target_minutes=service.target_minutes,
        materials=[str(m) for m in service.materials or []],
    )


def _check_issuer(who: Principal, hall: Hall) -> None:
    if who.kind == "device":
        who.require_device(DeviceKind.KIOSK, hall_id=hall.id)
    else:
        who.require_role(Role.STAFF, hall.id)


@dataclass(frozen=True)
class IssueCommand:
    """One request for a ticket, as the kiosk or a member of staff sent it."""

    who: Principal
    hall_code: str
    req: IssueRequest
    idempotency_key: str | None = None


@dataclass
class Admitted:
    """A ticket inserted in the open transaction (or an earlier one replayed)."""

    command: IssueCommand
    service: Service
    ticket: Ticket
    replayed: bool = False


async def admit(
    ctx: AppContext, uow: UnitOfWork, hall: Hall, services: dict[str, Service], cmd: IssueCommand
) -> Admitted:
    """Check one request and insert its ticket, in a transaction shared with
    other requests (tickets/batch.py). Every refusal comes before the first
    write, so a refused request leaves the transaction as it found it; the
    exceptions are a check-in, whose booking is marked before the item and the
    person are checked (the caller runs those in a savepoint), and numbers
    exhausted, found when the day's counter has already moved past 999 (no
    loss). The hall row is already locked (PostgreSQL; SQLite's BEGIN IMMEDIATE
    already serializes): the duplicate-person and idempotency checks must see a
    concurrent issue's ticket, and counter actions take the same lock first."""
    s = uow.session
    who, req, idempotency_key = cmd.who, cmd.req, cmd.idempotency_key
    now = ctx.clock.now()
    _check_issuer(who, hall)
    config = HallConfig.of(hall)

    if idempotency_key:
        previous = await repo.by_idempotency_key(s, hall.id, idempotency_key)
        if previous is not None:
            prev_service = await halls_repo.get_service_by_id(s, previous.service_id)
            return Admitted(cmd, prev_service, previous, replayed=True)

    appointment: AppointmentSlot | None = None
    if req.appointment_code:
        resolver = ctx.extras.get("appointment_resolver")
        if resolver is None:
            raise NotFound("appointments are not enabled in this hall")
        appointment = await resolver(ctx, uow, who, hall.code, req.appointment_code)

    service_code = appointment.service_code if appointment else req.service
    if service_code is None:  # the schema lets it out only beside an appointment code
        raise ValidationFailed(
            "name the service item (service), or give an appointment_code",
            details={"field": "service"},
        )
    service = services.get(service_code)
    if service is None or not service.enabled:
        names = ", ".join(x.code for x in services.values() if x.enabled)
        raise NotFound(
            f"this hall has no service item {service_code!r}; available: {names}",
            details={"field": "service"},
        )

    local = config.local(now)
    # A booked resident may check in up to 30 minutes before the slot, which for
    # the first slot of a session is before the doors open: the booking, already
    # checked against its window, lets them in.
    if who.kind == "device" and appointment is None and not config.hours.is_open(local):
        opens = config.hours.next_opening(local)
        when = f"{opens:%m月%d日 %H:%M}" if opens else "另行通知"
        raise HallClosed(
            f"the hall is closed now; it opens at {opens:%Y-%m-%d %H:%M} (本厅现在不办理业务，"
            f"开放时间：{when})"
            if opens
            else "the hall is closed now (本厅现在不办理业务)",
            details={"opens_at": opens.isoformat() if opens else None},
        )

    channel = Channel(req.channel) if req.channel else Channel.NORMAL
    id_hash = appointment.id_hash if appointment else None
    band = None
    if req.id_number:
        try:
            idn = parse_id_number(req.id_number, today=local.date())
        except InvalidIdNumber as exc:
            raise ValidationFailed(str(exc), details={"field": "id_number"}) from None
        age = idn.age_on(local.date())
        band = age_band(age)
        id_hash = keyed_hash(ctx.settings.secret_key, idn.value)
        if age >= config.elderly_age and channel is Channel.NORMAL:
            channel = Channel.GREEN
    if appointment is not None:
        channel = Channel.APPOINTMENT

    day = local.date()
    if id_hash is not None:
        existing = await repo.open_ticket_for_person(s, hall.id, day, service.id, id_hash)
        if existing is not None:
            raise Conflict(
                f"this person already holds ticket {existing.number} for {service.name_zh} "
                f"today (您已取号 {existing.number}，请留意叫号)",
                details={"number": existing.number},
            )

    n = await repo.take_number(s, hall.id, day, service.prefix)
    if n > MAX_NUMBER:
        raise Conflict(str(NumbersExhausted(service.prefix)))
    ticket = Ticket(
        hall_id=hall.id,
        service_day=day,
        prefix=service.prefix,
        seq_number=n,
        number=format_number(service.prefix, n),
        service_id=service.id,
        channel=channel.value,
        state=TicketState.WAITING.value,
        issued_at=now,
        order_at=now,
        public_token=secrets.token_urlsafe(16),
        idempotency_key=idempotency_key,
        id_hash=id_hash,
        age_band=band,
        slot_start=appointment.slot_start if appointment else None,
        slot_end=appointment.slot_end if appointment else None,
        appointment_code=appointment.code if appointment else None,
        issued_by_device_id=who.device_id,
        issued_by_user_id=who.user_id,
        recall_count=0,
        overtime_notified=False,
    )
    # The last step: a unique-index clash (a race with another process) surfaces
    # here, after every check.
    await repo.insert_ticket(s, ticket)
    return Admitted(cmd, service, ticket)


async def announce(
    ctx: AppContext,
    hall: Hall,
    services: dict[str, Service],
    admitted: list[tuple[UnitOfWork, Admitted]],
    open_rows: Sequence[OpenTicket] | None = None,
) -> list[TicketOut]:
    """Estimate, announce and hand to the hooks every ticket admitted in this
    transaction: one queue load for all of them, their events numbered as one
    block. Each ticket's estimate counts the whole queue as it will be committed
    (a green ticket admitted just after a normal one is ahead of it, and its wait
    includes it). Each request's side effects go to its own unit of work."""
    if not admitted:
        return []
    uow = admitted[0][0]
    now = ctx.clock.now()
    queue = await load_queue(ctx, uow.session, hall, now, list(services.values()), open_rows)
    fresh = [a for _, a in admitted if not a.replayed]
    seq = await reserve_seqs(uow, hall.id, len(fresh)) if fresh else 0
    later = len(fresh)
    outs: list[TicketOut] = []
    events: list[dict[str, object]] = []
    estimates: list[dict[str, object]] = []
    for part, a in admitted:
        ticket, service, who = a.ticket, a.service, a.command.who
        out = ticket_out(ctx, ticket, service, queue=queue)
        outs.append(out)
        if a.replayed:
            out.replayed = True
            continue
        later -= 1
        ticket.ahead_at_issue = out.ahead
        ticket.estimate_at_issue = (
            float(out.estimated_wait_minutes) if out.estimated_wait_minutes is not None else None
        )
        estimates.append(
            {"ticket_id": ticket.id, "estimate": ticket.estimate_at_issue, "ahead": out.ahead}
        )
        data = event_data(ticket, service)
        # The queue's length as this ticket joined it, not counting those after it.
        data["waiting"] = len(queue.ordered) - later
        await emit(
            ctx,
            part,
            hall.id,
            hall.code,
            "ticket.issued",
            data,
            ticket.issued_at,
            seq=seq,
            rows=events,
        )
        seq += 1
        if who.kind == "user":
            record(ctx, part, who, "ticket.issue", hall_id=hall.id, target=ticket.number)
        for hook in ctx.hooks.after_issue:
            await hook(part, (hall, service, ticket, out))
        channel = ticket.channel

        async def _count(channel: str = channel) -> None:
            ctx.metrics.tickets_issued.labels(hall.code, channel).inc()

        part.after_commit(_count)
    await repo.record_estimates(uow.session, estimates)
    await store_rows(uow, events)
    return outs


async def _follow_transfers(uow: UnitOfWork, ticket: Ticket) -> Ticket:
    for _ in range(20):
        if ticket.state != TicketState.TRANSFERRED.value:
            break
        nxt = await repo.successor(uow.session, ticket.id)
        if nxt is None:
            break
        ticket = nxt
    return ticket


async def public_status(ctx: AppContext, uow: UnitOfWork, token: str) -> PublicTicketOut:
    s = uow.session
    ticket = await repo.by_token(s, token)
    if ticket is None:
        raise NotFound("no ticket has this link; it may be mistyped or from another hall")
    ticket = await _follow_transfers(uow, ticket)
    hall = await halls_repo.get_hall_by_id(s, ticket.hall_id)
    service = await halls_repo.get_service_by_id(s, ticket.service_id)
    now = ctx.clock.now()
    queue = await load_queue(ctx, s, hall, now) if ticket.state == "waiting" else None
    out = ticket_out(ctx, ticket, service, queue=queue)
    counter_number = None
    if ticket.counter_id is not None:
        counter_number = (await halls_repo.get_counter(s, ticket.counter_id)).number
    rated = await repo.rating_for(s, ticket.id) is not None
    return PublicTicketOut(
        number=ticket.number,
        hall=hall.code,
        hall_name=hall.name,
        service=service.code,
        service_name=service.name_zh,
        channel=Channel(ticket.channel),
        state=ticket.state,
        state_label=STATE_LABELS_ZH[TicketState(ticket.state)],
        ahead=out.ahead,
        estimated_wait_minutes=out.estimated_wait_minutes,
        issued_at=ticket.issued_at,
        counter=counter_number,
        called_at=ticket.called_at,
        rated=rated,
        can_rate=ticket.state == TicketState.DONE.value and not rated,
        hotline=hall.hotline,
    )


async def get_ticket(ctx: AppContext, uow: UnitOfWork, who: Principal, ticket_id: int) -> TicketOut:
    s = uow.session
    ticket = await repo.by_id(s, ticket_id)
    if ticket is None:
        raise NotFound(f"there is no ticket with id {ticket_id}")
    who.require_role(Role.STAFF, ticket.hall_id)
    hall = await halls_repo.get_hall_by_id(s, ticket.hall_id)
    service = await halls_repo.get_service_by_id(s, ticket.service_id)
    queue = await load_queue(ctx, s, hall, ctx.clock.now())
    number = None
    if ticket.counter_id:
        number = (await halls_repo.get_counter(s, ticket.counter_id)).number
    out = ticket_out(ctx, ticket, service, queue=queue, counter_number=number)
    if ticket.served_by_id is not None:
        # Accounts are deactivated, never deleted: the name stays on the record.
        user = await s.get(User, ticket.served_by_id)
        out.served_by = (user.display_name or user.username) if user else None
    return out


async def cancel(ctx: AppContext, uow: UnitOfWork, who: Principal, ticket_id: int) -> TicketOut:
    """A resident gives up (or took a wrong ticket): staff cancel a waiting or held ticket."""
    from kiosk_server.core.states import Action, TransitionError, next_state
    from kiosk_server.errors import InvalidTransition

    s = uow.session
    ticket = await repo.by_id(s, ticket_id)
    if ticket is None:
        raise NotFound(f"there is no ticket with id {ticket_id}")
    who.require_role(Role.STAFF, ticket.hall_id)
    try:
        target = next_state(TicketState(ticket.state), Action.CANCEL)
    except TransitionError as exc:
        raise InvalidTransition(
            f"ticket {ticket.number}: {exc}",
            details={"state": ticket.state, "allowed": [a.value for a in exc.allowed]},
        ) from None
    if not await repo.claim(
        s,
        ticket.id,
        TicketState(ticket.state),
        {"state": target.value, "finished_at": ctx.clock.now()},
    ):
        raise Conflict(f"ticket {ticket.number} changed meanwhile; reload and try again")
    await s.refresh(ticket)
    hall = await halls_repo.get_hall_by_id(s, ticket.hall_id)
    service = await halls_repo.get_service_by_id(s, ticket.service_id)
    await emit(ctx, uow, hall.id, hall.code, "ticket.cancelled", event_data(ticket, service))
    record(ctx, uow, who, "ticket.cancel", hall_id=hall.id, target=ticket.number)
    return ticket_out(ctx, ticket, service)


async def rate(
    ctx: AppContext, uow: UnitOfWork, who: Principal | None, ref: str, req: RatingRequest
) -> RatingOut:
    """Rate a finished ticket: by id (rating pad / staff) or by its public token (phone)."""
    s = uow.session
    if ref.isdigit():
        if who is None:
            raise Forbidden("rating by ticket id needs a rating-pad device token")
        ticket = await repo.by_id(s, int(ref))
        if ticket is None:
            raise NotFound(f"there is no ticket with id {ref}")
        if who.kind == "device":
            who.require_device(DeviceKind.RATING_PAD, DeviceKind.KEYPAD, hall_id=ticket.hall_id)
            # A pad sits in front of one counter: it rates that counter's service only.
            if who.device_counter_id is not None and who.device_counter_id != ticket.counter_id:
                raise Forbidden(
                    f"ticket {ticket.number} was served at another counter; "
                    "this rating pad rates its own counter's tickets"
                )
            source = "pad"
        else:
            # Staff may not rate on a resident's behalf; supervisors may enter a
            # paper rating.
            who.require_role(Role.SUPERVISOR, ticket.hall_id)
            source = "paper"
    else:
        ticket = await repo.by_token(s, ref)
        if ticket is None:
            raise NotFound("no ticket has this link")
        ticket = await _follow_transfers(uow, ticket)
        source = "phone"
    if ticket.state != TicketState.DONE.value:
        raise Conflict(
            f"ticket {ticket.number} is {ticket.state}; only a finished transaction can be rated"
        )
    if await repo.rating_for(s, ticket.id) is not None:
        raise Conflict(f"ticket {ticket.number} has already been rated (每次办理只评价一次)")
    now = ctx.clock.now()
    rating = Rating(
        ticket_id=ticket.id,
        hall_id=ticket.hall_id,
        score=req.score,
        reason=req.reason,
        source=source,
        counter_id=ticket.counter_id,
        staff_user_id=ticket.served_by_id,
        created_at=now,
    )
    s.add(rating)
    await s.flush()
    hall = await halls_repo.get_hall_by_id(s, ticket.hall_id)
    counter_number = None
    if ticket.counter_id:
        counter_number = (await halls_repo.get_counter(s, ticket.counter_id)).number
    data: dict[str, object] = {
        "ticket_id": ticket.id,
        "number": ticket.number,
        "score": req.score,
        "counter": counter_number,
    }
    # Hooks (a bad rating opens a follow-up) add to this one event rather than
    # emit their own: public screens see each rating as one seq placeholder,
    # so a bad one cannot be told from a good one by counting them.
    for hook in ctx.hooks.after_rating:
        await hook(uow, (hall, ticket, rating, data))
    await emit(ctx, uow, hall.id, hall.code, "rating.created", data, now)
    return RatingOut(
        ticket_id=ticket.id,
        score=rating.score,
        label=RATING_LABELS[rating.score],
        reason=rating.reason,
        created_at=now,
    )
